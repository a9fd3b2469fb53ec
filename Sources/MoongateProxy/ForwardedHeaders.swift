import MoongateCore
import NIOHTTP1

/// Header rules for a proxied exchange.
///
/// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are removed in
/// both directions, together with every header the `Connection` header names.
/// `X-Forwarded-For` is appended to (as nginx, Envoy and Kong do); `X-Forwarded-Proto`
/// and `X-Forwarded-Host` are believed only from `trusted_proxies`; `Via` is added.
enum ForwardedHeaders {
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade",
        // Credentials for the proxy itself are consumed here, not passed on.
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Removes hop-by-hop headers and the ones named in `Connection`.
    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        var named: [String] = []
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                named.append(token.trimmingSpaces().lowercased())
            }
        }
        for name in hopByHop { headers.remove(name: name) }
        for name in named where !name.isEmpty { headers.remove(name: name) }
    }

    /// The client as `trusted_proxies` lets us believe it (SPEC §2): walking
    /// X-Forwarded-For from the nearest hop, the first address that is not a trusted
    /// proxy (the farthest one when every hop is trusted). Only called when the peer
    /// itself is trusted.
    static func forwardedClient(_ headers: HTTPHeaders, peer: String, isTrusted: (String) -> Bool) -> String {
        let hops = headers["x-forwarded-for"].flatMap { $0.split(separator: ",") }.map { String($0.trimmingSpaces()) }
            .filter { !$0.isEmpty }
        for hop in hops.reversed() where !isTrusted(hop) { return hop }
        return hops.first ?? peer
    }

    /// Rewrites the client's headers into the upstream request's headers.
    static func upstreamRequestHeaders(
        from client: HTTPHeaders, clientIP: String?, peerIsTrusted: Bool, host: String, scheme: String
    ) -> HTTPHeaders {
        var headers = client
        let clientHost = client.first(name: "host") ?? ""
        removeHopByHop(&headers)
        if let clientIP {
            let previous = headers["x-forwarded-for"].joined(separator: ", ")
            headers.replaceOrAdd(name: "x-forwarded-for", value: previous.isEmpty ? clientIP : "\(previous), \(clientIP)")
        }
        if !peerIsTrusted || !headers.contains(name: "x-forwarded-proto") {
            headers.replaceOrAdd(name: "x-forwarded-proto", value: scheme)
        }
        if !peerIsTrusted || !headers.contains(name: "x-forwarded-host") {
            headers.replaceOrAdd(name: "x-forwarded-host", value: clientHost)
        }
        appendVia(&headers, version: "1.1")
        headers.replaceOrAdd(name: "host", value: host)
        return headers
    }

    static func appendVia(_ headers: inout HTTPHeaders, version: String) {
        let previous = headers["via"].joined(separator: ", ")
        let entry = "\(version) moongate"
        headers.replaceOrAdd(name: "via", value: previous.isEmpty ? entry : "\(previous), \(entry)")
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}

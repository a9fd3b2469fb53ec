import MoongateCore
import NIOHTTP1

/// Header rules for a proxied exchange.
///
/// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are removed in
/// both directions, together with every header the `Connection` header names.
/// `X-Forwarded-For` is appended to (as nginx, Envoy and Kong do); `X-Forwarded-Proto`
/// and `X-Forwarded-Host` are believed only from `trusted_proxies`; `Via` is added.
enum ForwardedHeaders {
    /// Removes hop-by-hop headers and `named` (the message's `Connection` tokens, as
    /// its parser noted them), in one pass over the headers when there is any.
    static func removeHopByHop(_ headers: inout HTTPHeaders, named: [Substring]) {
        guard headers.contains(where: { isHopByHop($0.name) || isNamed($0.name, in: named) }) else { return }
        // Built as an array: HTTPHeaders.add scans every name it is given again.
        var kept: [(String, String)] = []
        kept.reserveCapacity(headers.count)
        for (name, value) in headers where !isHopByHop(name) && !isNamed(name, in: named) {
            kept.append((name, value))
        }
        headers = HTTPHeaders(kept)
    }

    /// Hop-by-hop by RFC 9110 §7.6.1, plus the proxy's own credentials (consumed here,
    /// not passed on). Compared as ASCII bytes, without allocating.
    static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2: return name.equalsIgnoringASCIICase("te")
        case 7: return name.equalsIgnoringASCIICase("upgrade")
        case 10: return name.equalsIgnoringASCIICase("connection") || name.equalsIgnoringASCIICase("keep-alive")
        case 16: return name.equalsIgnoringASCIICase("proxy-connection")
        case 17: return name.equalsIgnoringASCIICase("transfer-encoding")
        case 18: return name.equalsIgnoringASCIICase("proxy-authenticate")
        case 19: return name.equalsIgnoringASCIICase("proxy-authorization")
        default: return false
        }
    }

    /// Whether a message's connection stays open after it (RFC 9112 §9.3): HTTP/1.1
    /// unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`. NIO's
    /// `isKeepAlive` scans and lowercases the headers again for every response whose
    /// headers it did not parse itself (a visible cost per request).
    static func isKeepAlive(connectionTokens tokens: [Substring], version: HTTPVersion) -> Bool {
        if version.major == 1 && version.minor >= 1 { return !tokens.contains { $0.equalsIgnoringASCIICase("close") } }
        return tokens.contains { $0.equalsIgnoringASCIICase("keep-alive") }
    }

    /// The tokens listed in `Connection` fields (their `values`), as written.
    static func connectionTokens(_ values: [String]) -> [Substring] {
        var named: [Substring] = []
        for value in values {
            // Split and trimmed as bytes (Character-wise splitting was a visible cost).
            for token in value.utf8.split(separator: UInt8(ascii: ",")) {
                var bytes = token
                while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { bytes = bytes.dropFirst() }
                while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes = bytes.dropLast() }
                if !bytes.isEmpty { named.append(Substring(bytes)) }
            }
        }
        return named
    }

    private static func isNamed(_ name: String, in named: [Substring]) -> Bool {
        named.contains { name.equalsIgnoringASCIICase($0) }
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

    /// Rewrites the client's headers into the upstream request's headers, in one pass:
    /// hop-by-hop headers go, and so does the client's framing (`Content-Length`,
    /// `Transfer-Encoding`) and `Expect`, which the gateway sets or answers itself;
    /// `X-Forwarded-*`, `Via` and `Host` are rewritten.
    /// `named` are the client's `Connection` tokens.
    static func upstreamRequestHeaders(
        from client: HTTPHeaders, named: [Substring], clientIP: String?, peerIsTrusted: Bool, host: String, scheme: String
    ) -> HTTPHeaders {
        // Built as an array: HTTPHeaders.add scans every name it is given again.
        var headers: [(String, String)] = []
        headers.reserveCapacity(client.count + 5)
        var clientHost: String?
        var forwardedFor: String?
        var forwardedProto: String?
        var forwardedHost: String?
        var via: String?
        for (name, value) in client {
            // The client's Host is what X-Forwarded-Host reports, even when Connection names it.
            if name.utf8.count == 4 && name.equalsIgnoringASCIICase("host") {
                if clientHost == nil { clientHost = value }
                continue
            }
            if isHopByHop(name) || isNamed(name, in: named) { continue }
            switch name.utf8.count {
            case 3 where name.equalsIgnoringASCIICase("via"):
                via = via.map { "\($0), \(value)" } ?? value
                continue
            case 6 where name.equalsIgnoringASCIICase("expect"),
                14 where name.equalsIgnoringASCIICase("content-length"):
                continue
            case 15 where name.equalsIgnoringASCIICase("x-forwarded-for"):
                forwardedFor = forwardedFor.map { "\($0), \(value)" } ?? value
                continue
            case 17 where name.equalsIgnoringASCIICase("x-forwarded-proto"):
                if forwardedProto == nil { forwardedProto = value }
                continue
            case 16 where name.equalsIgnoringASCIICase("x-forwarded-host"):
                if forwardedHost == nil { forwardedHost = value }
                continue
            default:
                headers.append((name, value))
            }
        }
        if let clientIP {
            headers.append(("x-forwarded-for", forwardedFor.map { "\($0), \(clientIP)" } ?? clientIP))
        } else if let forwardedFor {
            headers.append(("x-forwarded-for", forwardedFor))
        }
        headers.append(("x-forwarded-proto", peerIsTrusted ? forwardedProto ?? scheme : scheme))
        headers.append(("x-forwarded-host", peerIsTrusted ? forwardedHost ?? clientHost ?? "" : clientHost ?? ""))
        headers.append(("via", via.map { "\($0), 1.1 moongate" } ?? "1.1 moongate"))
        headers.append(("host", host))
        return HTTPHeaders(headers)
    }

    /// Adds this hop to `Via`, naming the version of the message received.
    static func appendVia(_ headers: inout HTTPHeaders, receivedVersion version: HTTPVersion) {
        // The usual entries are constants: an interpolated string per response showed.
        let entry =
            version == .http1_1 ? "1.1 moongate" : version == .http1_0 ? "1.0 moongate" : "\(version.major).\(version.minor) moongate"
        guard headers.contains(name: "via") else { return headers.add(name: "via", value: entry) }
        let previous = headers["via"].joined(separator: ", ")
        headers.replaceOrAdd(name: "via", value: "\(previous), \(entry)")
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

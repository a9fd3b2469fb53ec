import NIOHTTP1

/// Request-smuggling defences on a parsed request head (RFC 9112 §6). The HTTP parser
/// already refuses invalid chunked framing, obs-fold and invalid header names; these
/// are the cases a parser may let through and a proxy must not forward.
enum RequestFraming {
    enum Verdict: Equatable {
        case ok(contentLength: Int?)
        case reject(GatewayError)
    }

    static func check(_ head: HTTPRequestHead, maxHeaderBytes: Int, maxBodyBytes: Int) -> Verdict {
        var headerBytes = head.uri.utf8.count + 16
        for (name, value) in head.headers { headerBytes += name.utf8.count + value.utf8.count + 4 }
        if headerBytes > maxHeaderBytes { return .reject(.headersTooLarge) }

        let transferEncodings = head.headers["transfer-encoding"]
        let lengths = head.headers["content-length"].flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces() }
        if !transferEncodings.isEmpty && !lengths.isEmpty {
            return .reject(.badRequest("both Content-Length and Transfer-Encoding are present"))
        }
        // NIO's client codec strips the framing of a TRACE request, so its body would
        // reach the upstream unframed (RFC 9110 §9.3.8: TRACE has no content).
        if head.method == .TRACE && (!transferEncodings.isEmpty || lengths.contains { $0 != "0" }) {
            return .reject(.badRequest("TRACE requests cannot have content"))
        }
        if !transferEncodings.isEmpty {
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
            guard codings.last == "chunked", codings.filter({ $0 == "chunked" }).count == 1 else {
                return .reject(.badRequest("Transfer-Encoding must end with a single 'chunked'"))
            }
            if head.version.major == 1 && head.version.minor == 0 {
                return .reject(.badRequest("Transfer-Encoding is not allowed in HTTP/1.0"))
            }
            return .ok(contentLength: nil)
        }
        guard let first = lengths.first else { return .ok(contentLength: nil) }
        guard lengths.allSatisfy({ $0 == first }) else { return .reject(.badRequest("differing Content-Length values")) }
        guard !first.isEmpty, first.allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(first) else {
            return .reject(.badRequest("invalid Content-Length"))
        }
        if length > maxBodyBytes { return .reject(.bodyTooLarge) }
        return .ok(contentLength: length)
    }
}

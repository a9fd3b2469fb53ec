import MoongateCore
import NIOHTTP1

/// How a request's body is framed (RFC 9112 §6), with the request-smuggling defences:
/// the framing patterns that parsers disagree on are refused rather than guessed at.
/// Decided once, by the request parser, from the Content-Length and
/// Transfer-Encoding values it noted while reading the head.
enum RequestFraming: Equatable {
    /// No Content-Length and no Transfer-Encoding.
    case noBody
    /// A Content-Length (which may be 0).
    case length(Int)
    case chunked
    /// The request is refused with this error (400), and nothing after its head is
    /// parsed: where its body ends is not known.
    case reject(GatewayError)

    static func decide(
        method: HTTPMethod, version: HTTPVersion, contentLengths: [String], transferEncodings: [String]
    ) -> RequestFraming {
        if !transferEncodings.isEmpty && !contentLengths.isEmpty {
            return .reject(.badRequest("both Content-Length and Transfer-Encoding are present"))
        }
        // The upstream codec would strip the framing of a TRACE request, so its body
        // would reach the upstream unframed (RFC 9110 §9.3.8: TRACE has no content).
        if method == .TRACE
            && (!transferEncodings.isEmpty
                || contentLengths.contains { $0.split(separator: ",", omittingEmptySubsequences: false).contains { $0.trimmingSpaces() != "0" } })
        {
            return .reject(.badRequest("TRACE requests cannot have content"))
        }
        if !transferEncodings.isEmpty {
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
            guard codings.last == "chunked", codings.filter({ $0 == "chunked" }).count == 1 else {
                return .reject(.badRequest("Transfer-Encoding must end with a single 'chunked'"))
            }
            if version.major == 1 && version.minor == 0 {
                return .reject(.badRequest("Transfer-Encoding is not allowed in HTTP/1.0"))
            }
            return .chunked
        }
        switch HTTP1Syntax.contentLength(contentLengths) {
        case .absent: return .noBody
        case .length(let length, _): return .length(length)
        case .differing: return .reject(.badRequest("differing Content-Length values"))
        case .invalid: return .reject(.badRequest("invalid Content-Length"))
        }
    }

    /// The declared Content-Length, if there was one.
    var contentLength: Int? {
        if case .length(let length) = self { return length }
        return nil
    }
}

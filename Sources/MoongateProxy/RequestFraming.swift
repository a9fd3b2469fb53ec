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
        let lengths = contentLengths.count == 1 && !contentLengths[0].utf8.contains(UInt8(ascii: ","))
            ? [Substring(contentLengths[0])]
            : contentLengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { $0.trimmingSpaces() }
        // The upstream codec would strip the framing of a TRACE request, so its body
        // would reach the upstream unframed (RFC 9110 §9.3.8: TRACE has no content).
        if method == .TRACE && (!transferEncodings.isEmpty || lengths.contains { $0 != "0" }) {
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
        guard let first = lengths.first else { return .noBody }
        guard lengths.allSatisfy({ $0 == first }) else { return .reject(.badRequest("differing Content-Length values")) }
        guard !first.isEmpty, first.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let length = Int(first)
        else {
            return .reject(.badRequest("invalid Content-Length"))
        }
        return .length(length)
    }

    /// The declared Content-Length, if there was one.
    var contentLength: Int? {
        if case .length(let length) = self { return length }
        return nil
    }
}

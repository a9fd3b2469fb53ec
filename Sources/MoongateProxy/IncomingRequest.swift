import NIOHTTP1

/// The parts of a request head the proxy works with.
struct IncomingRequest {
    let head: HTTPRequestHead
    /// Normalised.
    let path: String
    let query: String?
    /// Normalised, without port.
    let host: String
    /// How its body is framed (never `.reject`: refused requests are not proxied).
    let framing: RequestFraming
    /// Its `Connection` tokens.
    let connectionTokens: [Substring]

    var contentLength: Int? { framing.contentLength }
    var isChunked: Bool { framing == .chunked }
    var hasBody: Bool { (contentLength ?? 0) > 0 || isChunked }
    var expectsContinue: Bool {
        head.version == .http1_1 && head.headers["expect"].contains { $0.equalsIgnoringASCIICase("100-continue") }
    }
}

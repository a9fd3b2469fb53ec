import NIOHTTP1

/// The parts of a request head the proxy works with.
struct IncomingRequest {
    let head: HTTPRequestHead
    /// Normalised.
    let path: String
    let query: String?
    /// Normalised, without port.
    let host: String
    let contentLength: Int?
    /// Chunked.
    let hasTransferEncoding: Bool
    /// Its `Connection` tokens.
    let connectionTokens: [Substring]

    var hasBody: Bool { (contentLength ?? 0) > 0 || hasTransferEncoding }
    var expectsContinue: Bool {
        head.version == .http1_1 && head.headers["expect"].contains { $0.equalsIgnoringASCIICase("100-continue") }
    }
}

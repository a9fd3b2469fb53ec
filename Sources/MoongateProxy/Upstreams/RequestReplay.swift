import NIOCore
import NIOHTTP1

/// The request body as the client sent it, kept so a retry can send it again. Bodies
/// over `limit` are not kept (a retry then is possible only before the first try
/// reached an upstream), so retries never hold big uploads in memory.
struct RequestReplay {
    /// Envoy keeps 16 KiB by default, nginx retries only what it buffered; 64 KiB
    /// covers typical API bodies.
    static let defaultLimit = 64 * 1024

    private(set) var bodyParts: [HTTPClientRequestPart] = []
    private(set) var isComplete = true
    private var bytes = 0
    private let limit: Int

    init(limit: Int = RequestReplay.defaultLimit) {
        self.limit = limit
    }

    mutating func record(_ part: HTTPClientRequestPart) {
        guard isComplete else { return }
        if case .body(.byteBuffer(let buffer)) = part {
            bytes += buffer.readableBytes
            if bytes > limit {
                isComplete = false
                bodyParts = []
                return
            }
        }
        bodyParts.append(part)
    }

    mutating func record(contentsOf parts: some Sequence<HTTPClientRequestPart>) {
        for part in parts { record(part) }
    }
}

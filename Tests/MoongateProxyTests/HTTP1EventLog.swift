import NIOCore
import NIOHTTP1

@testable import MoongateProxy

/// The events of an HTTP/1.1 parser as text lines, for the parser tests: body slices
/// of one message are joined, fields render as `name=value`.
struct HTTP1EventLog<Head> {
    private(set) var lines: [String] = []
    /// The head's line, after "head ".
    let renderHead: (Head) -> String

    mutating func record(_ event: HTTP1Event<Head>) {
        switch event {
        case .head(let head):
            lines.append("head " + renderHead(head))
        case .body(let bytes):
            if let last = lines.last, last.hasPrefix("body ") {
                lines[lines.count - 1] = last + String(buffer: bytes)
            } else {
                lines.append("body " + String(buffer: bytes))
            }
        case .end(let trailers):
            lines.append("end" + (trailers.map { " " + Self.fields($0) } ?? ""))
        }
    }

    static func fields(_ headers: HTTPHeaders) -> String {
        headers.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    }

    /// `wire` cut into buffers of `step` bytes (one buffer when nil), as reads deliver it.
    static func pieces(_ wire: String, step: Int?) -> [ByteBuffer] {
        let bytes = Array(wire.utf8)
        let size = step ?? max(bytes.count, 1)
        return stride(from: 0, to: bytes.count, by: size).map { ByteBuffer(bytes: bytes[$0..<min($0 + size, bytes.count)]) }
    }
}

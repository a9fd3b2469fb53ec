import NIOCore
import NIOHTTP1

/// Encodes the requests sent on one upstream connection (in place of NIO's
/// `HTTPRequestEncoder`), with the framing rules NIO applies: TRACE carries no content
/// (the request's framing is removed; `RequestFraming` refuses TRACE with a body);
/// POST, PUT and PATCH without `Content-Length` get a chunked body; for other methods
/// a `Content-Length` wins over `Transfer-Encoding`, and the body is chunked only when
/// `Transfer-Encoding: chunked` says so. Requests go up as HTTP/1.1, whatever the
/// client spoke.
struct UpstreamRequestWriter {
    private var message: HTTPMessageWriter

    init(allocator: ByteBufferAllocator) {
        message = HTTPMessageWriter(allocator: allocator)
    }

    var pendingBytes: Int { message.pendingBytes }

    mutating func head(_ head: HTTPRequestHead) {
        var headers = head.headers
        var chunked = false
        switch head.method {
        case .TRACE:
            headers.remove(name: "content-length")
            headers.remove(name: "transfer-encoding")
        case _ where headers.contains(name: "content-length"):
            headers.remove(name: "transfer-encoding")
        case .POST, .PUT, .PATCH:
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            chunked = true
        default:
            chunked = headers.first(name: "transfer-encoding") == "chunked"
        }
        message.writeRequestLine(method: head.method, uri: head.uri)
        message.writeHeaders(headers, chunked: chunked, dropsBody: false)
    }

    /// Adds body bytes; a large buffer goes to `write` by itself (see HTTPMessageWriter).
    mutating func body(_ buffer: ByteBuffer, write: (ByteBuffer) -> Void) {
        message.body(buffer, write: write)
    }

    mutating func end(_ trailers: HTTPHeaders?) {
        message.end(trailers)
    }

    mutating func takePending() -> ByteBuffer? {
        message.takePending()
    }
}

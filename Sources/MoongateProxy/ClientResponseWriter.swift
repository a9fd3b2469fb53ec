import NIOCore
import NIOHTTP1

/// Encodes the responses of one client connection (in place of NIO's
/// `HTTPResponseEncoder`), with the framing rules NIO applies (RFC 9112 §6): a status
/// without content (1xx, 204, 304) loses `Content-Length` and `Transfer-Encoding`;
/// otherwise a `Content-Length` wins over `Transfer-Encoding`; without either, an
/// HTTP/1.1 client gets a chunked body and an HTTP/1.0 client a body delimited by the
/// close (the proxy closes such responses). A response to HEAD keeps the headers an
/// equivalent GET would have, and any body given to it is dropped.
struct ClientResponseWriter {
    static var copyLimit: Int { HTTPMessageWriter.copyLimit }

    private var message: HTTPMessageWriter
    /// The method of the request being answered decides whether a body may follow
    /// (reset when a response ends).
    var answeringHead = false

    init(allocator: ByteBufferAllocator) {
        message = HTTPMessageWriter(allocator: allocator)
    }

    var pendingBytes: Int { message.pendingBytes }

    /// Encodes a response head, fixing its framing headers as described above.
    mutating func head(_ head: HTTPResponseHead) {
        var headers = head.headers
        let code = head.status.code
        var chunked = false
        if code >= 100 && code < 200 && code != 101 {
            // Interim: no body, no framing, and the final head is still to come.
        } else if !head.status.mayHaveResponseBody {
            headers.remove(name: "content-length")
            headers.remove(name: "transfer-encoding")
        } else if headers.contains(name: "content-length") {
            headers.remove(name: "transfer-encoding")
        } else if head.version.major == 1 && head.version.minor >= 1 {
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            chunked = true
        }
        message.writeStatusLine(version: head.version, status: head.status)
        message.writeHeaders(headers, chunked: chunked, dropsBody: answeringHead || !head.status.mayHaveResponseBody)
    }

    /// Adds body bytes; a large buffer goes to `write` by itself (see HTTPMessageWriter).
    mutating func body(_ buffer: ByteBuffer, write: (ByteBuffer) -> Void) {
        message.body(buffer, write: write)
    }

    /// Ends the response (the last chunk and trailers when chunked).
    mutating func end(_ trailers: HTTPHeaders?) {
        message.end(trailers)
        answeringHead = false
    }

    /// A whole gateway-made response (its head carries Content-Length).
    mutating func complete(_ head: HTTPResponseHead, body: [UInt8]) {
        self.head(head)
        message.body(bytes: body)
        end(nil)
    }

    /// The bytes encoded since the last call, if any.
    mutating func takePending() -> ByteBuffer? {
        message.takePending()
    }
}

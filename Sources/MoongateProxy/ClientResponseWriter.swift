import NIOCore
import NIOHTTP1

/// Encodes the responses of one client connection into HTTP/1.x wire bytes, in place
/// of NIO's `HTTPResponseEncoder`, and gathers a response's parts into one buffer.
///
/// Why: with NIO's encoder each part (head, body, end) was a write through the
/// pipeline and an entry of its own in the socket's pending writes; profiles showed
/// those writes as the largest cost of the response path. Here a small response is
/// one buffer, written once when the proxy flushes.
///
/// Framing follows what NIO's encoder does (RFC 9112 §6): a status without content
/// (1xx, 204, 304) loses `Content-Length` and `Transfer-Encoding`; otherwise a
/// `Content-Length` wins over `Transfer-Encoding`; without either, an HTTP/1.1 client
/// gets a chunked body and an HTTP/1.0 client a body delimited by the close (the proxy
/// closes such responses). A response to HEAD keeps the headers an equivalent GET
/// would have, and any body given to it is dropped.
struct ClientResponseWriter {
    /// Bodies at least this large are written as their own buffer, not copied.
    static let copyLimit = 4096

    private let allocator: ByteBufferAllocator
    /// Encoded, not yet handed to the channel.
    private var pending: ByteBuffer
    private var isChunked = false
    private var suppressesBody = false
    /// The method of the request being answered decides whether a body may follow.
    var answeringHead = false

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
        self.pending = allocator.buffer(capacity: 0)
    }

    /// Encodes a response head, fixing its framing headers as described above.
    mutating func head(_ head: HTTPResponseHead) {
        var headers = head.headers
        let code = head.status.code
        if code >= 100 && code < 200 && code != 101 {
            // Interim: no body, no framing, and the final head is still to come.
            encode(status: head.status, version: head.version, headers: headers)
            return
        }
        isChunked = false
        if !head.status.mayHaveResponseBody {
            headers.remove(name: "content-length")
            headers.remove(name: "transfer-encoding")
        } else if headers.contains(name: "content-length") {
            headers.remove(name: "transfer-encoding")
        } else if head.version.major == 1 && head.version.minor >= 1 {
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            isChunked = true
        }
        suppressesBody = answeringHead || !head.status.mayHaveResponseBody
        if suppressesBody { isChunked = false }
        encode(status: head.status, version: head.version, headers: headers)
    }

    /// Adds body bytes. A large buffer is not copied: it goes to `write` by itself,
    /// after what is pending.
    mutating func body(_ buffer: ByteBuffer, write: (ByteBuffer) -> Void) {
        let count = buffer.readableBytes
        guard !suppressesBody, count > 0 else { return }
        if isChunked { writeChunkSize(count) }
        if count >= ClientResponseWriter.copyLimit {
            if let before = takePending() { write(before) }
            write(buffer)
        } else {
            var buffer = buffer
            pending.writeBuffer(&buffer)
        }
        if isChunked { pending.writeStaticString("\r\n") }
    }

    /// Ends the response (the last chunk and trailers when chunked).
    mutating func end(_ trailers: HTTPHeaders?) {
        if isChunked {
            pending.writeStaticString("0\r\n")
            if let trailers { write(headers: trailers) }
            pending.writeStaticString("\r\n")
        }
        isChunked = false
        suppressesBody = false
        answeringHead = false
    }

    /// A whole response made by the gateway (its head carries Content-Length).
    mutating func complete(_ head: HTTPResponseHead, body: [UInt8]) {
        self.head(head)
        if !suppressesBody && !body.isEmpty {
            if isChunked { writeChunkSize(body.count) }
            pending.writeBytes(body)
            if isChunked { pending.writeStaticString("\r\n") }
        }
        end(nil)
    }

    var pendingBytes: Int { pending.readableBytes }

    /// The bytes encoded since the last call, if any.
    mutating func takePending() -> ByteBuffer? {
        guard pending.readableBytes > 0 else { return nil }
        let bytes = pending
        pending = allocator.buffer(capacity: 0)
        return bytes
    }

    private mutating func encode(status: HTTPResponseStatus, version: HTTPVersion, headers: HTTPHeaders) {
        pending.reserveCapacity(minimumWritableBytes: 256)
        pending.writeStaticString("HTTP/")
        pending.writeString(String(version.major))
        pending.writeStaticString(".")
        pending.writeString(String(version.minor))
        pending.writeStaticString(" ")
        pending.writeString(String(status.code))
        pending.writeStaticString(" ")
        pending.writeString(status.reasonPhrase)
        pending.writeStaticString("\r\n")
        write(headers: headers)
        pending.writeStaticString("\r\n")
    }

    private mutating func writeChunkSize(_ count: Int) {
        pending.writeString(String(count, radix: 16))
        pending.writeStaticString("\r\n")
    }

    private mutating func write(headers: HTTPHeaders) {
        for (name, value) in headers {
            pending.writeString(name)
            pending.writeStaticString(": ")
            pending.writeString(value)
            pending.writeStaticString("\r\n")
        }
    }
}

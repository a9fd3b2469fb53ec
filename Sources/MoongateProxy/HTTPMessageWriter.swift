import NIOCore
import NIOHTTP1

/// HTTP/1.x message bytes, written by the proxy itself rather than by NIO's encoders:
/// a start line and header fields, then a body as it is or chunked, gathered in one
/// buffer until the connection flushes. The framing decisions (which message gets a
/// chunked body, which none) belong to the callers: `ClientResponseWriter` and
/// `UpstreamRequestWriter`.
///
/// Why: with NIO's encoders each part (head, body, end) was its own write through the
/// pipeline and its own entry in the socket's pending writes; profiles showed those
/// writes as the largest cost of a proxied request after the kernel. Here a small
/// message is one buffer, written once.
struct HTTPMessageWriter {
    /// Body buffers at least this large are written by themselves, not copied.
    static let copyLimit = 4096

    private let allocator: ByteBufferAllocator
    /// Encoded, not yet handed to the channel.
    private var pending: ByteBuffer
    private var isChunked = false
    private var dropsBody = false

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
        self.pending = allocator.buffer(capacity: 0)
    }

    var pendingBytes: Int { pending.readableBytes }

    /// Starts a response: its status line.
    mutating func writeStatusLine(version: HTTPVersion, status: HTTPResponseStatus) {
        pending.reserveCapacity(minimumWritableBytes: 256)
        if version == .http1_1 {
            pending.writeStaticString("HTTP/1.1 ")
        } else {
            pending.writeStaticString("HTTP/")
            writeDecimal(version.major)
            pending.writeStaticString(".")
            writeDecimal(version.minor)
            pending.writeStaticString(" ")
        }
        writeDecimal(Int(status.code))
        pending.writeStaticString(" ")
        pending.writeString(status.reasonPhrase)
        pending.writeStaticString("\r\n")
    }

    /// Starts an HTTP/1.1 request: its request line.
    mutating func writeRequestLine(method: HTTPMethod, uri: String) {
        pending.reserveCapacity(minimumWritableBytes: 256)
        pending.writeString(method.rawValue)
        pending.writeStaticString(" ")
        pending.writeString(uri)
        pending.writeStaticString(" HTTP/1.1\r\n")
    }

    /// Ends a message's head (after its start line): the header fields, the blank line.
    /// `chunked`: the body that follows is chunk-framed; `dropsBody`: any body given
    /// for this message is dropped (a response to HEAD, a 204).
    mutating func writeHeaders(_ headers: HTTPHeaders, chunked: Bool, dropsBody: Bool) {
        write(fields: headers)
        pending.writeStaticString("\r\n")
        self.isChunked = chunked && !dropsBody
        self.dropsBody = dropsBody
    }

    /// Adds body bytes. A large buffer is not copied: it goes to `write` by itself,
    /// after what is pending.
    mutating func body(_ buffer: ByteBuffer, write: (ByteBuffer) -> Void) {
        let count = buffer.readableBytes
        guard !dropsBody, count > 0 else { return }
        if isChunked { writeChunkSize(count) }
        if count >= HTTPMessageWriter.copyLimit {
            if let before = takePending() { write(before) }
            write(buffer)
        } else {
            var buffer = buffer
            pending.writeBuffer(&buffer)
        }
        if isChunked { pending.writeStaticString("\r\n") }
    }

    /// Adds body bytes, copied.
    mutating func body(bytes: [UInt8]) {
        guard !dropsBody, !bytes.isEmpty else { return }
        if isChunked { writeChunkSize(bytes.count) }
        pending.writeBytes(bytes)
        if isChunked { pending.writeStaticString("\r\n") }
    }

    /// Ends the message: the last chunk and the trailers when chunked.
    mutating func end(_ trailers: HTTPHeaders?) {
        if isChunked {
            pending.writeStaticString("0\r\n")
            if let trailers { write(fields: trailers) }
            pending.writeStaticString("\r\n")
        }
        isChunked = false
        dropsBody = false
    }

    /// The bytes encoded since the last call, if any.
    mutating func takePending() -> ByteBuffer? {
        guard pending.readableBytes > 0 else { return nil }
        let bytes = pending
        pending = allocator.buffer(capacity: 0)
        return bytes
    }

    /// A small non-negative number in decimal, without making a String.
    private mutating func writeDecimal(_ value: Int) {
        if value < 10 {
            pending.writeInteger(UInt8(ascii: "0") + UInt8(value))
        } else {
            writeDecimal(value / 10)
            pending.writeInteger(UInt8(ascii: "0") + UInt8(value % 10))
        }
    }

    private mutating func writeChunkSize(_ count: Int) {
        pending.writeString(String(count, radix: 16))
        pending.writeStaticString("\r\n")
    }

    private mutating func write(fields: HTTPHeaders) {
        // One capacity check for the whole block rather than one per string.
        var size = 0
        for (name, value) in fields { size += name.utf8.count + value.utf8.count + 4 }
        pending.reserveCapacity(minimumWritableBytes: size + 2)
        for (name, value) in fields {
            pending.writeString(name)
            pending.writeStaticString(": ")
            pending.writeString(value)
            pending.writeStaticString("\r\n")
        }
    }
}

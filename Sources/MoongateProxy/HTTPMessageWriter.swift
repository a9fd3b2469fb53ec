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
        pending.reserveCapacity(minimumWritableBytes: 256)  // usually the whole head
        let reason = status.reasonPhrase
        // "HTTP/M.m NNN reason\r\n": room for the longest numbers each part can hold.
        pending.writeWithUnsafeMutableBytes(minimumWritableBytes: reason.utf8.count + 48) { out in
            var at = Self.copy("HTTP/", into: out, at: 0)
            at = Self.copyDecimal(version.major, into: out, at: at)
            out[at] = UInt8(ascii: ".")
            at = Self.copyDecimal(version.minor, into: out, at: at + 1)
            out[at] = UInt8(ascii: " ")
            at = Self.copyDecimal(Int(status.code), into: out, at: at + 1)
            out[at] = UInt8(ascii: " ")
            at = Self.copy(reason, into: out, at: at + 1)
            return Self.copyCRLF(into: out, at: at)
        }
    }

    /// Starts an HTTP/1.1 request: its request line.
    mutating func writeRequestLine(method: HTTPMethod, uri: String) {
        pending.reserveCapacity(minimumWritableBytes: 256)  // usually the whole head
        let name = method.rawValue
        pending.writeWithUnsafeMutableBytes(minimumWritableBytes: name.utf8.count + uri.utf8.count + 11) { out in
            var at = Self.copy(name, into: out, at: 0)
            out[at] = UInt8(ascii: " ")
            at = Self.copy(uri, into: out, at: at + 1)
            return Self.copy(" HTTP/1.1\r\n", into: out, at: at)
        }
    }

    /// Ends a message's head (after its start line): the header fields, the blank line.
    /// `chunked`: the body that follows is chunk-framed; `dropsBody`: any body given
    /// for this message is dropped (a response to HEAD, a 204).
    mutating func writeHeaders(_ headers: HTTPHeaders, chunked: Bool, dropsBody: Bool) {
        write(fields: headers)
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
            write(fields: trailers ?? HTTPHeaders())
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

    private mutating func writeChunkSize(_ count: Int) {
        pending.writeString(String(count, radix: 16))
        pending.writeStaticString("\r\n")
    }

    /// The header fields and the blank line after them, copied in one go (one
    /// capacity check and one exclusive access to the buffer, rather than four string
    /// writes per field).
    private mutating func write(fields: HTTPHeaders) {
        var size = 2
        for (name, value) in fields { size += name.utf8.count + value.utf8.count + 4 }
        pending.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            var at = 0
            for (name, value) in fields {
                at = Self.copy(name, into: out, at: at)
                out[at] = UInt8(ascii: ":")
                out[at + 1] = UInt8(ascii: " ")
                at = Self.copy(value, into: out, at: at + 2)
                at = Self.copyCRLF(into: out, at: at)
            }
            return Self.copyCRLF(into: out, at: at)
        }
    }

    /// Copies `string`'s UTF-8 to `out` at `offset`; returns the offset after it. The
    /// caller has made room.
    @inline(__always)
    private static func copy(_ string: String, into out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var string = string
        return string.withUTF8 { utf8 in
            guard let source = utf8.baseAddress, !utf8.isEmpty else { return offset }
            (out.baseAddress! + offset).copyMemory(from: source, byteCount: utf8.count)
            return offset + utf8.count
        }
    }

    @inline(__always)
    private static func copyCRLF(into out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        out[offset] = UInt8(ascii: "\r")
        out[offset + 1] = UInt8(ascii: "\n")
        return offset + 2
    }

    /// A non-negative number (at most 20 digits) in decimal, without making a String.
    private static func copyDecimal(_ value: Int, into out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var remaining = value
        for position in stride(from: offset + digits - 1, through: offset, by: -1) {
            out[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
        }
        return offset + digits
    }
}

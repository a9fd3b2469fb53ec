#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoongateCore
import NIOCore
import NIOHTTP1

/// The pieces of HTTP/1.1 message syntax (RFC 9112) that the client request parser
/// and the upstream response parser share: finding a head's end, lines, field lines
/// and chunk sizes. Scanned through raw pointers: this runs for every field of every
/// message in both directions.
enum HTTP1Syntax {
    /// A head (start line and fields) longer than this is refused (NIO's decoder had
    /// the same limit).
    static let maxHeadBytes = 80 * 1024

    /// A head's fields, with what framing and the hop-by-hop rules need noted while
    /// parsing, so that neither scans the fields again.
    struct HeadFields {
        /// Built as an array: HTTPHeaders.add scans every name it is given again.
        var list: [(String, String)] = []
        var contentLengths: [String] = []
        var transferEncodings: [String] = []
        /// The values of `Connection` fields.
        var connection: [String] = []
        /// A hop-by-hop field is there (`ForwardedHeaders.isHopByHop`).
        var hasHopByHop = false
    }

    /// Adds received bytes to those not parsed yet (kept as they came when nothing
    /// was left over: the common case copies nothing).
    static func append(_ incoming: ByteBuffer, to buffer: inout ByteBuffer?) {
        guard var pending = buffer, pending.readableBytes > 0 else {
            buffer = incoming
            return
        }
        buffer = nil  // one reference fewer: the write below need not copy the storage
        var incoming = incoming
        pending.writeBuffer(&incoming)
        buffer = pending
    }

    /// The length of the head through its blank line, when it has arrived; `scanned`
    /// says where the previous search stopped, and is moved on (a head that trickles
    /// in is not searched from its start at every read).
    static func headEnd(_ bytes: ByteBuffer, from scanned: inout Int) -> Int? {
        bytes.withUnsafeReadableBytes { raw -> Int? in
            let count = raw.count
            // Back up over a line ending that the previous search could not yet judge.
            var index = max(0, scanned - 3)
            defer { scanned = count }
            while index < count {
                guard let newline = find(UInt8(ascii: "\n"), in: raw, from: index) else { return nil }
                // A blank line: "\n" right after the previous "\n" (or "\r\n").
                if newline == 0 { return 1 }
                if raw[newline - 1] == UInt8(ascii: "\n") { return newline + 1 }
                if raw[newline - 1] == UInt8(ascii: "\r"), newline >= 2, raw[newline - 2] == UInt8(ascii: "\n") { return newline + 1 }
                index = newline + 1
            }
            return nil
        }
    }

    /// Moves past empty lines ("\r\n" or "\n") in front of a start line (RFC 9112 §2.2:
    /// a stray CRLF after a body is a common bug). True when any were skipped.
    static func skipEmptyLines(_ bytes: inout ByteBuffer) -> Bool {
        var skipped = false
        while let byte = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self),
            byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
        {
            bytes.moveReaderIndex(forwardBy: 1)
            skipped = true
        }
        return skipped
    }

    /// One line without its line ending ("\r\n" or "\n"); nil when it has not all
    /// arrived. A CR anywhere else in the line is an error (bare CRs split lines
    /// differently in different parsers: a smuggling vector).
    static func readLine(_ bytes: inout ByteBuffer, limit: Int) throws(HTTPParserError) -> ByteBuffer? {
        guard let newline = bytes.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if bytes.readableBytes > limit { throw HTTPParserError.headerOverflow }
            return nil
        }
        var length = newline - bytes.readerIndex
        var line = bytes.readSlice(length: length + 1)!
        if length > 0, line.getInteger(at: line.readerIndex + length - 1, as: UInt8.self) == UInt8(ascii: "\r") { length -= 1 }
        line.moveWriterIndex(to: line.readerIndex + length)
        if line.readableBytesView.contains(UInt8(ascii: "\r")) { throw HTTPParserError.lfExpected }
        return line
    }

    /// The field lines after the start line (`raw` starts at the first field), through
    /// the blank line that ends the head, in one pass over the bytes.
    static func parseFields(_ raw: UnsafeRawBufferPointer, into fields: inout HeadFields) -> HTTPParserError? {
        var lineStart = 0
        while let newline = find(UInt8(ascii: "\n"), in: raw, from: lineStart) {
            var lineEnd = newline
            if lineEnd > lineStart, raw[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            if lineEnd == lineStart { return nil }  // the blank line
            guard let (name, value) = field(UnsafeRawBufferPointer(rebasing: raw[lineStart..<lineEnd])) else {
                return .invalidHeaderToken
            }
            switch name.utf8.count {
            case 14 where name.equalsIgnoringASCIICase("content-length"):
                fields.contentLengths.append(value)
            case 17 where name.equalsIgnoringASCIICase("transfer-encoding"):
                fields.transferEncodings.append(value)
                fields.hasHopByHop = true
            case 10 where name.equalsIgnoringASCIICase("connection"):
                fields.connection.append(value)
                fields.hasHopByHop = true
            default:
                if !fields.hasHopByHop && ForwardedHeaders.isHopByHop(name) { fields.hasHopByHop = true }
            }
            fields.list.append((name, value))
            lineStart = newline + 1
        }
        return .invalidEOFState  // unreachable for a head whose end `headEnd` found
    }

    /// One field line (without its line ending), nil when malformed: the name a token,
    /// the value without control characters (HTAB allowed), no obs-fold (a line
    /// starting with a space has no token before its colon).
    static func field(_ raw: UnsafeRawBufferPointer) -> (name: String, value: String)? {
        guard let colon = find(UInt8(ascii: ":"), in: raw, from: 0), colon > 0 else { return nil }
        for index in 0..<colon where !HTTPToken.isTokenByte(raw[index]) { return nil }
        var start = colon + 1
        var end = raw.count
        while start < end, raw[start] == UInt8(ascii: " ") || raw[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, raw[end - 1] == UInt8(ascii: " ") || raw[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        for index in start..<end where !HTTPToken.isFieldValueByte(raw[index]) { return nil }
        return (
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<colon]), as: UTF8.self),
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<end]), as: UTF8.self)
        )
    }

    /// What a message's Content-Length fields say.
    enum ContentLength: Equatable {
        case absent
        /// `repeated` when there were several values (all equal): passed on as one.
        case length(Int, repeated: Bool)
        case differing
        /// Empty, or not a decimal number.
        case invalid
    }

    /// The length the values of a message's Content-Length fields give: a list ("5, 5")
    /// or repeated fields are one length when they all agree.
    static func contentLength(_ values: [String]) -> ContentLength {
        guard !values.isEmpty else { return .absent }
        // Usually one field with one value.
        let lengths = values.count == 1 && !values[0].utf8.contains(UInt8(ascii: ","))
            ? [Substring(values[0])]
            : values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { $0.trimmingSpaces() }
        let first = lengths[0]
        guard lengths.allSatisfy({ $0 == first }) else { return .differing }
        guard !first.isEmpty, first.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let length = Int(first)
        else { return .invalid }
        return .length(length, repeated: lengths.count > 1)
    }

    /// The index of the first `byte` in `raw` at or after `start`: `memchr`, which
    /// compares many bytes at a time (a collection search went byte by byte).
    @inline(__always)
    static func find(_ byte: UInt8, in raw: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < raw.count, let base = raw.baseAddress, let found = memchr(base + start, Int32(byte), raw.count - start) else {
            return nil
        }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// A chunk-size line: hex digits, then optional extensions after ';'.
    static func chunkSize(_ line: ByteBuffer) throws(HTTPParserError) -> Int {
        var size = 0
        var digits = 0
        for byte in line.readableBytesView {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                guard digits > 0 else { throw HTTPParserError.invalidChunkSize }
                return size
            default: throw HTTPParserError.invalidChunkSize
            }
            digits += 1
            guard digits <= 15 else { throw HTTPParserError.invalidChunkSize }
            size = size * 16 + value
        }
        guard digits > 0 else { throw HTTPParserError.invalidChunkSize }
        return size
    }
}

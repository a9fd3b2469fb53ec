import MoongateCore
import NIOCore
import NIOHTTP1

/// Parses the responses an upstream connection receives (RFC 9112), in place of NIO's
/// llhttp-based decoder, which with its callbacks, header copies and pipeline hop was
/// the largest user-space cost left on the response path.
///
/// Body bytes are handed on as slices of the received buffers (no copy). Framing: no
/// body for a response to HEAD, for 1xx, 204 and 304; `Transfer-Encoding` ending in
/// `chunked` is decoded (other codings: the body runs to the close); otherwise a
/// `Content-Length`; otherwise the body runs to the close. Interim 1xx responses other
/// than 101 are dropped (the gateway answers `Expect` itself). What is malformed (a bad
/// status line, a header name that is not a token, a control character in a value,
/// obs-fold, a bad chunk, differing lengths, a head over 80 KiB) is an error: the
/// connection is not trusted any further.
struct UpstreamResponseParser {
    enum Event {
        case head(HTTPResponseHead)
        case body(ByteBuffer)
        case end(HTTPHeaders?)
    }

    static let maxHeadBytes = 80 * 1024

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        /// After a 101 or an error: nothing more is parsed.
        case done
    }

    private var state = State.head
    private var buffer: ByteBuffer?
    /// The methods of the requests sent and not yet answered, in order.
    private var requestMethods: [HTTPMethod] = []
    private var trailers: HTTPHeaders?
    /// Bytes of trailer fields so far (limited like a head).
    private var trailerBytes = 0
    /// An `.end(nil)` that follows the event just returned (a bodiless head, a body's
    /// last bytes).
    private var endQueued = false
    /// How far a head still arriving has been searched for its end (a head that
    /// trickles in is not searched from its start at every read).
    private var headScanned = 0

    /// A request went out on this connection: its response comes in this order.
    mutating func requestSent(method: HTTPMethod) {
        requestMethods.append(method)
    }

    /// Bytes that arrived; `next()` parses them.
    mutating func append(_ incoming: ByteBuffer) {
        if var pending = buffer, pending.readableBytes > 0 {
            var incoming = incoming
            pending.writeBuffer(&incoming)
            buffer = pending
        } else {
            buffer = incoming
        }
    }

    /// The next event from what arrived, or nil when more bytes are needed. One event
    /// at a time, so that its receiver may act on the connection (even close it) while
    /// the parser is not in the middle of a mutation.
    mutating func next() throws(HTTPParserError) -> Event? {
        if endQueued {
            endQueued = false
            return .end(nil)
        }
        while var bytes = buffer, bytes.readableBytes > 0 {
            var event: Event?
            var progressed = true
            switch state {
            case .head:
                // Empty lines before a status line are skipped (a stray CRLF after a
                // body is a common upstream bug; llhttp skipped them too).
                while let byte = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self),
                    byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
                {
                    bytes.moveReaderIndex(forwardBy: 1)
                    headScanned = 0
                }
                if bytes.readableBytes == 0 {
                    progressed = true
                    break
                }
                let before = bytes.readerIndex
                event = try parseHead(&bytes)
                progressed = event != nil || bytes.readerIndex != before
            case .fixed(let remaining):
                let slice = bytes.readSlice(length: min(remaining, bytes.readableBytes))!
                event = .body(slice)
                let left = remaining - slice.readableBytes
                if left == 0 {
                    state = .head
                    endQueued = true
                } else {
                    state = .fixed(remaining: left)
                }
            case .chunkSize:
                guard let line = try Self.readLine(&bytes, limit: 4096) else {
                    progressed = false
                    break
                }
                let size = try Self.chunkSize(line)
                if size == 0 {
                    trailers = nil
                    trailerBytes = 0
                    state = .trailers
                } else {
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let slice = bytes.readSlice(length: min(remaining, bytes.readableBytes))!
                event = .body(slice)
                let left = remaining - slice.readableBytes
                state = left == 0 ? .chunkDataEnd : .chunkData(remaining: left)
            case .chunkDataEnd:
                guard let line = try Self.readLine(&bytes, limit: 2) else {
                    progressed = false
                    break
                }
                guard line.readableBytes == 0 else { throw HTTPParserError.invalidChunkSize }
                state = .chunkSize
            case .trailers:
                guard let line = try Self.readLine(&bytes, limit: Self.maxHeadBytes) else {
                    progressed = false
                    break
                }
                if line.readableBytes == 0 {
                    state = .head
                    event = .end(trailers)
                    trailers = nil
                } else {
                    trailerBytes += line.readableBytes + 2
                    guard trailerBytes <= Self.maxHeadBytes else { throw HTTPParserError.headerOverflow }
                    var fields = trailers ?? HTTPHeaders()
                    try Self.addField(line, to: &fields)
                    trailers = fields
                }
            case .untilClose:
                event = .body(bytes)
                bytes.moveReaderIndex(to: bytes.writerIndex)
            case .done:
                bytes.moveReaderIndex(to: bytes.writerIndex)
            }
            buffer = bytes.readableBytes > 0 ? bytes : nil
            if let event { return event }
            if !progressed {
                if bytes.readableBytes > Self.maxHeadBytes { throw HTTPParserError.headerOverflow }
                return nil
            }
        }
        buffer = nil
        return nil
    }

    /// Bytes have arrived that no response event took yet (other than empty lines).
    /// After a response's end this means the upstream sent more than it was asked
    /// for: the connection cannot be trusted with another request.
    var hasUnparsedBytes: Bool {
        guard let buffer else { return false }
        return buffer.readableBytesView.contains { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
    }

    /// The connection closed: the end of a close-delimited body, if one was running;
    /// anything else unfinished is an error (a truncated response).
    mutating func closed() throws(HTTPParserError) -> Event? {
        let unparsed = buffer?.readableBytes ?? 0
        buffer = nil
        switch state {
        case .untilClose:
            state = .done
            return .end(nil)
        case .head where unparsed == 0, .done:
            state = .done
            return nil
        default:
            state = .done
            throw HTTPParserError.invalidEOFState
        }
    }

    // MARK: Head

    /// Parses a whole head if one is there (nil when more bytes are needed, or when it
    /// was an interim response, dropped: then the state is still `.head`).
    private mutating func parseHead(_ bytes: inout ByteBuffer) throws(HTTPParserError) -> Event? {
        guard let end = Self.headEnd(bytes, from: &headScanned) else { return nil }
        headScanned = 0
        guard end <= Self.maxHeadBytes else { throw HTTPParserError.headerOverflow }
        var head = bytes.readSlice(length: end)!
        guard var statusLine = try Self.readLine(&head, limit: end) else { throw HTTPParserError.invalidStatus }
        let (version, status) = try Self.statusLine(&statusLine)
        var fields = HeadFields()
        if let error = head.withUnsafeReadableBytes({ Self.parseFields($0, into: &fields) }) { throw error }
        let code = status.code
        if code >= 100 && code < 200 && code != 101 { return nil }  // interim: dropped
        guard !requestMethods.isEmpty else { throw HTTPParserError.invalidInternalState }
        let method = requestMethods.removeFirst()
        // The gateway never asks for an upgrade (Upgrade is hop-by-hop): a 101 is a
        // broken upstream, and nothing after it would be HTTP.
        guard code != 101 else { throw HTTPParserError.invalidStatus }
        try frame(method: method, code: code, fields: &fields)
        return .head(HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(fields.list)))
    }

    /// A head's fields, and the values of the two that frame its body (noted while
    /// parsing, so that framing does not scan the fields again).
    private struct HeadFields {
        /// Built as an array: HTTPHeaders.add scans every name it is given again.
        var list: [(String, String)] = []
        var contentLengths: [String] = []
        var transferEncodings: [String] = []
    }

    /// The field lines after the status line, through the blank line that ends the
    /// head, in one pass over the bytes.
    private static func parseFields(_ raw: UnsafeRawBufferPointer, into fields: inout HeadFields) -> HTTPParserError? {
        var lineStart = 0
        while let newline = raw[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
            var lineEnd = newline
            if lineEnd > lineStart, raw[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            if lineEnd == lineStart { return nil }  // the blank line
            guard let (name, value) = field(UnsafeRawBufferPointer(rebasing: raw[lineStart..<lineEnd])) else {
                return .invalidHeaderToken
            }
            switch name.utf8.count {
            case 14 where name.equalsIgnoringASCIICase("content-length"): fields.contentLengths.append(value)
            case 17 where name.equalsIgnoringASCIICase("transfer-encoding"): fields.transferEncodings.append(value)
            default: break
            }
            fields.list.append((name, value))
            lineStart = newline + 1
        }
        return .invalidEOFState  // unreachable: `headEnd` found the blank line
    }

    /// Sets the state for the body that follows a head (RFC 9112 §6.3), normalising a
    /// repeated Content-Length to one value.
    private mutating func frame(method: HTTPMethod, code: UInt, fields: inout HeadFields) throws(HTTPParserError) {
        if method == .HEAD || method == .CONNECT || code == 204 || code == 304 {
            endQueued = true
            return
        }
        // Both: a response splitting attempt or a broken upstream (RFC 9112 §6.3 says
        // to treat it as an error); passing it on would let its Content-Length frame
        // a different body at the client.
        guard fields.transferEncodings.isEmpty || fields.contentLengths.isEmpty else {
            throw HTTPParserError.unexpectedContentLength
        }
        if let codings = fields.transferEncodings.last {
            let last = codings.split(separator: ",").last.map { $0.trimmingSpaces() }
            state = last.map { $0.equalsIgnoringASCIICase("chunked") } == true ? .chunkSize : .untilClose
            return
        }
        guard !fields.contentLengths.isEmpty else {
            state = .untilClose
            return
        }
        // Usually one field with one value; "5, 5" or repeated equal fields are one length.
        let lengths = fields.contentLengths.count == 1 && !fields.contentLengths[0].utf8.contains(UInt8(ascii: ","))
            ? [Substring(fields.contentLengths[0])]
            : fields.contentLengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() } }
        let first = lengths[0]
        guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let length = Int(first)
        else { throw HTTPParserError.unexpectedContentLength }
        // Passed on as one value (clients refuse lists).
        if lengths.count > 1 {
            fields.list.removeAll { $0.0.utf8.count == 14 && $0.0.equalsIgnoringASCIICase("content-length") }
            fields.list.append(("content-length", String(length)))
        }
        if length == 0 {
            endQueued = true
        } else {
            state = .fixed(remaining: length)
        }
    }

    /// The length of the head through its blank line, when it has arrived; `scanned`
    /// says where the previous search stopped, and is moved on.
    private static func headEnd(_ bytes: ByteBuffer, from scanned: inout Int) -> Int? {
        bytes.withUnsafeReadableBytes { raw -> Int? in
            let count = raw.count
            // Back up over a line ending that the previous search could not yet judge.
            var index = max(0, scanned - 3)
            defer { scanned = count }
            while index < count {
                guard let newline = raw[index...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                // A blank line: "\n" right after the previous "\n" (or "\r\n").
                if newline == 0 { return 1 }
                if raw[newline - 1] == UInt8(ascii: "\n") { return newline + 1 }
                if raw[newline - 1] == UInt8(ascii: "\r"), newline >= 2, raw[newline - 2] == UInt8(ascii: "\n") { return newline + 1 }
                index = newline + 1
            }
            return nil
        }
    }

    /// One line without its line ending ("\r\n" or "\n"); nil when it has not all arrived.
    private static func readLine(_ bytes: inout ByteBuffer, limit: Int) throws(HTTPParserError) -> ByteBuffer? {
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

    private static func statusLine(_ line: inout ByteBuffer) throws(HTTPParserError) -> (HTTPVersion, HTTPResponseStatus) {
        let view = line.readableBytesView
        guard view.count >= 12, view.starts(with: "HTTP/1.".utf8) else { throw HTTPParserError.invalidVersion }
        let minor = view[view.startIndex + 7]
        guard minor == UInt8(ascii: "0") || minor == UInt8(ascii: "1") else { throw HTTPParserError.invalidVersion }
        guard view[view.startIndex + 8] == UInt8(ascii: " ") else { throw HTTPParserError.invalidStatus }
        var code = 0
        for offset in 9..<12 {
            let digit = view[view.startIndex + offset]
            guard digit >= 48 && digit <= 57 else { throw HTTPParserError.invalidStatus }
            code = code * 10 + Int(digit - 48)
        }
        guard code >= 100, view.count == 12 || view[view.startIndex + 12] == UInt8(ascii: " ") else { throw HTTPParserError.invalidStatus }
        let version = HTTPVersion(major: 1, minor: Int(minor - 48))
        return (version, HTTPResponseStatus(statusCode: code))
    }

    /// "name: value" into `headers`; the name a token, the value without control
    /// characters (HTAB allowed), no obs-fold (a line starting with a space has no
    /// token before its colon). Scanned through a raw pointer: this runs for every
    /// header of every response.
    private static func addField(_ line: ByteBuffer, to headers: inout HTTPHeaders) throws(HTTPParserError) {
        guard let (name, value) = line.withUnsafeReadableBytes({ field($0) }) else { throw HTTPParserError.invalidHeaderToken }
        headers.add(name: name, value: value)
    }

    /// One field line (without its line ending), nil when malformed.
    private static func field(_ raw: UnsafeRawBufferPointer) -> (name: String, value: String)? {
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
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

    /// A chunk-size line: hex digits, then optional extensions after ';'.
    private static func chunkSize(_ line: ByteBuffer) throws(HTTPParserError) -> Int {
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

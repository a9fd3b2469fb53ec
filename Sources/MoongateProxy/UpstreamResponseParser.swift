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
    struct Head {
        let head: HTTPResponseHead
        /// The values of its `Connection` fields.
        let connection: [String]
        /// A hop-by-hop field is there.
        let hasHopByHop: Bool
    }

    typealias Event = HTTP1Event<Head>

    private var buffer: ByteBuffer?
    /// The body being read after a head; nil between responses.
    private var body: HTTP1BodyDecoder?
    /// The connection closed: nothing more is parsed.
    private var done = false
    /// The methods of the requests sent and not yet answered, in order.
    private var requestMethods: [HTTPMethod] = []
    /// An `.end(nil)` that follows the event just returned (a bodiless head, a body's
    /// last bytes).
    private var endQueued = false
    /// How far a head still arriving has been searched for its end.
    private var headScanned = 0

    /// A request went out on this connection: its response comes in this order.
    mutating func requestSent(method: HTTPMethod) {
        requestMethods.append(method)
    }

    /// Bytes that arrived; `next()` parses them.
    mutating func append(_ incoming: ByteBuffer) {
        HTTP1Syntax.append(incoming, to: &buffer)
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
            if done {
                bytes.moveReaderIndex(to: bytes.writerIndex)
            } else if body != nil {
                (event, progressed) = try HTTP1BodyDecoder.next(&body, &bytes, endQueued: &endQueued)
            } else {
                if HTTP1Syntax.skipEmptyLines(&bytes) { headScanned = 0 }
                if bytes.readableBytes > 0 {
                    let before = bytes.readerIndex
                    event = try parseHead(&bytes)
                    progressed = event != nil || bytes.readerIndex != before
                }
            }
            buffer = bytes.readableBytes > 0 ? bytes : nil
            if let event { return event }
            if !progressed {
                if bytes.readableBytes > HTTP1Syntax.maxHeadBytes { throw HTTPParserError.headerOverflow }
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
        defer { done = true }
        if done { return nil }
        if let body {
            guard body.isCloseDelimited else { throw HTTPParserError.invalidEOFState }
            return .end(nil)
        }
        guard unparsed == 0 else { throw HTTPParserError.invalidEOFState }
        return nil
    }

    // MARK: Head

    /// Parses a whole head if one is there (nil when more bytes are needed, or when it
    /// was an interim response, dropped: then no body is being read).
    private mutating func parseHead(_ bytes: inout ByteBuffer) throws(HTTPParserError) -> Event? {
        guard let end = HTTP1Syntax.headEnd(bytes, from: &headScanned) else { return nil }
        headScanned = 0
        guard end <= HTTP1Syntax.maxHeadBytes else { throw HTTPParserError.headerOverflow }
        var head = bytes.readSlice(length: end)!
        guard var statusLine = try HTTP1Syntax.readLine(&head, limit: end) else { throw HTTPParserError.invalidStatus }
        let (version, status) = try Self.statusLine(&statusLine)
        var fields = HTTP1Syntax.HeadFields()
        if let error = head.withUnsafeReadableBytes({ HTTP1Syntax.parseFields($0, into: &fields) }) { throw error }
        let code = status.code
        if code >= 100 && code < 200 && code != 101 { return nil }  // interim: dropped
        guard !requestMethods.isEmpty else { throw HTTPParserError.invalidInternalState }
        let method = requestMethods.removeFirst()
        // The gateway never asks for an upgrade (Upgrade is hop-by-hop): a 101 is a
        // broken upstream, and nothing after it would be HTTP.
        guard code != 101 else { throw HTTPParserError.invalidStatus }
        try frame(method: method, code: code, fields: &fields)
        let response = HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(fields.list))
        return .head(Head(head: response, connection: fields.connection, hasHopByHop: fields.hasHopByHop))
    }

    /// Sets the state for the body that follows a head (RFC 9112 §6.3), normalising a
    /// repeated Content-Length to one value.
    private mutating func frame(method: HTTPMethod, code: UInt, fields: inout HTTP1Syntax.HeadFields) throws(HTTPParserError) {
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
            body = HTTP1BodyDecoder(last.map { $0.equalsIgnoringASCIICase("chunked") } == true ? .chunked : .untilClose)
            return
        }
        let length: Int
        switch HTTP1Syntax.contentLength(fields.contentLengths) {
        case .absent:
            body = HTTP1BodyDecoder(.untilClose)
            return
        case .differing, .invalid:
            throw HTTPParserError.unexpectedContentLength
        case .length(let value, let repeated):
            length = value
            if repeated {
                // Passed on as one value (clients refuse lists).
                fields.list.removeAll { $0.0.utf8.count == 14 && $0.0.equalsIgnoringASCIICase("content-length") }
                fields.list.append(("content-length", String(length)))
            }
        }
        if length == 0 {
            endQueued = true
        } else {
            body = HTTP1BodyDecoder(.length(length))
        }
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

}

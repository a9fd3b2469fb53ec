import MoongateCore
import NIOCore
import NIOHTTP1

/// Parses the requests a client connection sends (RFC 9112), in place of NIO's
/// llhttp-based decoder and its pipeline handler: together with the header copies of
/// its callbacks they were the largest user-space cost on the request path.
///
/// One event at a time, and only when asked: the proxy handler does not ask for the
/// next request's head while an exchange is in progress, so pipelined requests wait
/// as bytes (see `isAtRequestBoundary`). Body bytes are slices of the received buffers.
///
/// Refused: a request line that is not `token SP target SP HTTP/1.0|1.1` (the target
/// visible ASCII), a field name that is not a token, a control character in a field
/// value, obs-fold, a bare CR, a bad chunk, a head over 80 KiB, and the framing
/// patterns `RequestFraming` refuses. Any token is a method (Envoy does the same;
/// NIO's decoder knew a fixed list).
struct ClientRequestParser {
    struct Head {
        let head: HTTPRequestHead
        /// How the body is framed, or why the request is refused.
        let framing: RequestFraming
        /// Request line through blank line, as received.
        let byteCount: Int
        /// The values of its `Connection` fields.
        let connection: [String]
        /// A hop-by-hop field is there.
        let hasHopByHop: Bool
    }

    typealias Event = HTTP1Event<Head>

    private var buffer: ByteBuffer?
    /// The body being read after a head; nil between requests.
    private var body: HTTP1BodyDecoder?
    /// An `.end(nil)` that follows the event just returned (a bodiless head, a body's
    /// last bytes).
    private var endQueued = false
    /// A head's framing was refused: where the next request starts is not known.
    private var stopped = false
    /// How far a head still arriving has been searched for its end.
    private var headScanned = 0

    /// Bytes that arrived; `next()` parses them.
    mutating func append(_ incoming: ByteBuffer) {
        HTTP1Syntax.append(incoming, to: &buffer)
    }

    /// The current request has been read to its end: the next event would start
    /// another.
    var isAtRequestBoundary: Bool { body == nil && !endQueued }

    /// Received bytes that no event took yet.
    var hasUnparsedBytes: Bool { (buffer?.readableBytes ?? 0) > 0 }

    /// The next event from what arrived, or nil when more bytes are needed.
    mutating func next() throws(HTTPParserError) -> Event? {
        if endQueued {
            endQueued = false
            return .end(nil)
        }
        while !stopped, var bytes = buffer, bytes.readableBytes > 0 {
            var event: Event?
            var progressed = true
            if body != nil {
                (event, progressed) = try HTTP1BodyDecoder.next(&body, &bytes, endQueued: &endQueued)
            } else {
                if HTTP1Syntax.skipEmptyLines(&bytes) { headScanned = 0 }
                if bytes.readableBytes > 0 {
                    event = try parseHead(&bytes)
                    progressed = event != nil
                }
            }
            buffer = bytes.readableBytes > 0 ? bytes : nil
            if let event { return event }
            if !progressed {
                if bytes.readableBytes > HTTP1Syntax.maxHeadBytes { throw HTTPParserError.headerOverflow }
                return nil
            }
        }
        return nil
    }

    /// Parses a whole head if one is there (nil when more bytes are needed).
    private mutating func parseHead(_ bytes: inout ByteBuffer) throws(HTTPParserError) -> Event? {
        guard let end = HTTP1Syntax.headEnd(bytes, from: &headScanned) else { return nil }
        headScanned = 0
        guard end <= HTTP1Syntax.maxHeadBytes else { throw HTTPParserError.headerOverflow }
        var head = bytes.readSlice(length: end)!
        guard let line = try HTTP1Syntax.readLine(&head, limit: end) else { throw HTTPParserError.invalidURL }
        let parsed = line.withUnsafeReadableBytes { raw in Result { () throws(HTTPParserError) in try Self.requestLine(raw) } }
        let (method, uri, version) = try parsed.get()
        var fields = HTTP1Syntax.HeadFields()
        if let error = head.withUnsafeReadableBytes({ HTTP1Syntax.parseFields($0, into: &fields) }) { throw error }
        let framing = RequestFraming.decide(
            method: method, version: version, contentLengths: fields.contentLengths, transferEncodings: fields.transferEncodings)
        switch framing {
        case .noBody, .length(0): endQueued = true
        case .length(let length): body = HTTP1BodyDecoder(.length(length))
        case .chunked: body = HTTP1BodyDecoder(.chunked)
        case .reject: stopped = true
        }
        let request = HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(fields.list))
        return .head(
            Head(head: request, framing: framing, byteCount: end, connection: fields.connection, hasHopByHop: fields.hasHopByHop))
    }

    /// `method SP request-target SP HTTP-version`, single spaces.
    private static func requestLine(_ raw: UnsafeRawBufferPointer) throws(HTTPParserError) -> (HTTPMethod, String, HTTPVersion) {
        guard let methodEnd = raw.firstIndex(of: UInt8(ascii: " ")), methodEnd > 0 else { throw HTTPParserError.invalidMethod }
        for index in 0..<methodEnd where !HTTPToken.isTokenByte(raw[index]) { throw HTTPParserError.invalidMethod }
        let versionStart = raw.count - 8
        guard versionStart > methodEnd + 1, raw[versionStart - 1] == UInt8(ascii: " ") else { throw HTTPParserError.invalidVersion }
        let version = UnsafeRawBufferPointer(rebasing: raw[versionStart...])
        guard version.starts(with: "HTTP/1.".utf8), version[7] == UInt8(ascii: "1") || version[7] == UInt8(ascii: "0") else {
            throw HTTPParserError.invalidVersion
        }
        let target = UnsafeRawBufferPointer(rebasing: raw[(methodEnd + 1)..<(versionStart - 1)])
        for byte in target where byte <= 0x20 || byte >= 0x7F { throw HTTPParserError.invalidURL }
        return (
            method(UnsafeRawBufferPointer(rebasing: raw[0..<methodEnd])), String(decoding: target, as: UTF8.self),
            version[7] == UInt8(ascii: "1") ? .http1_1 : .http1_0
        )
    }

    /// The common methods without making a String first.
    private static func method(_ raw: UnsafeRawBufferPointer) -> HTTPMethod {
        if raw.elementsEqual("GET".utf8) { return .GET }
        if raw.elementsEqual("POST".utf8) { return .POST }
        return HTTPMethod(rawValue: String(decoding: raw, as: UTF8.self))
    }
}

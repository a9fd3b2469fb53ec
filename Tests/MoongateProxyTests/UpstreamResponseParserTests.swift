import NIOCore
import NIOHTTP1
import Testing

@testable import MoongateProxy

@Suite("Upstream response parser")
struct UpstreamResponseParserTests {
    /// The events of parsing `wire` (in pieces of `step` bytes), rendered as text;
    /// body slices of one message are joined.
    private func events(
        _ wire: String, methods: [HTTPMethod] = [.GET], step: Int? = nil, close: Bool = false
    ) throws(HTTPParserError) -> [String] {
        var parser = UpstreamResponseParser()
        for method in methods { parser.requestSent(method: method) }
        var log = HTTP1EventLog<UpstreamResponseParser.Head> { parsed in
            "\(parsed.head.status.code) \(parsed.head.version.minor) " + HTTP1EventLog<UpstreamResponseParser.Head>.fields(parsed.head.headers)
        }
        for piece in HTTP1EventLog<UpstreamResponseParser.Head>.pieces(wire, step: step) {
            parser.append(piece)
            while let event = try parser.next() { log.record(event) }
        }
        if close, let end = try parser.closed() { log.record(end) }
        return log.lines
    }

    @Test("Content-Length and chunked responses, whole and one byte at a time, give the same events")
    func framing() throws {
        let wire =
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  v \r\n\r\nhello"
            + "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: t\r\n\r\n"
        let expected = [
            "head 200 1 Content-Length=5,X-A=v", "body hello", "end", "head 201 1 Transfer-Encoding=chunked", "body abc0123456789",
            "end X-T=t",
        ]
        #expect(try events(wire, methods: [.GET, .POST]) == expected)
        #expect(try events(wire, methods: [.GET, .POST], step: 1) == expected)
    }

    @Test("no body for HEAD, 204 and 304 whatever the headers say; interim 100 dropped")
    func bodiless() throws {
        let wire =
            "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n" + "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n"
            + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(
            try events(wire, methods: [.HEAD, .GET, .GET]) == [
                "head 200 1 Content-Length=9", "end", "head 204 1 Content-Length=3", "end", "head 304 1 Transfer-Encoding=chunked", "end",
            ])
    }

    @Test("without framing the body runs to the close; bare LF line endings are accepted")
    func closeDelimited() throws {
        #expect(try events("HTTP/1.0 200 OK\nServer: x\n\nabc", close: true) == ["head 200 0 Server=x", "body abc", "end"])
        #expect(try events("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", close: true) == [
            "head 200 1 Transfer-Encoding=gzip", "body zz", "end",
        ])
        // The last coding of the last field decides, whatever its case.
        #expect(try events("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n2\r\nzz\r\n0\r\n\r\n") == [
            "head 200 1 Transfer-Encoding=gzip, Chunked", "body zz", "end",
        ])
    }

    @Test("a response cut short by the close is an error")
    func truncated() {
        #expect(throws: HTTPParserError.self) { try events("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", close: true) }
        #expect(throws: HTTPParserError.self) { try events("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", close: true) }
        #expect(throws: HTTPParserError.self) { try events("HTTP/1.1 200 OK\r\nContent-", close: true) }
    }

    @Test(
        "malformed responses are errors",
        arguments: [
            "HTTP/2.0 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n", "HTTP/1.1 099 X\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "HTTP/1.1 200 OK\r\nA: x\r\n folded\r\n\r\n", "HTTP/1.1 200 OK\r\nA: x\u{1}y\r\n\r\n",
            "HTTP/1.1 200 OK\r\n: x\r\n\r\n", "HTTP/1.1 200 OK\r\nA: x\ry\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1,\r\n\r\nx",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
            // Response splitting: a Content-Length beside Transfer-Encoding would frame another body at the client.
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n2B\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!\r\n0\r\n\r\n",
            // An upgrade nobody asked for.
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
        ])
    func malformed(wire: String) {
        #expect(throws: HTTPParserError.self) { try events(wire) }
    }

    @Test("a response to no request, and a head over 80 KiB, are errors")
    func unsolicitedAndOversized() {
        #expect(throws: HTTPParserError.self) { try events("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", methods: []) }
        let big = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: HTTP1Syntax.maxHeadBytes) + "\r\n\r\n"
        #expect(throws: HTTPParserError.self) { try events(big, step: 1000) }
    }

    @Test("a stray CRLF after a body is skipped; a repeated Content-Length goes on as one value")
    func tolerated() throws {
        let wire = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\nContent-Length: 1\r\n\r\nx"
        #expect(try events(wire, methods: [.GET, .GET]) == ["head 200 1 Content-Length=2", "body ok", "end", "head 200 1 content-length=1", "body x", "end"])
    }

    @Test("bytes beyond a response are reported (the connection is not pooled again); empty lines are not")
    func unparsedBytes() throws {
        var parser = UpstreamResponseParser()
        parser.requestSent(method: .HEAD)
        parser.append(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"))
        var ended = false
        while let event = try parser.next() {
            if case .end = event {
                ended = true
                #expect(parser.hasUnparsedBytes)
            }
        }
        #expect(ended)
        var clean = UpstreamResponseParser()
        clean.requestSent(method: .GET)
        clean.append(ByteBuffer(string: "HTTP/1.1 204 No Content\r\n\r\n\r\n"))
        while let event = try clean.next() {
            if case .end = event { #expect(!clean.hasUnparsedBytes) }
        }
    }

    @Test("trailers count against the head limit")
    func trailerLimit() {
        let line = "a: " + String(repeating: "b", count: 1000) + "\r\n"
        let wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + String(repeating: line, count: 100)
        #expect(throws: HTTPParserError.self) { try events(wire, step: 4096) }
    }
}

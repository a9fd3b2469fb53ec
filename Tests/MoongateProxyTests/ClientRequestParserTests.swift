import NIOCore
import NIOHTTP1
import Testing

@testable import MoongateProxy

@Suite("Client request parser")
struct ClientRequestParserTests {
    /// The events of parsing `wire` (in pieces of `step` bytes), rendered as text; body
    /// slices of one request are joined. The parser is asked for events the way the
    /// proxy handler asks: a new head only when the previous request was read to its end.
    private func events(_ wire: String, step: Int? = nil) throws(HTTPParserError) -> [String] {
        var parser = ClientRequestParser()
        var log = HTTP1EventLog<ClientRequestParser.Head> { parsed in
            "\(parsed.head.method.rawValue) \(parsed.head.uri) 1.\(parsed.head.version.minor) \(parsed.framing) "
                + HTTP1EventLog<ClientRequestParser.Head>.fields(parsed.head.headers)
        }
        for piece in HTTP1EventLog<ClientRequestParser.Head>.pieces(wire, step: step) {
            parser.append(piece)
            while let event = try parser.next() { log.record(event) }
        }
        return log.lines
    }

    private func parseError(_ wire: String) -> HTTPParserError? {
        do {
            _ = try events(wire)
            return nil
        } catch {
            return error
        }
    }

    @Test("bodiless, Content-Length and chunked requests, whole and one byte at a time, give the same events")
    func framing() throws {
        let wire =
            "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A:  v \r\n\r\n"
            + "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "\r\n"  // a stray line ending between requests is skipped
            + "PUT /c HTTP/1.0\r\nContent-Length: 0\r\n\r\n"
            + "PATCH /d HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: t\r\n\r\n"
            + "DELETE /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        let expected = [
            "head GET /a?b=1 1.1 noBody Host=x,X-A=v", "end",
            "head POST /p 1.1 length(5) Host=x,Content-Length=5", "body hello", "end",
            "head PUT /c 1.0 length(0) Content-Length=0", "end",
            "head PATCH /d 1.1 chunked Transfer-Encoding=chunked", "body abc0123456789", "end X-T=t",
            "head DELETE /e 1.1 chunked Transfer-Encoding=chunked", "end",
        ]
        #expect(try events(wire) == expected)
        #expect(try events(wire, step: 1) == expected)
        #expect(try events(wire, step: 7) == expected)
    }

    @Test("bare LF line endings are accepted; any token is a method")
    func lenientWhereSafe() throws {
        #expect(try events("GET / HTTP/1.1\nHost: x\n\n") == ["head GET / 1.1 noBody Host=x", "end"])
        #expect(try events("PURGE /x HTTP/1.1\r\n\r\n") == ["head PURGE /x 1.1 noBody ", "end"])
    }

    @Test("the next head is not parsed until the request before it was read to its end")
    func boundary() throws {
        var parser = ClientRequestParser()
        parser.append(ByteBuffer(string: "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nabGET /2 HTTP/1.1\r\n\r\n"))
        #expect(parser.isAtRequestBoundary)
        guard case .head = try parser.next() else { Issue.record("no head"); return }
        #expect(!parser.isAtRequestBoundary)
        guard case .body(let body) = try parser.next() else { Issue.record("no body"); return }
        #expect(String(buffer: body) == "ab")
        #expect(!parser.isAtRequestBoundary)
        guard case .end = try parser.next() else { Issue.record("no end"); return }
        #expect(parser.isAtRequestBoundary)
        #expect(parser.hasUnparsedBytes)
        guard case .head(let second) = try parser.next() else { Issue.record("no second head"); return }
        #expect(second.head.uri == "/2")
        guard case .end = try parser.next() else { Issue.record("no second end"); return }
        #expect(!parser.hasUnparsedBytes)
        #expect(try parser.next() == nil)
    }

    @Test("Connection values and the presence of hop-by-hop fields are noted while parsing")
    func hopByHopNoted() throws {
        var parser = ClientRequestParser()
        parser.append(
            ByteBuffer(
                string: "GET /1 HTTP/1.1\r\nConnection: close, X-A\r\nconnection: te\r\n\r\n"
                    + "GET /2 HTTP/1.1\r\nKeep-Alive: 5\r\n\r\nGET /3 HTTP/1.1\r\nX-Keep-Alive: 1\r\nTE-X: 1\r\n\r\n"))
        var heads: [ClientRequestParser.Head] = []
        while let event = try parser.next() {
            if case .head(let head) = event { heads.append(head) }
        }
        #expect(heads.map(\.connection) == [["close, X-A", "te"], [], []])
        #expect(heads.map(\.hasHopByHop) == [true, true, false])
    }

    @Test("a refused framing stops the parser: what follows its head is never read as a request")
    func refusedFramingStops() throws {
        let wire = "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n"
        let out = try events(wire)
        #expect(out.count == 1)
        #expect(out[0].hasPrefix("head POST / 1.1 reject"))
    }

    @Test(
        "malformed requests are errors",
        arguments: [
            ("GET  / HTTP/1.1\r\n\r\n", HTTPParserError.invalidURL),
            ("GET / HTTP/1.1 \r\n\r\n", .invalidVersion),
            ("GET /\r\n\r\n", .invalidVersion),
            ("GET / HTTP/2.0\r\n\r\n", .invalidVersion),
            ("GET / http/1.1\r\n\r\n", .invalidVersion),
            ("G(T / HTTP/1.1\r\n\r\n", .invalidMethod),
            (" / HTTP/1.1\r\n\r\n", .invalidMethod),
            ("GET /a\u{7F}b HTTP/1.1\r\n\r\n", .invalidURL),
            ("GET /é HTTP/1.1\r\n\r\n", .invalidURL),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n", .invalidHeaderToken),
            ("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", .invalidHeaderToken),
            ("GET / HTTP/1.1\r\n: x\r\n\r\n", .invalidHeaderToken),
            ("GET / HTTP/1.1\r\nX: a\u{1}b\r\n\r\n", .invalidHeaderToken),
            ("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", .invalidHeaderToken),
            ("GET /a\rb HTTP/1.1\r\n\r\n", .lfExpected),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunkSize),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", .invalidChunkSize),
        ])
    func malformed(wire: String, error: HTTPParserError) {
        #expect(parseError(wire) == error, "\(wire.debugDescription)")
    }

    @Test("a head over 80 KiB is an overflow, whether or not its end has arrived")
    func headOverflow() {
        let big = "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: HTTP1Syntax.maxHeadBytes)
        #expect(parseError(big) == .headerOverflow)
        #expect(parseError(big + "\r\n\r\n") == .headerOverflow)
        #expect(parseError(String(repeating: "a", count: HTTP1Syntax.maxHeadBytes + 1)) == .headerOverflow)
    }

    @Test("the framing decision", arguments: [
        (["5"], [String](), "HTTP/1.1", RequestFraming.length(5)),
        (["5, 5"], [], "HTTP/1.1", .length(5)),
        (["5", "5"], [], "HTTP/1.1", .length(5)),
        ([], ["gzip, chunked"], "HTTP/1.1", .chunked),
        ([], [], "HTTP/1.1", .noBody),
    ])
    func framingDecision(lengths: [String], codings: [String], version: String, expected: RequestFraming) {
        let decided = RequestFraming.decide(
            method: .POST, version: version == "HTTP/1.1" ? .http1_1 : .http1_0, contentLengths: lengths, transferEncodings: codings)
        #expect(decided == expected)
    }

    @Test("refused framings", arguments: [
        (["5"], ["chunked"], "HTTP/1.1"),
        (["5", "6"], [], "HTTP/1.1"),
        (["5,"], [], "HTTP/1.1"),
        (["-1"], [], "HTTP/1.1"),
        ([""], [], "HTTP/1.1"),
        ([], ["chunked, gzip"], "HTTP/1.1"),
        ([], ["chunked", "chunked"], "HTTP/1.1"),
        ([], ["chunked"], "HTTP/1.0"),
    ])
    func refusedFraming(lengths: [String], codings: [String], version: String) {
        let decided = RequestFraming.decide(
            method: .POST, version: version == "HTTP/1.1" ? .http1_1 : .http1_0, contentLengths: lengths, transferEncodings: codings)
        guard case .reject(let error) = decided else {
            Issue.record("\(lengths) \(codings) \(version) gave \(decided)")
            return
        }
        #expect(error.status == .badRequest)
    }
}

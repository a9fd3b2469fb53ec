import NIOCore
import NIOHTTP1
import Testing

@testable import MoongateProxy

@Suite("Client response writer: framing and wire bytes")
struct ClientResponseWriterTests {
    private func head(_ status: HTTPResponseStatus, _ headers: [(String, String)] = [], version: HTTPVersion = .http1_1) -> HTTPResponseHead {
        HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(headers))
    }

    /// Runs `body` on a fresh writer and returns every byte it produced, in order.
    private func wire(answeringHead: Bool = false, _ body: (inout ClientResponseWriter, (ByteBuffer) -> Void) -> Void) -> String {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        writer.answeringHead = answeringHead
        var out = ByteBuffer()
        body(&writer) { buffer in
            var buffer = buffer
            out.writeBuffer(&buffer)
        }
        if var rest = writer.takePending() { out.writeBuffer(&rest) }
        return String(buffer: out)
    }

    @Test("a Content-Length body goes out as it is, head and body in one buffer")
    func contentLength() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        writer.head(head(.ok, [("content-length", "5"), ("transfer-encoding", "chunked")]))
        writer.body(ByteBuffer(string: "hello")) { _ in Issue.record("a small body is copied, not written apart") }
        writer.end(nil)
        let bytes = writer.takePending().map { String(buffer: $0) }
        #expect(bytes == "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
        #expect(writer.takePending() == nil)
    }

    @Test("without a length an HTTP/1.1 body is chunked, trailers included")
    func chunked() {
        let bytes = wire { writer, write in
            writer.head(head(.ok, [("x-a", "1")]))
            writer.body(ByteBuffer(string: "abc"), write: write)
            writer.body(ByteBuffer(string: ""), write: write)
            writer.end(HTTPHeaders([("x-trailer", "t")]))
        }
        #expect(bytes == "HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-trailer: t\r\n\r\n")
    }

    @Test("an HTTP/1.0 response without a length is delimited by the close: no chunking")
    func http10() {
        let bytes = wire { writer, write in
            writer.head(head(.ok, [], version: .http1_0))
            writer.body(ByteBuffer(string: "abc"), write: write)
            writer.end(nil)
        }
        #expect(bytes == "HTTP/1.0 200 OK\r\n\r\nabc")
    }

    @Test("204 and 304 lose their framing headers and any body")
    func noContent() {
        for status in [HTTPResponseStatus.noContent, .notModified] {
            let bytes = wire { writer, write in
                writer.head(head(status, [("content-length", "3"), ("etag", "x")]))
                writer.body(ByteBuffer(string: "abc"), write: write)
                writer.end(nil)
            }
            #expect(bytes == "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\netag: x\r\n\r\n")
        }
    }

    @Test("a response to HEAD keeps its headers and drops the body; the next response is not affected")
    func headRequest() {
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        writer.answeringHead = true
        writer.head(head(.ok, [("content-length", "3")]))
        writer.body(ByteBuffer(string: "abc")) { _ in Issue.record("no body for HEAD") }
        writer.end(nil)
        writer.head(head(.ok))
        writer.end(nil)
        let bytes = writer.takePending().map { String(buffer: $0) }
        #expect(
            bytes == "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n" + "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n")
    }

    @Test("a large body buffer is written by itself after what was pending, inside its chunk framing")
    func largeBody() {
        let large = String(repeating: "x", count: ClientResponseWriter.copyLimit)
        var writes: [String] = []
        var writer = ClientResponseWriter(allocator: ByteBufferAllocator())
        writer.head(head(.ok))
        writer.body(ByteBuffer(string: large)) { writes.append(String(buffer: $0)) }
        writer.end(nil)
        if let rest = writer.takePending() { writes.append(String(buffer: rest)) }
        #expect(writes.count == 3)
        #expect(writes.first == "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\(String(large.utf8.count, radix: 16))\r\n")
        #expect(writes.dropFirst().first == large)
        #expect(writes.last == "\r\n0\r\n\r\n")
    }

    @Test("an interim 100 Continue has no framing and leaves the final head to come")
    func interim() {
        let bytes = wire { writer, write in
            writer.head(head(.continue))
            writer.head(head(.created, [("content-length", "2")]))
            writer.body(ByteBuffer(string: "ok"), write: write)
            writer.end(nil)
        }
        #expect(bytes == "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok")
    }

    @Test("a whole gateway-made response, and its HEAD form")
    func complete() {
        let errorHead = head(.badGateway, [("content-type", "application/json"), ("content-length", "2")])
        #expect(wire { writer, _ in writer.complete(errorHead, body: Array("{}".utf8)) }
            == "HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
        #expect(wire(answeringHead: true) { writer, _ in writer.complete(errorHead, body: Array("{}".utf8)) }
            == "HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n")
    }
}

@Suite("Forwarded headers: one-pass rewriting")
struct ForwardedHeadersTests {
    /// The Connection tokens, as the parsers note them.
    private func tokens(_ headers: HTTPHeaders) -> [Substring] {
        ForwardedHeaders.connectionTokens(headers["connection"])
    }

    @Test("hop-by-hop headers and those named in Connection go; the rest keep their order")
    func hopByHop() {
        var headers = HTTPHeaders([
            ("Connection", "keep-alive, X-Secret ,"), ("X-Secret", "1"), ("a", "1"), ("Keep-Alive", "timeout=5"), ("TE", "trailers"),
            ("Proxy-Authorization", "x"), ("b", "2"), ("Upgrade", "h2c"), ("Transfer-Encoding", "chunked"), ("x-secret", "2"),
        ])
        ForwardedHeaders.removeHopByHop(&headers, named: tokens(headers))
        #expect(headers.map { "\($0.name)=\($0.value)" } == ["a=1", "b=2"])
        var untouched = HTTPHeaders([("a", "1"), ("te-not", "x")])
        ForwardedHeaders.removeHopByHop(&untouched, named: tokens(untouched))
        #expect(untouched.map { $0.name } == ["a", "te-not"])
    }

    @Test("the upstream request: client framing, Expect and hop-by-hop gone; X-Forwarded-*, Via and Host set")
    func upstreamHeaders() {
        let client = HTTPHeaders([
            ("Host", "api.example.com"), ("Content-Length", "3"), ("Expect", "100-continue"), ("X-Forwarded-For", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.2"), ("X-Forwarded-Proto", "https"), ("Via", "1.0 edge"), ("Connection", "close"), ("accept", "*/*"),
        ])
        let untrusted = ForwardedHeaders.upstreamRequestHeaders(
            from: client, named: tokens(client), clientIP: "127.0.0.1", peerIsTrusted: false, host: "origin:80", scheme: "http")
        #expect(
            untrusted.map { "\($0.name)=\($0.value)" } == [
                "accept=*/*", "x-forwarded-for=10.0.0.1, 10.0.0.2, 127.0.0.1", "x-forwarded-proto=http",
                "x-forwarded-host=api.example.com", "via=1.0 edge, 1.1 moongate", "host=origin:80",
            ])
        let trusted = ForwardedHeaders.upstreamRequestHeaders(
            from: client, named: tokens(client), clientIP: "127.0.0.1", peerIsTrusted: true, host: "origin:80", scheme: "http")
        #expect(trusted.first(name: "x-forwarded-proto") == "https")
        #expect(trusted.first(name: "x-forwarded-host") == "api.example.com")
        let namingHost = ForwardedHeaders.upstreamRequestHeaders(
            from: HTTPHeaders([("Host", "a.example"), ("Connection", "host")]), named: ["host"], clientIP: nil, peerIsTrusted: false, host: "origin",
            scheme: "http")
        #expect(namingHost.first(name: "x-forwarded-host") == "a.example")
    }

    @Test("keep-alive: HTTP/1.1 unless Connection says close, HTTP/1.0 only when it says keep-alive")
    func keepAlive() {
        #expect(ForwardedHeaders.isKeepAlive(connectionTokens: tokens(HTTPHeaders()), version: .http1_1))
        #expect(!ForwardedHeaders.isKeepAlive(connectionTokens: tokens(HTTPHeaders([("Connection", "foo, Close")])), version: .http1_1))
        #expect(!ForwardedHeaders.isKeepAlive(connectionTokens: tokens(HTTPHeaders()), version: .http1_0))
        #expect(ForwardedHeaders.isKeepAlive(connectionTokens: tokens(HTTPHeaders([("connection", "Keep-Alive")])), version: .http1_0))
        #expect(ForwardedHeaders.isKeepAlive(connectionTokens: tokens(HTTPHeaders([("x-close", "close")])), version: .http1_1))
    }

    @Test("header names compare without regard to ASCII case, and only to ASCII case")
    func caseInsensitive() {
        #expect("Content-Length".equalsIgnoringASCIICase("content-length"))
        #expect(!"Content-Length".equalsIgnoringASCIICase("content-lengtH2"))
        #expect(!"a-b".equalsIgnoringASCIICase("a\rb"))
        #expect(!"@".equalsIgnoringASCIICase("`"))
    }
}

@Suite("Upstream request writer: framing and wire bytes")
struct UpstreamRequestWriterTests {
    private func wire(_ head: HTTPRequestHead, body: [String] = [], trailers: HTTPHeaders? = nil) -> String {
        var writer = UpstreamRequestWriter(allocator: ByteBufferAllocator())
        var out = ByteBuffer()
        writer.head(head)
        for part in body {
            writer.body(ByteBuffer(string: part)) { buffer in
                var buffer = buffer
                out.writeBuffer(&buffer)
            }
        }
        writer.end(trailers)
        if var rest = writer.takePending() { out.writeBuffer(&rest) }
        return String(buffer: out)
    }

    private func head(_ method: HTTPMethod, _ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: "/a?b=1", headers: HTTPHeaders(headers))
    }

    @Test("a GET goes out as head only, in one buffer")
    func get() {
        #expect(wire(head(.GET, [("host", "o")])) == "GET /a?b=1 HTTP/1.1\r\nhost: o\r\n\r\n")
    }

    @Test("Content-Length wins over Transfer-Encoding and the body goes as is")
    func contentLength() {
        #expect(
            wire(head(.PUT, [("content-length", "3"), ("transfer-encoding", "chunked")]), body: ["abc"])
                == "PUT /a?b=1 HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc")
    }

    @Test("a POST without a length is chunked, trailers included; TRACE loses its framing")
    func chunked() {
        #expect(
            wire(head(.POST, []), body: ["ab", "c"], trailers: HTTPHeaders([("x-t", "1")]))
                == "POST /a?b=1 HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\nx-t: 1\r\n\r\n")
        #expect(wire(head(.DELETE, [("transfer-encoding", "chunked")]), body: ["x"])
            == "DELETE /a?b=1 HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n")
        #expect(wire(head(.TRACE, [("content-length", "0")])) == "TRACE /a?b=1 HTTP/1.1\r\n\r\n")
    }
}

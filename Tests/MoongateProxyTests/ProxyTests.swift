import HTTPTestSupport
import MoongateCore
import Testing

@testable import MoongateProxy

/// The proxy on real sockets: a raw client -> the gateway -> a NIO origin.
@Suite("Proxying")
struct ProxyTests {
    /// Lines `key=value` of the test origin's echo.
    func echoed(_ response: RawHTTPClient.Response) -> [String: String] {
        var fields: [String: String] = [:]
        for line in response.text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return fields
    }

    @Test("GET and POST are proxied with forwarding headers, hop-by-hop headers removed")
    func getAndPost() async throws {
        try await GatewayHarness.with { gateway in
            let client = try gateway.client()
            let get = try client.request(
                "GET", "/items/1?x=1", headers: ["Connection": "x-private", "X-Private": "secret", "X-Forwarded-For": "203.0.113.9"])
            #expect(get.status == 200)
            let fields = echoed(get)
            #expect(fields["uri"] == "/items/1?x=1")
            #expect(fields["h:x-private"] == nil)
            #expect(fields["h:x-forwarded-for"] == "203.0.113.9, 127.0.0.1")
            #expect(fields["h:x-forwarded-proto"] == "http")
            #expect(fields["h:x-forwarded-host"] == "example.test")
            #expect(fields["h:via"] == "1.1 moongate")
            #expect(fields["h:host"] == "127.0.0.1:\(gateway.origin.port)")
            #expect(get.header("x-origin-private") == nil, "headers named in the upstream's Connection are removed")
            #expect(get.header("x-origin") == "test")

            let post = try client.request("POST", "/submit", body: Array("hello body".utf8))
            #expect(post.status == 200)
            #expect(echoed(post)["method"] == "POST")
            #expect(echoed(post)["body-bytes"] == "10")
        }
    }

    @Test("keep-alive: 100 sequential requests use one upstream connection")
    func keepAliveReuse() async throws {
        try await GatewayHarness.with { gateway in
            let client = try gateway.client()
            for index in 0..<100 {
                let response = try client.request("GET", "/n/\(index)")
                #expect(response.status == 200)
            }
            #expect(gateway.origin.requestCount == 100)
            #expect(gateway.origin.connectionCount == 1)
        }
    }

    @Test("no route: 404 with a JSON message, and the connection stays usable")
    func noRoute() async throws {
        try await GatewayHarness.with([
            (RouteSpec(name: "api", paths: ["/api"]), CompiledRoute(name: "api", upstreams: [WeightedUpstream(name: "origin", weight: 1)]))
        ]) { gateway in
            let client = try gateway.client()
            let missing = try client.request("GET", "/apix")
            #expect(missing.status == 404)
            #expect(missing.text == #"{"message":"no route matched"}"#)
            #expect(missing.header("content-type") == "application/json")
            #expect(try client.request("GET", "/api/1").status == 200)
        }
    }

    @Test("strip_prefix and preserve_host")
    func stripAndPreserve() async throws {
        try await GatewayHarness.with([
            (
                RouteSpec(name: "svc", paths: ["/svc"]),
                CompiledRoute(name: "svc", upstreams: [WeightedUpstream(name: "origin", weight: 1)], stripPrefix: true, preserveHost: true)
            )
        ]) { gateway in
            let client = try gateway.client()
            let fields = echoed(try client.request("GET", "/svc/a/b?q=1", host: "api.example.com"))
            #expect(fields["uri"] == "/a/b?q=1")
            #expect(fields["h:host"] == "api.example.com")
            #expect(echoed(try client.request("GET", "/svc"))["uri"] == "/")
        }
    }

    @Test("a slow upstream gives 504 at the read timeout")
    func readTimeout() async throws {
        try await GatewayHarness.with(timeouts: UpstreamTimeouts(connect: .seconds(2), read: .milliseconds(300), write: .seconds(5))) { gateway in
            let response = try gateway.client().request("GET", "/slow")
            #expect(response.status == 504)
            #expect(response.text.contains("timed out"))
        }
    }

    @Test("a refused connection gives 502")
    func refused() async throws {
        try await GatewayHarness.with(
            [(RouteSpec(name: "dead", paths: ["/"]), CompiledRoute(name: "dead", upstreams: [WeightedUpstream(name: "dead", weight: 1)]))],
            extraUpstreams: [UpstreamSpec(name: "dead", targets: [BalancerTarget(address: "127.0.0.1:1")])]) { gateway in
            let response = try gateway.client().request("GET", "/")
            #expect(response.status == 502)
            #expect(response.text.hasPrefix(#"{"message":"#))
        }
    }

    @Test(
        "request smuggling patterns get 400",
        arguments: [
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nBad\u{1}Name: x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        ])
    func smuggling(request: String) async throws {
        try await GatewayHarness.with { gateway in
            let client = try gateway.client()
            try client.send(request)
            let response = try client.readResponse()
            #expect(response.status == 400, "\(request.debugDescription)")
            #expect(gateway.origin.requestCount == 0)
        }
    }

    @Test("headers over max_header_bytes get 431; a body over max_body_bytes gets 413")
    func sizeLimits() async throws {
        try await GatewayHarness.with(limits: ProxyLimits(maxHeaderBytes: 1024, maxBodyBytes: 1000)) { gateway in
            let big = try gateway.client().request("GET", "/", headers: ["X-Big": String(repeating: "a", count: 2000)])
            #expect(big.status == 431)
            let declared = try gateway.client().request("POST", "/", body: [UInt8](repeating: 1, count: 2000))
            #expect(declared.status == 413)
            let chunked = try gateway.client()
            try chunked.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            try chunked.send("800\r\n" + String(repeating: "b", count: 2048) + "\r\n0\r\n\r\n")
            #expect(try chunked.readResponse().status == 413)
        }
    }

    @Test("20 MiB bodies pass intact both ways")
    func largeBodies() async throws {
        try await GatewayHarness.with(limits: ProxyLimits(maxBodyBytes: 64 << 20)) { gateway in
            let size = 20 << 20
            let body = Array((0..<(size / 65536)).map { _ in patternChunk }.joined())
            var expected = fnvOffset
            fnv1a(body, into: &expected)
            let client = try gateway.client()
            let up = try client.request("POST", "/upload", body: body)
            #expect(echoed(up)["body-bytes"] == String(size))
            #expect(echoed(up)["body-fnv"] == String(expected))
            let down = try client.request("GET", "/bytes/\(size)")
            #expect(down.body.count == size)
            var received = fnvOffset
            fnv1a(down.body, into: &received)
            #expect(received == expected)
        }
    }

    @Test("a drain lets an in-flight request finish")
    func drainFinishesInFlight() async throws {
        try await GatewayHarness.with { gateway in
            let client = try gateway.client()
            // The origin answers after 2 s; the drain starts once it has the request.
            try client.send("GET /delay/2000 HTTP/1.1\r\nHost: a\r\n\r\n")
            while gateway.origin.requestCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
            gateway.server.beginDrain()
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "delayed 2000\n")
            #expect(response.header("connection") == "close")
            await gateway.server.waitForConnections(timeout: .seconds(5))
            #expect(throws: (any Error).self) { _ = try RawHTTPClient(port: gateway.port).request("GET", "/") }
        }
    }

    @Test("a body whose Content-Length is named in Connection still goes up framed (no second request)")
    func contentLengthInConnection() async throws {
        try await GatewayHarness.with { gateway in
            let client = try gateway.client()
            let smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
            try client.send(
                "GET /first HTTP/1.1\r\nHost: a\r\nConnection: content-length\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n"
                    + smuggled)
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(echoed(response)["uri"] == "/first")
            #expect(echoed(response)["body-bytes"] == String(smuggled.utf8.count))
            #expect(try client.request("GET", "/second").status == 200)
            #expect(gateway.origin.requestCount == 2)
        }
    }

    @Test("TRACE with content gets 400")
    func traceWithBody() async throws {
        try await GatewayHarness.with { gateway in
            let response = try gateway.client().request("TRACE", "/", body: Array("x".utf8))
            #expect(response.status == 400)
            #expect(gateway.origin.requestCount == 0)
        }
    }

    @Test("pipelined requests get their responses in order")
    func pipelining() async throws {
        try await GatewayHarness.with { gateway in
            let client = try gateway.client()
            try client.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /nowhere-404 HTTP/1.1\r\nHost: a\r\n\r\nGET /three HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(echoed(try client.readResponse())["uri"] == "/one")
            #expect(echoed(try client.readResponse())["uri"] == "/nowhere-404")
            #expect(echoed(try client.readResponse())["uri"] == "/three")
        }
    }

    @Test("pipelined requests with bodies, a gateway error between them, and a close that ends the line")
    func pipeliningWithBodiesAndClose() async throws {
        try await GatewayHarness.with { gateway in
            let client = try gateway.client()
            var text = ""
            for index in 0..<20 {
                text += "POST /body/\(index) HTTP/1.1\r\nHost: a\r\nContent-Length: \(index)\r\n\r\n"
                text += String(repeating: "x", count: index)
                if index == 10 { text += "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n" }
            }
            try client.send(text)
            for index in 0..<11 {
                let fields = echoed(try client.readResponse())
                #expect(fields["uri"] == "/body/\(index)")
                #expect(fields["body-bytes"] == String(index))
            }
            // The smuggling pattern is refused (400) and closes the connection: the
            // requests pipelined behind it are not served.
            #expect(try client.readResponse().status == 400)
            #expect(try client.isClosedByPeer())
            #expect(gateway.origin.requestCount == 11)
        }
        try await GatewayHarness.with { gateway in
            let client = try gateway.client()
            try client.send(
                "GET /first HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(echoed(try client.readResponse())["uri"] == "/first")
            #expect(try client.isClosedByPeer())
            #expect(gateway.origin.requestCount == 1)
        }
    }

    @Test("a client that starts a request and stalls gets 408 at header_timeout")
    func headerTimeout() async throws {
        try await GatewayHarness.with(limits: ProxyLimits(headerTimeout: .milliseconds(300), idleTimeout: .seconds(30))) { gateway in
            let client = try gateway.client()
            try client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Partial")
            let response = try client.readResponse()
            #expect(response.status == 408)
            #expect(response.text.contains("timed out"))
            #expect(try client.isClosedByPeer())
        }
    }

    @Test("Expect: 100-continue is answered by the gateway")
    func expectContinue() async throws {
        try await GatewayHarness.with { gateway in
            let client = try gateway.client()
            try client.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let interim = try client.readResponse(forHead: true)
            #expect(interim.status == 100)
            try client.send("hello")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(echoed(response)["body-bytes"] == "5")
            #expect(echoed(response)["h:expect"] == nil)
        }
    }

    @Test("query characters the upstream codec refuses are percent-encoded")
    func queryEncoding() async throws {
        try await GatewayHarness.with { gateway in
            let response = try gateway.client().request("GET", "/q?a={b}|c")
            #expect(response.status == 200)
            #expect(echoed(response)["uri"] == "/q?a=%7Bb%7D%7Cc")
        }
    }

    @Test("a pooled connection the upstream closed is replaced for a bodyless GET; a POST gets 502")
    func staleConnectionReplay() async throws {
        try await GatewayHarness.with { gateway in
            let client = try gateway.client()
            #expect(try client.request("GET", "/close-next").status == 200)
            let replayed = try client.request("GET", "/after")
            #expect(replayed.status == 200)
            #expect(echoed(replayed)["uri"] == "/after")
            #expect(gateway.origin.connectionCount == 2)

            #expect(try client.request("GET", "/close-next").status == 200)
            let post = try client.request("POST", "/after", body: Array("x".utf8))
            #expect(post.status == 502)
        }
    }
}

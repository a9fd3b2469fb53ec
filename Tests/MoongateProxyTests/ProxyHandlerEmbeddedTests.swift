import Foundation
import Logging
import MoongateCore
import MoongateScripting
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import MoongateProxy

/// ProxyHandler on an EmbeddedChannel: the paths that answer without an upstream.
@Suite("ProxyHandler (embedded)")
struct ProxyHandlerEmbeddedTests {
    func makeChannel(limits: ProxyLimits = ProxyLimits()) throws -> (EmbeddedChannel, ProxyHandler, ServerState) {
        let runtime = RuntimeConfig(
            proxy: ProxySettings(listen: ["127.0.0.1:0"], limits: limits),
            routeSpecs: [RouteSpec(name: "api", paths: ["/api"])],
            routes: [CompiledRoute(name: "api", upstreams: [WeightedUpstream(name: "origin", weight: 1)])],
            upstreams: ["origin": UpstreamSpec(name: "origin", targets: [BalancerTarget(address: "127.0.0.1:9")])])
        let store = ConfigStore(try ServingConfig(generation: 1, runtime: runtime))
        let channel = EmbeddedChannel()
        let server = ServerState(scheme: "http")
        let upstreams = UpstreamDirectory(
            group: channel.eventLoop, logger: Logger(label: "test"), registry: ServiceRegistry(),
            makeNameWatcher: DNSNameWatcher.make)
        upstreams.apply(runtime)
        let loop = LoopContext(eventLoop: channel.eventLoop, plugins: PluginServices(), upstreams: upstreams)
        let handler = ProxyHandler(store: store, loop: loop, server: server)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, handler, server)
    }

    /// A request head as the client sends it.
    func head(_ uri: String, method: String = "GET", headers: [(String, String)] = [("host", "a")]) -> ByteBuffer {
        var text = "\(method) \(uri) HTTP/1.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        return ByteBuffer(string: text + "\r\n")
    }

    /// The handler writes wire bytes (its own response encoder): read them all and
    /// split status line, headers and body.
    func readResponse(_ channel: EmbeddedChannel) throws -> (HTTPResponseHead, String) {
        // Flushes wait for the end of the loop's tick (TickFlushes): run it.
        channel.embeddedEventLoop.run()
        var wire = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { wire += String(buffer: buffer) }
        guard let split = wire.range(of: "\r\n\r\n") else { throw EmbeddedTestError.noHead }
        let lines = wire[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ")
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let code = Int(statusLine[1]) else { throw EmbeddedTestError.noHead }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw EmbeddedTestError.noHead }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers)
        return (head, String(wire[split.upperBound...]))
    }

    enum EmbeddedTestError: Error { case noHead }

    @Test("no route: 404 JSON; the body is read and dropped, then the connection is idle for the next request")
    func noRoute() throws {
        let (channel, handler, _) = try makeChannel()
        try channel.writeInbound(head("/nope", method: "POST", headers: [("host", "a"), ("content-length", "3")]))
        let (response, body) = try readResponse(channel)
        #expect(response.status == .notFound)
        #expect(body == #"{"message":"no route matched"}"#)
        #expect(handler.state == .rejecting)
        try channel.writeInbound(ByteBuffer(string: "abc"))
        #expect(handler.state == .idle)
        #expect(channel.isActive)
    }

    @Test("headers over the limit: 431 and the connection closes")
    func headersTooLarge() throws {
        let (channel, handler, _) = try makeChannel(limits: ProxyLimits(maxHeaderBytes: 64))
        try channel.writeInbound(head("/api", headers: [("host", "a"), ("x-big", String(repeating: "b", count: 100))]))
        let (response, _) = try readResponse(channel)
        #expect(response.status == .requestHeaderFieldsTooLarge)
        #expect(response.headers["connection"] == ["close"])
        #expect(handler.state == .closed)
    }

    @Test("Content-Length with Transfer-Encoding: 400")
    func smuggling() throws {
        let (channel, _, _) = try makeChannel()
        try channel.writeInbound(head("/api", headers: [("host", "a"), ("content-length", "3"), ("transfer-encoding", "chunked")]))
        let (response, _) = try readResponse(channel)
        #expect(response.status == .badRequest)
    }

    @Test("a drain closes an idle connection at once")
    func drainIdle() throws {
        let (channel, handler, _) = try makeChannel()
        handler.drainRequested()
        #expect(handler.state == .closed)
        #expect(!channel.isActive)
    }
}

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
        let handler = ProxyHandler(store: store, loop: loop, server: server, activity: ConnectionActivity())
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, handler, server)
    }

    func head(_ uri: String, headers: [(String, String)] = [("host", "a")]) -> HTTPServerRequestPart {
        .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: HTTPHeaders(headers)))
    }

    func readResponse(_ channel: EmbeddedChannel) throws -> (HTTPResponseHead, String) {
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            throw EmbeddedTestError.noHead
        }
        var body = ""
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            if case .body(.byteBuffer(let buffer)) = part { body += String(buffer: buffer) }
            if case .end = part { break }
        }
        return (head, body)
    }

    enum EmbeddedTestError: Error { case noHead }

    @Test("no route: 404 JSON, and the connection goes back to idle for the next request")
    func noRoute() throws {
        let (channel, handler, _) = try makeChannel()
        try channel.writeInbound(head("/nope"))
        let (response, body) = try readResponse(channel)
        #expect(response.status == .notFound)
        #expect(body == #"{"message":"no route matched"}"#)
        #expect(handler.state == .rejecting)
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
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

import HTTPTestSupport
import MoongateCore
import NIOCore
import NIOPosix

@testable import MoongateProxy

/// A gateway in-process on an ephemeral port, in front of a TestOrigin.
final class GatewayHarness {
    let group: MultiThreadedEventLoopGroup
    let origin: TestOrigin
    let server: GatewayServer
    let port: Int

    /// `routes`: (spec, compiled) pairs; every route's upstream is "origin" unless the
    /// compiled route names others (then `upstreams` supplies them).
    init(
        _ routes: [(RouteSpec, CompiledRoute)] = [
            (RouteSpec(name: "all", paths: ["/"]), CompiledRoute(name: "all", upstreams: [WeightedUpstream(name: "origin", weight: 100)]))
        ],
        extraUpstreams: [UpstreamSpec] = [],
        limits: ProxyLimits = ProxyLimits(),
        timeouts: UpstreamTimeouts = UpstreamTimeouts(connect: .seconds(5), read: .seconds(60), write: .seconds(60)),
        loops: Int = 1
    ) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
        origin = try await TestOrigin(group: group)
        var upstreams: [String: UpstreamSpec] = [
            "origin": UpstreamSpec(
                name: "origin", targets: [BalancerTarget(address: "127.0.0.1:\(origin.port)")], timeouts: timeouts)
        ]
        for upstream in extraUpstreams { upstreams[upstream.name] = upstream }
        let runtime = RuntimeConfig(
            proxy: ProxySettings(listen: ["127.0.0.1:0"], limits: limits, drainTimeout: .seconds(5)),
            routeSpecs: routes.map(\.0), routes: routes.map(\.1), upstreams: upstreams)
        let store = ConfigStore(try ServingConfig(generation: 1, runtime: runtime))
        server = GatewayServer(store: store, group: group)
        port = try await server.start().first!.port!
    }

    func client() throws -> RawHTTPClient { try RawHTTPClient(port: port) }

    /// Starts a gateway, runs `body`, and shuts everything down whatever happens.
    static func with(
        _ routes: [(RouteSpec, CompiledRoute)] = [
            (RouteSpec(name: "all", paths: ["/"]), CompiledRoute(name: "all", upstreams: [WeightedUpstream(name: "origin", weight: 100)]))
        ],
        extraUpstreams: [UpstreamSpec] = [],
        limits: ProxyLimits = ProxyLimits(),
        timeouts: UpstreamTimeouts = UpstreamTimeouts(connect: .seconds(5), read: .seconds(60), write: .seconds(60)),
        _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        let gateway = try await GatewayHarness(routes, extraUpstreams: extraUpstreams, limits: limits, timeouts: timeouts)
        do {
            try await body(gateway)
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }

    func shutdown() async {
        server.stopBackgroundWork()
        await origin.close()
        try? await group.shutdownGracefully()
    }
}

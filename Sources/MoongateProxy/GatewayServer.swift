import Logging
import MoongateScripting
import MoongateCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Flags shared by every connection of a server.
final class ServerState: Sendable {
    let scheme: String
    private let draining = NIOLockedValueBox(false)

    init(scheme: String) { self.scheme = scheme }

    var isDraining: Bool { draining.withLockedValue { $0 } }
    func startDraining() { draining.withLockedValue { $0 = true } }
}

/// The gateway's HTTP/1.1 listeners on an event loop group.
public final class GatewayServer: Sendable {
    public let store: ConfigStore
    /// Upstreams' live targets and health, probes, DNS and the registry.
    public let upstreams: UpstreamDirectory
    private let group: EventLoopGroup
    private let contexts: LoopContexts
    private let state = ServerState(scheme: "http")
    private let listeners = NIOLockedValueBox<[Channel]>([])
    private let connections = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    public init(
        store: ConfigStore, group: EventLoopGroup, plugins: PluginServices = PluginServices(),
        registry: ServiceRegistry = ServiceRegistry()
    ) {
        self.store = store
        self.group = group
        var logger = Logger(label: "moongate.upstreams")
        logger.logLevel = plugins.logger.logLevel
        let upstreams = UpstreamDirectory(
            group: group, logger: logger, registry: registry, makeNameWatcher: DNSNameWatcher.make)
        self.upstreams = upstreams
        self.contexts = LoopContexts(group: group, plugins: plugins, upstreams: upstreams)
        store.willPublish { config in upstreams.apply(config.runtime) }
    }

    /// Stops health probes, DNS watches and registry expiry (after a drain, or when a
    /// test is done with the server).
    public func stopBackgroundWork() {
        upstreams.stop()
    }

    /// Binds every `proxy.listen` address. Returns the bound addresses (ephemeral
    /// ports resolved).
    public func start() async throws -> [SocketAddress] {
        var bound: [SocketAddress] = []
        for address in store.current.runtime.proxy.listen {
            guard let (host, port) = UpstreamPool.split(address, allowingPortZero: true) else {
                throw GatewayServerError.invalidListenAddress(address)
            }
            let channel = try await bootstrap().bind(host: host, port: port).get()
            listeners.withLockedValue { $0.append(channel) }
            if let local = channel.localAddress { bound.append(local) }
        }
        return bound
    }

    private func bootstrap() -> ServerBootstrap {
        let store = self.store
        let contexts = self.contexts
        let state = self.state
        let connections = self.connections
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The proxy handler alone: it parses requests itself
                    // (ClientRequestParser), holds pipelined ones back, and encodes its
                    // responses (ClientResponseWriter).
                    try channel.pipeline.syncOperations.addHandler(
                        ProxyHandler(store: store, loop: contexts.context(for: channel.eventLoop), server: state))
                    let id = ObjectIdentifier(channel)
                    connections.withLockedValue { $0[id] = channel }
                    channel.closeFuture.whenComplete { _ in
                        _ = connections.withLockedValue { $0.removeValue(forKey: id) }
                    }
                }
            }
    }

    /// Stops accepting, lets in-flight requests finish (idle keep-alive connections
    /// close, busy ones close after their response), and returns when every
    /// connection is closed or `timeout` has passed.
    public func drain(timeout: Duration) async {
        beginDrain()
        await waitForConnections(timeout: timeout)
    }

    /// The synchronous half of `drain`: from here on no connection is accepted and every
    /// response closes its connection.
    public func beginDrain() {
        state.startDraining()
        for channel in listeners.withLockedValue({ $0 }) { channel.close(promise: nil) }
        contexts.forEachOnItsLoop { $0.pool.closeIdle() }
        for channel in connections.withLockedValue({ Array($0.values) }) {
            channel.eventLoop.execute {
                try? channel.pipeline.syncOperations.handler(type: ProxyHandler.self).drainRequested()
            }
        }
    }

    /// Waits until every connection has closed, closing the rest after `timeout`.
    public func waitForConnections(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if connections.withLockedValue({ $0.isEmpty }) { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        for channel in connections.withLockedValue({ Array($0.values) }) { channel.close(promise: nil) }
    }
}

public enum GatewayServerError: Error, CustomStringConvertible {
    case invalidListenAddress(String)

    public var description: String {
        switch self {
        case .invalidListenAddress(let address): return "invalid listen address '\(address)' (expected host:port)"
        }
    }
}

import MoongateCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to upstream targets, for one event loop (no cross-thread
/// hand-off: a request is proxied on its client connection's loop).
///
/// Connections are kept per upstream and target, and count against their upstream's
/// `max_connections` (`UpstreamCircuit`). When the limit is reached a request may wait
/// for a connection (`max_pending` of them at once, each at most its connect timeout):
/// it is woken whenever a connection of its upstream is released or closes on this
/// loop, and an idle connection to another target of the upstream is closed to make
/// room. Waiters are per loop: a connection freed on another loop does not wake them
/// (their deadline bounds the wait).
final class UpstreamPool {
    let eventLoop: EventLoop
    private var idle: [PoolKey: [UpstreamConnection]] = [:]
    private var waiters: [String: [Waiter]] = [:]
    /// Idle connections kept per target; more are closed on release.
    let maxIdlePerTarget = 64

    struct PoolKey: Hashable {
        let upstream: String
        let address: String
    }

    private final class Waiter {
        let wake: () -> Void
        var timer: Scheduled<Void>?
        init(wake: @escaping () -> Void) { self.wake = wake }
    }

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// An idle connection to `address` for `upstream`, or a new one (always a new one
    /// when `fresh`), within the upstream's connection limits.
    func lease(upstream: UpstreamRuntime, address: String, connectTimeout: Duration, fresh: Bool = false)
        -> EventLoopFuture<UpstreamConnection>
    {
        let key = PoolKey(upstream: upstream.name, address: address)
        while !fresh, var list = idle[key], let connection = list.popLast() {
            idle[key] = list
            if connection.channel.isActive {
                connection.wasReused = true
                return eventLoop.assumeIsolated().makeSucceededFuture(connection)
            }
        }
        guard upstream.circuit.tryOpenConnection() else {
            return waitForConnection(upstream: upstream, address: address, connectTimeout: connectTimeout, fresh: fresh)
        }
        return connect(key: key, upstream: upstream, connectTimeout: connectTimeout)
    }

    private func connect(key: PoolKey, upstream: UpstreamRuntime, connectTimeout: Duration) -> EventLoopFuture<UpstreamConnection> {
        guard let (host, port) = UpstreamPool.split(key.address) else {
            upstream.circuit.connectionClosed()
            return eventLoop.makeFailedFuture(UpstreamConnectError.invalidAddress(key.address))
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
                }
            }
        let circuit = upstream.circuit
        return bootstrap.connect(host: host, port: port).assumeIsolated().flatMapErrorThrowing { error in
            circuit.connectionClosed()
            throw error
        }.flatMapThrowing { channel in
            channel.closeFuture.assumeIsolated().whenComplete { [self] _ in
                circuit.connectionClosed()
                wakeWaiter(upstream: key.upstream)
            }
            let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
            return UpstreamConnection(key: key, channel: channel, handler: handler)
        }.nonisolated()
    }

    /// At `max_connections`: wait in line (if `max_pending` allows) for a connection
    /// of this upstream to be released or closed, then lease again.
    private func waitForConnection(upstream: UpstreamRuntime, address: String, connectTimeout: Duration, fresh: Bool)
        -> EventLoopFuture<UpstreamConnection>
    {
        guard upstream.circuit.tryStartPending() else {
            return eventLoop.makeFailedFuture(UpstreamConnectError.pendingLimit)
        }
        let promise = eventLoop.makePromise(of: UpstreamConnection.self)
        var settled = false
        let waiter = Waiter { [self] in
            guard !settled else { return }
            settled = true
            upstream.circuit.finishPending()
            lease(upstream: upstream, address: address, connectTimeout: connectTimeout, fresh: fresh).cascade(to: promise)
        }
        waiter.timer = eventLoop.scheduleTask(in: TimeAmount(connectTimeout)) { [self] in
            guard !settled else { return }
            settled = true
            upstream.circuit.finishPending()
            waiters[upstream.name]?.removeAll { $0 === waiter }
            promise.fail(UpstreamConnectError.connectionLimit)
        }
        waiters[upstream.name, default: []].append(waiter)
        // Room may be made at once: an idle connection to another target of this
        // upstream is worth less than a request waiting for a connection.
        if let (key, _) = idle.first(where: { $0.key.upstream == upstream.name && !$0.value.isEmpty }) {
            idle[key]!.removeLast().channel.close(promise: nil)
        }
        return promise.futureResult
    }

    /// A connection of `upstream` was released or closed: the first waiter tries again.
    private func wakeWaiter(upstream: String) {
        guard var line = waiters[upstream], !line.isEmpty else { return }
        let waiter = line.removeFirst()
        waiters[upstream] = line.isEmpty ? nil : line
        waiter.timer?.cancel()
        waiter.wake()
    }

    /// Returns a connection whose exchange completed cleanly, or closes it.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        connection.handler.exchange = nil
        guard reusable, connection.channel.isActive else {
            connection.channel.close(promise: nil)
            return
        }
        // Closed idle connections are skipped at lease time, not scanned for here.
        var list = idle[connection.key, default: []]
        guard list.count < maxIdlePerTarget else {
            connection.channel.close(promise: nil)
            return
        }
        list.append(connection)
        idle[connection.key] = list
        wakeWaiter(upstream: connection.key.upstream)
    }

    /// Closes every idle connection (drain).
    func closeIdle() {
        for list in idle.values { for connection in list { connection.channel.close(promise: nil) } }
        idle = [:]
    }

    /// "host:port" or "[v6]:port" -> (host, port). Port 0 (any free port) only for listeners.
    static func split(_ address: String, allowingPortZero: Bool = false) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            ((allowingPortZero ? 0 : 1)...65535).contains(port)
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}

enum UpstreamConnectError: Error {
    case invalidAddress(String)
    /// `max_connections` reached and the wait for a free one ran out.
    case connectionLimit
    /// `max_connections` reached and `max_pending` requests already wait.
    case pendingLimit
}

/// A leased upstream connection.
final class UpstreamConnection {
    let key: UpstreamPool.PoolKey
    let channel: Channel
    let handler: UpstreamHandler
    /// Taken from the idle list: the upstream may have closed it while it sat there.
    var wasReused = false

    init(key: UpstreamPool.PoolKey, channel: Channel, handler: UpstreamHandler) {
        self.key = key
        self.channel = channel
        self.handler = handler
    }
}

/// Receives what the upstream sends and hands it to the exchange that leased the
/// connection. Holds reads while the client cannot take more (backpressure).
final class UpstreamHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// Not retained: the exchange owns the lease and clears this on release.
    weak var exchange: ProxyHandler?
    private var holdReads = false
    private var pendingRead = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard let exchange else {
            // Nothing is expected on an idle connection: drop it.
            context.close(promise: nil)
            return
        }
        exchange.upstreamReceived(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        exchange?.upstreamClosed(error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        exchange?.upstreamClosed(error: error)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        exchange?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if holdReads {
            pendingRead = true
        } else {
            context.read()
        }
    }

    /// Stops or resumes reading from the upstream (the client's writability).
    func setHoldReads(_ hold: Bool) {
        holdReads = hold
        if !hold, pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }
}

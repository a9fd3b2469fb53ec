import MoongateCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to upstream targets, for one event loop (no cross-thread
/// hand-off: a request is proxied on its client connection's loop).
///
/// Connections are kept per upstream and target, and count against their upstream's
/// `max_connections` (`UpstreamCircuit`) from connect until they close. When the limit
/// is reached a request may wait for a connection (`max_pending` of them at once, each
/// until its connect timeout): waiters are served in order whenever a connection of
/// their upstream is released or closes on this loop, and room is made for them by
/// closing an idle connection of the upstream, here or, when this loop has none, on
/// another loop (which then wakes this one). At its deadline a waiter tries once more,
/// then gets a 503.
final class UpstreamPool {
    let eventLoop: EventLoop
    private var idle: [PoolKey: [UpstreamConnection]] = [:]
    private var waiters: [String: [Waiter]] = [:]
    /// Idle connections kept per target; more are closed on release.
    let maxIdlePerTarget = 64
    /// Asks the other loops to close one idle connection of an upstream and, when one
    /// did, to wake this loop's waiters (set by `LoopContexts`).
    var askOtherLoopsForRoom: ((String) -> Void)?

    struct PoolKey: Hashable {
        let upstream: String
        let address: String
    }

    /// A request waiting for a connection: it holds a pending slot until served or
    /// timed out.
    private final class Waiter {
        let upstream: UpstreamRuntime
        let address: String
        let connectTimeout: Duration
        let fresh: Bool
        let promise: EventLoopPromise<UpstreamConnection>
        var timer: Scheduled<Void>?

        init(upstream: UpstreamRuntime, address: String, connectTimeout: Duration, fresh: Bool, promise: EventLoopPromise<UpstreamConnection>) {
            self.upstream = upstream
            self.address = address
            self.connectTimeout = connectTimeout
            self.fresh = fresh
            self.promise = promise
        }
    }

    /// Where the connections' flushes wait for the end of the tick.
    let flushes: TickFlushes

    init(eventLoop: EventLoop, flushes: TickFlushes) {
        self.eventLoop = eventLoop
        self.flushes = flushes
    }

    /// An idle connection to `address` for `upstream` if there is one and no earlier
    /// request waits for a connection of the upstream: the usual case, answered without
    /// a future (`lease` would make one).
    func leaseIdle(upstream: UpstreamRuntime, address: String) -> UpstreamConnection? {
        guard noOneWaits(for: upstream.name) else { return nil }
        return popIdle(PoolKey(upstream: upstream.name, address: address))
    }

    /// An idle connection to `address` for `upstream`, or a new one (always a new one
    /// when `fresh`), within the upstream's connection limits.
    func lease(upstream: UpstreamRuntime, address: String, connectTimeout: Duration, fresh: Bool = false)
        -> EventLoopFuture<UpstreamConnection>
    {
        // Earlier waiters go first: a newcomer does not take the connection they wait for.
        if noOneWaits(for: upstream.name),
            let leased = leaseNow(upstream: upstream, address: address, connectTimeout: connectTimeout, fresh: fresh)
        {
            return leased
        }
        guard upstream.circuit.tryStartPending() else {
            return eventLoop.makeFailedFuture(UpstreamConnectError.pendingLimit)
        }
        let promise = eventLoop.makePromise(of: UpstreamConnection.self)
        let waiter = Waiter(upstream: upstream, address: address, connectTimeout: connectTimeout, fresh: fresh, promise: promise)
        waiter.timer = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(connectTimeout)) { [self] in
            guard let index = waiters[upstream.name]?.firstIndex(where: { $0 === waiter }) else { return }
            waiters[upstream.name]!.remove(at: index)
            upstream.circuit.finishPending()
            if let leased = leaseNow(upstream: upstream, address: address, connectTimeout: connectTimeout, fresh: fresh) {
                UpstreamPool.complete(promise, with: leased)
            } else {
                promise.fail(UpstreamConnectError.connectionLimit)
            }
        }
        waiters[upstream.name, default: []].append(waiter)
        makeRoom(for: upstream.name)
        return promise.futureResult
    }

    /// An idle connection, or a new one if the upstream has a connection slot free;
    /// nil at the limit.
    private func leaseNow(upstream: UpstreamRuntime, address: String, connectTimeout: Duration, fresh: Bool)
        -> EventLoopFuture<UpstreamConnection>?
    {
        let key = PoolKey(upstream: upstream.name, address: address)
        if !fresh, let connection = popIdle(key) { return eventLoop.assumeIsolated().makeSucceededFuture(connection) }
        guard upstream.circuit.tryOpenConnection() else { return nil }
        return connect(key: key, upstream: upstream, connectTimeout: connectTimeout)
    }

    /// The most recently released open idle connection of `key` (closed ones found on
    /// the way are dropped).
    private func popIdle(_ key: PoolKey) -> UpstreamConnection? {
        // Mutated in place: a copy of the list out of the dictionary would copy its storage.
        while let connection = idle[key]?.popLast() {
            if connection.channel.isActive {
                connection.wasReused = true
                return connection
            }
        }
        return nil
    }

    private func noOneWaits(for upstream: String) -> Bool {
        waiters.isEmpty || waiters[upstream]?.isEmpty ?? true
    }

    private func connect(key: PoolKey, upstream: UpstreamRuntime, connectTimeout: Duration) -> EventLoopFuture<UpstreamConnection> {
        let slot = ConnectionSlot(circuit: upstream.circuit)
        guard let (host, port) = UpstreamPool.split(key.address) else {
            slot.release()
            return eventLoop.makeFailedFuture(UpstreamConnectError.invalidAddress(key.address))
        }
        // The channel is this loop's: its initializer runs here.
        let flushes = NIOLoopBound(flushes, eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // One handler: it encodes requests and parses responses itself.
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(allocator: channel.allocator, flushes: flushes.value))
                }
            }
        return bootstrap.connect(host: host, port: port).assumeIsolated().flatMapErrorThrowing { error in
            slot.release()
            throw error
        }.flatMapThrowing { channel in
            let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
            // The slot is free as soon as the connection is (channelInactive), so a
            // request replayed on a fresh connection right then can have it.
            let freed: () -> Void = { [self] in
                if slot.release() { serveWaiters(of: key.upstream) }
            }
            handler.onInactive = freed
            channel.closeFuture.assumeIsolated().whenComplete { _ in freed() }
            return UpstreamConnection(key: key, channel: channel, handler: handler)
        }.nonisolated()
    }

    /// Serves the upstream's waiters in order, as long as connections can be had.
    func serveWaiters(of upstream: String) {
        while let waiter = waiters[upstream]?.first {
            guard
                let leased = leaseNow(
                    upstream: waiter.upstream, address: waiter.address, connectTimeout: waiter.connectTimeout, fresh: waiter.fresh)
            else {
                makeRoom(for: upstream)
                return
            }
            waiters[upstream]!.removeFirst()
            if waiters[upstream]!.isEmpty { waiters[upstream] = nil }
            waiter.timer?.cancel()
            waiter.upstream.circuit.finishPending()
            UpstreamPool.complete(waiter.promise, with: leased)
        }
    }

    /// Completes a waiter's promise with a lease, on this loop (connections are not
    /// Sendable: they never leave it).
    private static func complete(_ promise: EventLoopPromise<UpstreamConnection>, with leased: EventLoopFuture<UpstreamConnection>) {
        leased.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let connection): promise.assumeIsolated().succeed(connection)
            case .failure(let error): promise.fail(error)
            }
        }
    }

    /// Someone waits for a connection of `upstream`: an idle one (to any of its
    /// targets) is worth less, so one is closed, here or on another loop.
    private func makeRoom(for upstream: String) {
        if !closeOneIdle(of: upstream) { askOtherLoopsForRoom?(upstream) }
    }

    /// Closes one idle connection of `upstream`; false when there is none.
    @discardableResult
    func closeOneIdle(of upstream: String) -> Bool {
        for (key, list) in idle where key.upstream == upstream {
            for (index, connection) in list.enumerated().reversed() where connection.channel.isActive {
                idle[key]!.remove(at: index)
                connection.channel.close(promise: nil)
                return true
            }
        }
        return false
    }

    /// Returns a connection whose exchange completed cleanly, or closes it.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        connection.handler.exchange = nil
        guard reusable, connection.handler.isReusable, connection.channel.isActive else {
            connection.channel.close(promise: nil)
            return
        }
        // Closed idle connections are skipped at lease time, not scanned for here. One
        // dictionary lookup: the list is checked and appended to in place.
        guard Self.append(connection, to: &idle[connection.key, default: []], limit: maxIdlePerTarget) else {
            connection.channel.close(promise: nil)
            return
        }
        if !waiters.isEmpty && waiters[connection.key.upstream] != nil { serveWaiters(of: connection.key.upstream) }
    }

    private static func append(_ connection: UpstreamConnection, to list: inout [UpstreamConnection], limit: Int) -> Bool {
        guard list.count < limit else { return false }
        list.append(connection)
        return true
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

/// One connection's hold on its upstream's `max_connections`, given back once.
final class ConnectionSlot {
    private let circuit: UpstreamCircuit
    private var held = true

    init(circuit: UpstreamCircuit) { self.circuit = circuit }

    /// True the first time (the slot was given back now).
    @discardableResult
    func release() -> Bool {
        guard held else { return false }
        held = false
        circuit.connectionClosed()
        return true
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

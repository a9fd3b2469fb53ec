import MoongateCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to upstream targets, for one event loop (no cross-thread
/// hand-off: a request is proxied on its client connection's loop).
final class UpstreamPool {
    let eventLoop: EventLoop
    private var idle: [String: [UpstreamConnection]] = [:]
    /// Idle connections kept per target; more are closed on release.
    let maxIdlePerTarget = 64

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// An idle connection to `address`, or a new one (always a new one when `fresh`).
    func lease(address: String, connectTimeout: Duration, fresh: Bool = false) -> EventLoopFuture<UpstreamConnection> {
        while !fresh, var list = idle[address], let connection = list.popLast() {
            idle[address] = list
            if connection.channel.isActive {
                connection.wasReused = true
                return eventLoop.assumeIsolated().makeSucceededFuture(connection)
            }
        }
        guard let (host, port) = UpstreamPool.split(address) else {
            return eventLoop.makeFailedFuture(UpstreamConnectError.invalidAddress(address))
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000
                + connectTimeout.components.attoseconds / 1_000_000_000))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
                }
            }
        return bootstrap.connect(host: host, port: port).flatMapThrowing { channel in
            let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
            return UpstreamConnection(address: address, channel: channel, handler: handler)
        }
    }

    /// Returns a connection whose exchange completed cleanly, or closes it.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        connection.handler.exchange = nil
        guard reusable, connection.channel.isActive else {
            connection.channel.close(promise: nil)
            return
        }
        // Closed idle connections are skipped at lease time, not scanned for here.
        var list = idle[connection.address, default: []]
        guard list.count < maxIdlePerTarget else {
            connection.channel.close(promise: nil)
            return
        }
        list.append(connection)
        idle[connection.address] = list
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
}

/// A leased upstream connection.
final class UpstreamConnection {
    let address: String
    let channel: Channel
    let handler: UpstreamHandler
    /// Taken from the idle list: the upstream may have closed it while it sat there.
    var wasReused = false

    init(address: String, channel: Channel, handler: UpstreamHandler) {
        self.address = address
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

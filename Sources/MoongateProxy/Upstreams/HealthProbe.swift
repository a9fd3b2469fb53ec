import MoongateCore
import NIOCore
import NIOPosix

/// One active health probe of one target: a TCP connect, or an HTTP/1.1 GET whose
/// status line decides. Succeeds with whether the probe passed; never fails (a
/// refused connection, a timeout or garbage is a failed probe).
enum HealthProbe {
    static func run(
        _ check: ActiveHealthCheckConfig, address: String, hostHeader: String, on eventLoop: EventLoop
    ) -> EventLoopFuture<Bool> {
        guard let (host, port) = UpstreamPool.split(address) else { return eventLoop.makeSucceededFuture(false) }
        let timeout = TimeAmount(check.timeout)
        let deadline = NIODeadline.now() + timeout
        let result = eventLoop.makePromise(of: Bool.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard check.type == .http else { return }
                    try channel.pipeline.syncOperations.addHandler(StatusLineReader(check: check, result: result))
                }
            }
        bootstrap.connect(host: host, port: port).assumeIsolated().whenComplete { connected in
            switch connected {
            case .failure:
                result.succeed(false)
            case .success(let channel):
                guard check.type == .http else {
                    result.succeed(true)
                    channel.close(promise: nil)
                    return
                }
                let request =
                    "GET \(check.path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: moongate-health-check\r\n"
                    + "Connection: close\r\n\r\n"
                channel.writeAndFlush(channel.allocator.buffer(string: request), promise: nil)
                // Whatever happens first: the status line, a close, or the deadline.
                let timer = eventLoop.scheduleTask(deadline: deadline) { result.succeed(false) }
                result.futureResult.whenComplete { _ in
                    timer.cancel()
                    channel.close(promise: nil)
                }
            }
        }
        return result.futureResult
    }
}

/// Reads a response until its status line, then reports whether the status passes.
private final class StatusLineReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let check: ActiveHealthCheckConfig
    private let result: EventLoopPromise<Bool>
    private var received: [UInt8] = []
    private var decided = false

    init(check: ActiveHealthCheckConfig, result: EventLoopPromise<Bool>) {
        self.check = check
        self.result = result
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else { return }
        received += unwrapInboundIn(data).readableBytesView
        guard let end = received.firstIndex(of: UInt8(ascii: "\n")) else {
            if received.count > 1024 { decide(false) }  // no status line in sight
            return
        }
        // "HTTP/1.1 200 OK"
        let line = String(decoding: received[..<end], as: UTF8.self)
        let fields = line.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/1."), let status = Int(fields[1]) else { return decide(false) }
        decide(check.passes(status: status))
    }

    func channelInactive(context: ChannelHandlerContext) {
        decide(false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        decide(false)
        context.close(promise: nil)
    }

    private func decide(_ passed: Bool) {
        guard !decided else { return }
        decided = true
        result.succeed(passed)
    }
}

import NIOCore
import NIOHTTP1

/// Sends the exchange's request and hands what the upstream answers to the exchange
/// that leased the connection: the only handler of an upstream connection (requests
/// are encoded by `UpstreamRequestWriter`, responses parsed by `UpstreamResponseParser`,
/// no NIO codec in between). Holds reads while the client cannot take more
/// (backpressure).
final class UpstreamHandler: ChannelDuplexHandler, TickFlushable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Not retained: the exchange owns the lease and clears this on release.
    weak var exchange: ProxyHandler?
    private var holdReads = false
    private var pendingRead = false
    private var context: ChannelHandlerContext?
    private var writer: UpstreamRequestWriter
    private var parser = UpstreamResponseParser()
    /// False once the upstream sent bytes beyond a response (checked by the pool).
    private(set) var isReusable = true

    private let flushes: TickFlushes
    var flushQueued = false

    init(allocator: ByteBufferAllocator, flushes: TickFlushes) {
        self.writer = UpstreamRequestWriter(allocator: allocator)
        self.flushes = flushes
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Encodes a request part; its bytes go out at the next `flush` (a large body
    /// buffer at once, by itself).
    func send(_ part: HTTPClientRequestPart) {
        guard let context else { return }
        switch part {
        case .head(let head):
            parser.requestSent(method: head.method)
            writer.head(head)
        case .body(.byteBuffer(let buffer)):
            writer.body(buffer) { context.write(wrapOutboundOut($0), promise: nil) }
            if writer.pendingBytes >= 65536, let bytes = writer.takePending() { context.write(wrapOutboundOut(bytes), promise: nil) }
        case .body(.fileRegion):
            preconditionFailure("the proxy sends no file regions")
        case .end(let trailers):
            writer.end(trailers)
        }
    }

    /// Hands the encoded bytes to the channel; they go out at the end of the tick.
    func flush() {
        guard let context else { return }
        if let bytes = writer.takePending() { context.write(wrapOutboundOut(bytes), promise: nil) }
        flushes.flushAtEndOfTick(self)
    }

    func flushNow() {
        context?.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard exchange != nil else {
            // Nothing is expected on an idle connection: drop it.
            context.close(promise: nil)
            return
        }
        parser.append(unwrapInboundIn(data))
        do {
            // One event at a time: the exchange may release or close this connection
            // in reaction to any of them.
            while let event = try parser.next() {
                // More than the response, before the next request was even sent: the
                // upstream is out of step, so the connection is not pooled again.
                if case .end = event, parser.hasUnparsedBytes { isReusable = false }
                guard deliver(event) else {
                    // Bytes after the exchange let go of the connection: unsolicited.
                    context.close(promise: nil)
                    return
                }
            }
        } catch {
            exchange?.upstreamClosed(error: error)
            context.close(promise: nil)
        }
    }

    /// False when no exchange takes the event.
    private func deliver(_ event: UpstreamResponseParser.Event) -> Bool {
        guard let exchange else { return false }
        exchange.upstreamReceived(event)
        return true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    /// Gives the connection's slot back to its upstream (set by the pool).
    var onInactive: (() -> Void)?

    func channelInactive(context: ChannelHandlerContext) {
        let freed = onInactive
        onInactive = nil
        freed?()
        do {
            // A body delimited by the close ends here.
            if let end = try parser.closed() { _ = deliver(end) }
            exchange?.upstreamClosed(error: nil)
        } catch {
            exchange?.upstreamClosed(error: error)
        }
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

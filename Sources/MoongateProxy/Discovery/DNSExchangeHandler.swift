#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoongateCore
import NIOCore

/// One question asked over a connected UDP socket: sends the query when the channel
/// becomes active, sends it again under a fresh id when `timeout` passes without an
/// answer, and completes `promise` with the first valid response (to either try) or
/// with the failure, then closes the channel.
///
/// The socket is connected, so the kernel drops datagrams from other addresses and a
/// closed port comes back as ECONNREFUSED at once instead of as a timeout. A response
/// must carry one of the ids sent and, when it lists a question, the question asked;
/// anything else is ignored as a stray. A response with the TC bit is used as it is:
/// there is no fallback to TCP, so a very large SRV set may arrive cut down to the
/// records that fitted (EDNS lets answers up to `DNSResolver.udpPayloadSize` through whole).
final class DNSExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = ByteBuffer

    private let query: DNSQuery
    private let promise: EventLoopPromise<DNSMessage>
    private let timeout: TimeAmount
    private let makeError: @Sendable (DNSResolverError.Reason) -> DNSResolverError
    private var triesLeft: Int
    private var sentIDs: [UInt16] = []
    private var timer: Scheduled<Void>?
    private var finished = false

    init(
        query: DNSQuery, tries: Int, timeout: TimeAmount, promise: EventLoopPromise<DNSMessage>,
        makeError: @escaping @Sendable (DNSResolverError.Reason) -> DNSResolverError
    ) {
        precondition(tries >= 1, "a question is asked at least once")
        self.query = query
        self.triesLeft = tries
        self.timeout = timeout
        self.promise = promise
        self.makeError = makeError
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(unwrapInboundIn(data).data.readableBytesView)
        guard !finished, bytes.count >= 2, sentIDs.contains(UInt16(bytes[0]) << 8 | UInt16(bytes[1])) else { return }
        let message: DNSMessage
        do {
            message = try DNSMessage(decoding: bytes)
        } catch {
            finish(context: context, .failure(makeError(.malformedResponse(error.message))))
            return
        }
        let expected = query.question
        guard message.isResponse,
            message.questions.isEmpty
                || (message.questions.count == 1 && message.questions[0].name == expected.name
                    && message.questions[0].type == expected.type)
        else { return }
        finish(context: context, .success(message))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context: context, socketError: error)
    }

    private func fail(context: ChannelHandlerContext, socketError error: Error) {
        let problem: String
        if let ioError = error as? IOError, ioError.errnoCode == ECONNREFUSED {
            problem = "nothing answers at that address (connection refused)"
        } else {
            problem = "the socket failed: \(error)"
        }
        finish(context: context, .failure(makeError(.unreachable(problem))))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context: context, .failure(makeError(.unreachable("the socket closed before an answer came"))))
        context.fireChannelInactive()
    }

    private func send(context: ChannelHandlerContext) {
        guard !finished else { return }
        triesLeft -= 1
        var attempt = query
        attempt.id = UInt16.random(in: .min ... .max)
        let bytes: [UInt8]
        do {
            bytes = try attempt.encoded()
        } catch {
            finish(context: context, .failure(makeError(.invalidQuery(error.message))))
            return
        }
        sentIDs.append(attempt.id)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes))).assumeIsolated()
            .whenFailure { [self] error in fail(context: context, socketError: error) }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            timer = nil
            if triesLeft > 0 {
                send(context: context)
            } else {
                finish(context: context, .failure(makeError(.timeout(Duration(timeout)))))
            }
        }
    }

    private func finish(context: ChannelHandlerContext, _ result: Result<DNSMessage, DNSResolverError>) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        timer = nil
        promise.completeWith(result.mapError { $0 as Error })
        context.close(promise: nil)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An origin whose behaviour a test changes while traffic flows: answer 200 naming
/// itself, answer a chosen status, reset every connection, or hold requests without
/// answering. `/healthz` answers from its own setting, so active probes and proxied
/// traffic can disagree on purpose. It can be stopped (its port then refuses) and
/// started again on the same port.
public final class ControllableOrigin: Sendable {
    public enum Behaviour: Sendable, Equatable {
        /// 200 with body "origin=NAME".
        case ok
        /// This status, body "origin=NAME".
        case status(Int)
        /// Closes the connection with a TCP reset as soon as a request head arrives.
        case reset
        /// Reads requests and never answers.
        case stall
    }

    public let name: String
    private let group: EventLoopGroup
    private let state: NIOLockedValueBox<State>

    fileprivate struct State {
        var behaviour = Behaviour.ok
        var healthStatus = 200
        var channel: Channel?
        /// Accepted connections still open, closed by `stop` as a dying process's are.
        var children: [ObjectIdentifier: Channel] = [:]
        var port = 0
        var requests = 0
        var healthChecks = 0
        var inFlight = 0
        var maxInFlight = 0
        var connections = 0
    }

    public init(name: String, group: EventLoopGroup) async throws {
        self.name = name
        self.group = group
        state = NIOLockedValueBox(State())
        try await start(port: 0)
    }

    public var port: Int { state.withLockedValue { $0.port } }
    public var address: String { "127.0.0.1:\(port)" }
    /// Proxied requests (not health checks) received.
    public var requestCount: Int { state.withLockedValue { $0.requests } }
    public var healthCheckCount: Int { state.withLockedValue { $0.healthChecks } }
    /// The most requests it held at once.
    public var maxInFlight: Int { state.withLockedValue { $0.maxInFlight } }
    public var connectionCount: Int { state.withLockedValue { $0.connections } }

    public func set(_ behaviour: Behaviour) { state.withLockedValue { $0.behaviour = behaviour } }
    public func setHealth(status: Int) { state.withLockedValue { $0.healthStatus = status } }

    /// Stops listening and drops every connection: its port refuses from now on.
    public func stop() async {
        let (channel, children) = state.withLockedValue { state -> (Channel?, [Channel]) in
            defer {
                state.channel = nil
                state.children = [:]
            }
            return (state.channel, Array(state.children.values))
        }
        try? await channel?.close()
        for child in children { try? await child.close() }
    }

    /// Listens again on the same port (after `stop`).
    public func restart() async throws {
        try await start(port: port)
    }

    private func start(port: Int) async throws {
        let state = self.state
        let name = self.name
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                state.withLockedValue {
                    $0.connections += 1
                    $0.children[id] = channel
                }
                channel.closeFuture.whenComplete { _ in _ = state.withLockedValue { $0.children.removeValue(forKey: id) } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ControllableOriginHandler(name: name, state: state))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        let bound = channel.localAddress!.port!
        state.withLockedValue {
            $0.channel = channel
            $0.port = bound
        }
    }

    fileprivate final class ControllableOriginHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let name: String
        let state: NIOLockedValueBox<State>
        private var head: HTTPRequestHead?

        init(name: String, state: NIOLockedValueBox<State>) {
            self.name = name
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                if head.uri != "/healthz", state.withLockedValue({ $0.behaviour }) == .reset {
                    self.head = nil
                    // SO_LINGER 0: the close sends a reset, as a crashing process does.
                    if let provider = context.channel as? SocketOptionProvider {
                        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in context.close(promise: nil) }
                    } else {
                        context.close(promise: nil)
                    }
                }
            case .body:
                break
            case .end:
                guard let head else { return }
                self.head = nil
                respond(context: context, head: head)
            }
        }

        private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
            let status: Int
            if head.uri == "/healthz" {
                status = state.withLockedValue {
                    $0.healthChecks += 1
                    return $0.healthStatus
                }
            } else {
                let behaviour = state.withLockedValue { state -> Behaviour in
                    state.requests += 1
                    state.inFlight += 1
                    state.maxInFlight = max(state.maxInFlight, state.inFlight)
                    return state.behaviour
                }
                switch behaviour {
                case .ok: status = 200
                case .status(let code): status = code
                case .reset, .stall: return
                }
            }
            let delay = Self.delay(in: head.uri)
            let send = { [self] in
                if head.uri != "/healthz" { state.withLockedValue { $0.inFlight -= 1 } }
                let body = "origin=\(name)\n"
                var headers = HTTPHeaders()
                headers.add(name: "content-length", value: String(body.utf8.count))
                headers.add(name: "x-origin-name", value: name)
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers))),
                    promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
            if delay > 0 {
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) { send() }
            } else {
                send()
            }
        }

        /// "?delay=MS" holds the answer that long.
        static func delay(in uri: String) -> Int64 {
            guard let range = uri.firstRange(of: "delay=") else { return 0 }
            return Int64(uri[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
    }
}

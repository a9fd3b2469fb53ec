import Logging
import MoongateCore
import NIOCore
import NIOHTTP1

/// Proxies the requests of one client connection, one at a time (the HTTP server
/// pipeline handler in front of it holds pipelined requests until the response to
/// the current one is complete).
///
/// A request's way: head -> framing checks -> route -> upstream -> target -> lease a
/// pooled connection on this event loop -> stream the body up -> stream the response
/// back. Both directions stream with backpressure: reads on one side are held while
/// the other side's channel is not writable. Failures map to SPEC §2's status table.
final class ProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum State: Equatable {
        /// Waiting for a request head.
        case idle
        /// A gateway response was sent; the rest of the request body is discarded.
        case rejecting
        /// Waiting for the upstream connection; body parts are buffered.
        case connecting
        /// The request is going up; no response head yet.
        case forwarding
        /// The response head was sent to the client.
        case responding
        case closed
    }

    private let store: ConfigStore
    private let loop: LoopContext
    private let server: ServerState
    private let activity: ConnectionActivity
    private var context: ChannelHandlerContext!
    private(set) var state: State = .idle

    // The exchange in progress.
    private var clientVersion = HTTPVersion.http1_1
    private var clientKeepAlive = true
    private var upstream: UpstreamConnection?
    private var buffered: [HTTPClientRequestPart] = []
    private var requestEnded = false
    private var bodyBytes = 0
    private var upstreamKeepAlive = false
    private var closeAfterResponse = false
    private var timeouts = UpstreamTimeouts()
    private var readTimer: Scheduled<Void>?
    private var connectionTimer: Scheduled<Void>?
    private var requestCount = 0

    // Client reads held while the upstream cannot take more.
    private var holdClientReads = false
    private var pendingClientRead = false

    init(store: ConfigStore, loop: LoopContext, server: ServerState, activity: ConnectionActivity) {
        self.store = store
        self.loop = loop
        self.server = server
        self.activity = activity
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armConnectionTimer() }
    }

    func channelActive(context: ChannelHandlerContext) {
        armConnectionTimer()
        context.fireChannelActive()
    }

    // MARK: Client -> gateway

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            receivedHead(head)
        case .body(let buffer):
            receivedBody(buffer)
        case .end:
            receivedEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        upstream?.channel.flush()
        context.fireChannelReadComplete()
    }

    private func receivedHead(_ head: HTTPRequestHead) {
        guard state == .idle else {
            // The pipeline handler delivers one request at a time; anything else is a bug upstream of us.
            context.close(promise: nil)
            return
        }
        connectionTimer?.cancel()
        connectionTimer = nil
        requestCount += 1
        clientVersion = head.version
        clientKeepAlive = head.isKeepAlive
        closeAfterResponse = !head.isKeepAlive || server.isDraining
        requestEnded = false
        bodyBytes = 0
        buffered = []
        let config = store.current
        let limits = config.runtime.proxy.limits

        let contentLength: Int?
        switch RequestFraming.check(head, maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: limits.maxBodyBytes) {
        case .reject(let error):
            return reject(error, close: true)
        case .ok(let length):
            contentLength = length
        }
        let (rawPath, query) = ProxyHandler.splitTarget(head.uri)
        guard let path = PathNormalizer.normalize(rawPath) else {
            return reject(.badRequest("invalid request path"), close: true)
        }
        let host = HostNormalizer.normalize(head.headers.first(name: "host") ?? "")
        guard
            let match = config.router.match(
                host: host, path: path, method: head.method.rawValue, header: { head.headers.first(name: $0) })
        else {
            return reject(.noRoute, close: false)
        }
        let route = config.runtime.routes[match.routeIndex]
        guard let upstreamName = loop.upstreamName(for: route, generation: config.generation),
            let upstreamSpec = config.runtime.upstreams[upstreamName]
        else {
            return reject(.noTarget, close: false)
        }
        var selection = loop.targetSelection(for: upstreamSpec, generation: config.generation)
        guard let targetIndex = selection.next() else { return reject(.noTarget, close: false) }
        let target = upstreamSpec.targets[targetIndex]
        timeouts = upstreamSpec.timeouts

        var upstreamPath = path
        if route.stripPrefix, let prefix = match.matchedPrefix {
            upstreamPath = ProxyHandler.strip(prefix: prefix, from: path)
        }
        let peer = context.channel.remoteAddress?.ipAddress
        let trusted = peer.map { address in config.runtime.proxy.trustedProxies.contains { $0.contains(address) } } ?? false
        let hostHeader =
            route.preserveHost ? (head.headers.first(name: "host") ?? target.address) : (upstreamSpec.hostHeader ?? target.address)
        var headers = ForwardedHeaders.upstreamRequestHeaders(
            from: head.headers, clientIP: peer, peerIsTrusted: trusted, host: hostHeader, scheme: server.scheme)
        if contentLength == nil && head.headers.contains(name: "transfer-encoding") {
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        let upstreamHead = HTTPRequestHead(
            version: .http1_1, method: head.method, uri: query.map { "\(upstreamPath)?\($0)" } ?? upstreamPath,
            headers: headers)
        buffered.append(.head(upstreamHead))
        state = .connecting
        setHoldClientReads(true)

        loop.pool.lease(address: target.address, connectTimeout: timeouts.connect)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let connection):
                    attach(connection)
                case .failure(let error):
                    guard state == .connecting else { return }
                    let isTimeout = (error as? ChannelError).map { if case .connectTimeout = $0 { true } else { false } } ?? false
                    failExchange(isTimeout ? .upstreamTimeout : .upstreamUnavailable)
                }
            }
    }

    private func receivedBody(_ buffer: ByteBuffer) {
        switch state {
        case .rejecting, .closed, .idle:
            return
        case .connecting, .forwarding, .responding:
            bodyBytes += buffer.readableBytes
            if bodyBytes > store.current.runtime.proxy.limits.maxBodyBytes {
                if state == .responding {
                    closeEverything()
                } else {
                    dropUpstream()
                    reject(.bodyTooLarge, close: true)
                }
                return
            }
            if state == .connecting {
                buffered.append(.body(.byteBuffer(buffer)))
            } else {
                upstream?.channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
            }
        }
    }

    private func receivedEnd() {
        switch state {
        case .rejecting:
            finishExchange()
        case .connecting:
            requestEnded = true
            buffered.append(.end(nil))
        case .forwarding, .responding:
            requestEnded = true
            upstream?.channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            if state == .forwarding { armReadTimer() }
        case .idle, .closed:
            return
        }
    }

    private func attach(_ connection: UpstreamConnection) {
        guard state == .connecting else {
            loop.pool.release(connection, reusable: false)
            return
        }
        upstream = connection
        connection.handler.exchange = self
        connection.handler.setHoldReads(!context.channel.isWritable)
        state = .forwarding
        for part in buffered { connection.channel.write(part, promise: nil) }
        buffered = []
        connection.channel.flush()
        if requestEnded { armReadTimer() }
        setHoldClientReads(!connection.channel.isWritable)
    }

    // MARK: Upstream -> gateway

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            guard state == .forwarding else { return }
            armReadTimer()
            upstreamKeepAlive = head.isKeepAlive
            var headers = head.headers
            ForwardedHeaders.removeHopByHop(&headers)
            ForwardedHeaders.appendVia(&headers, version: "\(head.version.major).\(head.version.minor)")
            // Without a length an HTTP/1.0 client can only see the end as a close.
            if clientVersion == .http1_0 && !headers.contains(name: "content-length") { closeAfterResponse = true }
            if !requestEnded { closeAfterResponse = true }
            if closeAfterResponse {
                headers.replaceOrAdd(name: "connection", value: "close")
            } else if clientVersion == .http1_0 {
                headers.replaceOrAdd(name: "connection", value: "keep-alive")
            }
            state = .responding
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: clientVersion, status: head.status, headers: headers))), promise: nil)
        case .body(let buffer):
            guard state == .responding else { return }
            armReadTimer()
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable { upstream?.handler.setHoldReads(true) }
        case .end(let trailers):
            guard state == .responding else { return }
            readTimer?.cancel()
            readTimer = nil
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
            if let connection = upstream {
                upstream = nil
                loop.pool.release(connection, reusable: upstreamKeepAlive && requestEnded)
            }
            finishExchange()
        }
    }

    func upstreamReadComplete() {
        context.flush()
    }

    func upstreamClosed(error: Error?) {
        guard upstream != nil else { return }
        switch state {
        case .forwarding:
            let isBroken = error is HTTPParserError
            failExchange(isBroken ? .upstreamBroken : .upstreamUnavailable)
        case .responding:
            closeEverything()
        default:
            break
        }
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        setHoldClientReads(!isWritable)
    }

    // MARK: Finishing

    /// Sends a gateway error; the rest of the request (if any) is discarded.
    private func reject(_ error: GatewayError, close: Bool) {
        if close { closeAfterResponse = true }
        sendError(error)
        if closeAfterResponse {
            state = .closed
            context.close(promise: nil)
        } else {
            state = .rejecting
            setHoldClientReads(false)
            if requestEnded { finishExchange() }
        }
    }

    /// The upstream failed before a response head: answer with the gateway's error.
    private func failExchange(_ error: GatewayError) {
        dropUpstream()
        if !requestEnded { closeAfterResponse = true }
        reject(error, close: closeAfterResponse)
    }

    private func sendError(_ error: GatewayError) {
        let head = error.responseHead(version: clientVersion, close: closeAfterResponse)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: error.body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func finishExchange() {
        readTimer?.cancel()
        readTimer = nil
        buffered = []
        setHoldClientReads(false)
        if closeAfterResponse || server.isDraining {
            state = .closed
            context.close(promise: nil)
            return
        }
        state = .idle
        activity.bytesSinceIdle = false
        armConnectionTimer()
    }

    private func dropUpstream() {
        readTimer?.cancel()
        readTimer = nil
        if let connection = upstream {
            upstream = nil
            loop.pool.release(connection, reusable: false)
        }
    }

    private func closeEverything() {
        dropUpstream()
        state = .closed
        context.close(promise: nil)
    }

    // MARK: Timers

    /// Read timeout: the upstream must send something within `timeouts.read` of the
    /// request being sent and of each response part.
    private func armReadTimer() {
        readTimer?.cancel()
        let timeout = TimeAmount(timeouts.read)
        readTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            readTimer = nil
            switch state {
            case .forwarding: failExchange(.upstreamTimeout)
            case .responding: closeEverything()
            default: break
            }
        }
    }

    /// Between requests: a client that started a request must finish its headers within
    /// `header_timeout` (408), and an idle connection is closed after `idle_timeout`.
    private func armConnectionTimer() {
        connectionTimer?.cancel()
        let limits = store.current.runtime.proxy.limits
        let idleLeft = limits.idleTimeout - limits.headerTimeout
        connectionTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limits.headerTimeout)) { [self] in
            connectionTimer = nil
            guard state == .idle else { return }
            if activity.bytesSinceIdle {
                closeAfterResponse = true
                sendError(.headerTimeout)
                state = .closed
                context.close(promise: nil)
                return
            }
            connectionTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(max(.zero, idleLeft))) { [self] in
                connectionTimer = nil
                if state == .idle && !activity.bytesSinceIdle { context.close(promise: nil) }
            }
        }
    }

    // MARK: Backpressure and connection events

    func read(context: ChannelHandlerContext) {
        if holdClientReads {
            pendingClientRead = true
        } else {
            context.read()
        }
    }

    private func setHoldClientReads(_ hold: Bool) {
        holdClientReads = hold
        if !hold && pendingClientRead {
            pendingClientRead = false
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        upstream?.handler.setHoldReads(!context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionTimer?.cancel()
        connectionTimer = nil
        dropUpstream()
        state = .closed
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Parser errors: malformed requests and smuggling patterns (SPEC §2: 400; 431
        // when the parser's own header limit is hit). They may come after the head was
        // accepted (invalid chunked framing): answer unless a response already started.
        if let parserError = error as? HTTPParserError {
            switch state {
            case .idle, .connecting, .forwarding:
                dropUpstream()
                closeAfterResponse = true
                sendError(parserError == .headerOverflow ? .headersTooLarge : .badRequest("malformed request"))
            case .rejecting, .responding, .closed:
                break
            }
        }
        dropUpstream()
        state = .closed
        context.close(promise: nil)
    }

    /// The server is draining: an idle connection closes now, a busy one after its response.
    func drainRequested() {
        closeAfterResponse = true
        if state == .idle { context.close(promise: nil) }
    }

    // MARK: Helpers

    static func splitTarget(_ uri: String) -> (Substring, String?) {
        guard let mark = uri.firstIndex(of: "?") else { return (Substring(uri), nil) }
        return (uri[..<mark], String(uri[uri.index(after: mark)...]))
    }

    /// `/orders/1` without the prefix `/orders` is `/1`; the bare prefix becomes `/`.
    static func strip(prefix: String, from path: String) -> String {
        let trimmedPrefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        guard path.hasPrefix(trimmedPrefix) else { return path }
        let rest = path.dropFirst(trimmedPrefix.count)
        return rest.isEmpty ? "/" : (rest.hasPrefix("/") ? String(rest) : "/" + rest)
    }
}

/// Whether request bytes arrived since the connection went idle (for the 408 rule).
final class ConnectionActivity {
    var bytesSinceIdle = false
}

/// Notes raw inbound bytes before the HTTP parser sees them.
final class InboundActivityHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let activity: ConnectionActivity

    init(activity: ConnectionActivity) { self.activity = activity }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        activity.bytesSinceIdle = true
        context.fireChannelRead(data)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

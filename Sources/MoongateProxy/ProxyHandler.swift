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
/// the other side's channel is not writable. What happens next at each event is
/// decided by `ExchangeStateMachine`; this handler performs its actions.
final class ProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let store: ConfigStore
    private let loop: LoopContext
    private let server: ServerState
    private let activity: ConnectionActivity
    private var context: ChannelHandlerContext!
    private var machine = ExchangeStateMachine()
    var state: ExchangeStateMachine.State { machine.state }

    // The exchange in progress.
    private var clientVersion = HTTPVersion.http1_1
    private var upstream: UpstreamConnection?
    private var buffered: [HTTPClientRequestPart] = []
    private var targetAddress = ""
    /// The upstream head of a bodyless idempotent request, kept to replay it once on a
    /// fresh connection when a pooled one turns out to be closed (nil otherwise).
    private var replayableHead: HTTPRequestHead?
    private var timeouts = UpstreamTimeouts()
    /// `max_body_bytes` of the generation the request started with.
    private var maxBodyBytes = 0
    private var readTimer: LazyTimer!
    private var writeTimer: LazyTimer!
    /// The idle timeout between requests, then the header timeout once bytes arrive.
    private var connectionTimer: LazyTimer!

    /// Inside a client read batch: upstream writes wait for its channelReadComplete
    /// flush (one write syscall per batch instead of one per part).
    private var inClientReadBatch = false

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
        readTimer = LazyTimer(eventLoop: context.eventLoop)
        writeTimer = LazyTimer(eventLoop: context.eventLoop)
        connectionTimer = LazyTimer(eventLoop: context.eventLoop)
        activity.onFirstByte = { [unowned self] in firstByteArrived() }
        if context.channel.isActive { armIdleTimer() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        activity.onFirstByte = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer()
        context.fireChannelActive()
    }

    // MARK: Client -> gateway

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inClientReadBatch = true
        switch unwrapInboundIn(data) {
        case .head(let head):
            receivedHead(head)
        case .body(let buffer):
            receivedBody(buffer)
        case .end(let trailers):
            receivedEnd(trailers)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inClientReadBatch = false
        upstream?.channel.flush()
        context.fireChannelReadComplete()
    }

    private func receivedHead(_ head: HTTPRequestHead) {
        guard machine.requestHead(keepAlive: head.isKeepAlive) == .process else { return }
        connectionTimer.cancel()
        clientVersion = head.version
        buffered = []
        let config = store.current
        let limits = config.runtime.proxy.limits
        maxBodyBytes = limits.maxBodyBytes

        let contentLength: Int?
        switch RequestFraming.check(head, maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: limits.maxBodyBytes) {
        case .reject(let error):
            return perform(machine.reject(error, close: true))
        case .ok(let length):
            contentLength = length
        }
        let (rawPath, query) = ProxyHandler.splitTarget(head.uri)
        guard let path = PathNormalizer.normalize(rawPath) else {
            return perform(machine.reject(.badRequest("invalid request path"), close: true))
        }
        let host = HostNormalizer.normalize(head.headers.first(name: "host") ?? "")
        guard
            let match = config.router.match(
                host: host, path: path, method: head.method.rawValue, header: { head.headers.first(name: $0) })
        else {
            return perform(machine.reject(.noRoute, close: false))
        }
        let route = config.runtime.routes[match.routeIndex]
        guard let upstreamName = loop.upstreamName(for: route, generation: config.generation),
            let upstreamSpec = config.runtime.upstreams[upstreamName]
        else {
            return perform(machine.reject(.noTarget, close: false))
        }
        var selection = loop.targetSelection(for: upstreamSpec, generation: config.generation)
        guard let targetIndex = selection.next() else { return perform(machine.reject(.noTarget, close: false)) }
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
        // Framing is the gateway's to set: a client may name Content-Length in
        // Connection, and a body sent up without framing would be read as a second request.
        headers.remove(name: "content-length")
        if let contentLength {
            headers.add(name: "content-length", value: String(contentLength))
        } else if head.headers.contains(name: "transfer-encoding") {
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        // The gateway answers `Expect: 100-continue` itself (the upstream's interim
        // response would be dropped by the client codec).
        let expectsContinue = head.headers["expect"].contains { $0.lowercased() == "100-continue" }
        headers.remove(name: "expect")
        let upstreamHead = HTTPRequestHead(
            version: .http1_1, method: head.method,
            uri: query.map { "\(upstreamPath)?\(ProxyHandler.encodedQuery($0))" } ?? upstreamPath,
            headers: headers)
        buffered.append(.head(upstreamHead))
        let hasBody = (contentLength ?? 0) > 0 || head.headers.contains(name: "transfer-encoding")
        replayableHead = !hasBody && [.GET, .HEAD, .OPTIONS].contains(head.method) ? upstreamHead : nil
        targetAddress = target.address
        machine.connecting()
        setHoldClientReads(true)
        if expectsContinue && head.version == .http1_1 {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
        }

        leaseUpstream(fresh: false)
    }

    private func leaseUpstream(fresh: Bool) {
        loop.pool.lease(address: targetAddress, connectTimeout: timeouts.connect, fresh: fresh)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let connection):
                    attach(connection)
                case .failure(let error):
                    let isTimeout = (error as? ChannelError).map { if case .connectTimeout = $0 { true } else { false } } ?? false
                    if let action = machine.upstreamFailed(isTimeout ? .upstreamTimeout : .upstreamUnavailable) {
                        perform(action)
                    }
                }
            }
    }

    private func receivedBody(_ buffer: ByteBuffer) {
        switch machine.requestBody(bytes: buffer.readableBytes, maxBodyBytes: maxBodyBytes) {
        case .discard:
            return
        case .buffer:
            buffered.append(.body(.byteBuffer(buffer)))
        case .forward:
            upstream?.channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
        case .reject(let action):
            dropUpstream()
            perform(action)
        case .closeAll:
            closeEverything()
        }
    }

    private func receivedEnd(_ trailers: HTTPHeaders?) {
        switch machine.requestEnd() {
        case .none:
            return
        case .buffer:
            buffered.append(.end(trailers))
        case .forward(let armRead):
            upstream?.channel.write(HTTPClientRequestPart.end(trailers), promise: nil)
            if !inClientReadBatch { upstream?.channel.flush() }
            if armRead { armReadTimer() }
        case .finishRejected(let close):
            if close {
                context.close(promise: nil)
            } else {
                becameIdle()
            }
        }
    }

    private func attach(_ connection: UpstreamConnection) {
        switch machine.upstreamConnected() {
        case .releaseUnused:
            loop.pool.release(connection, reusable: false)
        case .sendBuffered(let armRead):
            upstream = connection
            connection.handler.exchange = self
            connection.handler.setHoldReads(!context.channel.isWritable)
            for part in buffered { connection.channel.write(part, promise: nil) }
            buffered = []
            // A pooled connection is attached synchronously, inside the client's read
            // batch: its channelReadComplete flushes everything at once.
            if !inClientReadBatch { connection.channel.flush() }
            if armRead { armReadTimer() }
            upstreamWritabilityChanged(isWritable: connection.channel.isWritable)
        }
    }

    // MARK: Upstream -> gateway

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            var headers = head.headers
            ForwardedHeaders.removeHopByHop(&headers)
            let needsClose = clientVersion == .http1_0 && !headers.contains(name: "content-length")
            guard case .send(let close) = machine.responseHead(upstreamKeepAlive: head.isKeepAlive, needsCloseToDelimit: needsClose)
            else { return }
            armReadTimer()
            ForwardedHeaders.appendVia(&headers, version: "\(head.version.major).\(head.version.minor)")
            if close {
                headers.replaceOrAdd(name: "connection", value: "close")
            } else if clientVersion == .http1_0 {
                headers.replaceOrAdd(name: "connection", value: "keep-alive")
            }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: clientVersion, status: head.status, headers: headers))), promise: nil)
        case .body(let buffer):
            guard machine.responseBodyAccepted() else { return }
            armReadTimer()
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable {
                // A slow client is not a slow upstream: no read timeout while we hold reads.
                upstream?.handler.setHoldReads(true)
                readTimer.cancel()
            }
        case .end(let trailers):
            guard case .finish(let reuse, let close) = machine.responseEnd() else { return }
            readTimer.cancel()
            writeTimer.cancel()
            if let connection = upstream {
                upstream = nil
                loop.pool.release(connection, reusable: reuse)
            }
            if !close { becameIdle() }
            // Written last: the write may deliver the next pipelined head to this
            // handler before it returns.
            writeResponseEnd(trailers, thenClose: close)
        }
    }

    func upstreamReadComplete() {
        context.flush()
    }

    func upstreamClosed(error: Error?) {
        guard let connection = upstream else { return }
        if connection.wasReused, let head = replayableHead, machine.replayOnFreshConnection() {
            dropUpstream()
            buffered = [.head(head)] + (machine.requestEnded ? [.end(nil)] : [])
            leaseUpstream(fresh: true)
            return
        }
        let broken = error is HTTPParserError
        if let action = machine.upstreamFailed(broken ? .upstreamBroken : .upstreamUnavailable) {
            dropUpstream()
            perform(action)
        } else if machine.upstreamLost() {
            closeEverything()
        }
    }

    /// Upstream writability gates client reads; a write timeout runs while it is blocked.
    func upstreamWritabilityChanged(isWritable: Bool) {
        setHoldClientReads(!isWritable)
        if isWritable {
            writeTimer.cancel()
        } else {
            writeTimer.arm(in: TimeAmount(timeouts.write)) { [unowned self] in upstreamTimedOut() }
        }
    }

    // MARK: Performing actions

    private func perform(_ action: ExchangeStateMachine.ErrorAction) {
        guard case .send(let error, let close, let nowIdle) = action else { return }
        if !close && !nowIdle { setHoldClientReads(false) }  // let the rest of the body in, to discard it
        if nowIdle { becameIdle() }
        sendError(error, thenClose: close)
    }

    /// Writes a whole gateway-made response.
    private func sendError(_ error: GatewayError, thenClose close: Bool) {
        let head = error.responseHead(version: clientVersion, close: close)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: error.body)))), promise: nil)
        writeResponseEnd(nil, thenClose: close)
    }

    /// Writes a response's end; a closing connection closes once it has gone out
    /// (closing at once would discard writes still queued for a slow client).
    private func writeResponseEnd(_ trailers: HTTPHeaders?, thenClose close: Bool) {
        let written = context.writeAndFlush(wrapOutboundOut(.end(trailers)))
        if close {
            let context = self.context!
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// The exchange is over and the connection waits for the next request.
    private func becameIdle() {
        readTimer.cancel()
        buffered = []
        setHoldClientReads(false)
        armIdleTimer()
    }

    private func dropUpstream() {
        readTimer.cancel()
        writeTimer.cancel()
        if let connection = upstream {
            upstream = nil
            loop.pool.release(connection, reusable: false)
        }
    }

    private func closeEverything() {
        dropUpstream()
        machine.closed()
        context.close(promise: nil)
    }

    private func upstreamTimedOut() {
        if let action = machine.upstreamFailed(.upstreamTimeout) {
            dropUpstream()
            perform(action)
        } else if machine.upstreamLost() {
            closeEverything()
        }
    }

    // MARK: Timers

    /// Read timeout: the upstream must send something within `timeouts.read` of the
    /// request being sent and of each response part.
    private func armReadTimer() {
        readTimer.arm(in: TimeAmount(timeouts.read)) { [unowned self] in upstreamTimedOut() }
    }

    /// Between requests an idle connection is closed after `idle_timeout`. Once the
    /// first byte of a request arrives, its headers must be complete within
    /// `header_timeout` (408): a client cannot hold a connection by trickling a head.
    private func armIdleTimer() {
        activity.sawByte = false
        let limits = store.current.runtime.proxy.limits
        connectionTimer.arm(in: TimeAmount(limits.idleTimeout)) { [unowned self] in
            if machine.state == .idle && !activity.sawByte {
                machine.closed()
                context.close(promise: nil)
            }
        }
    }

    /// Called by the activity handler at the first byte after the connection went idle.
    private func firstByteArrived() {
        guard machine.state == .idle else { return }
        let limits = store.current.runtime.proxy.limits
        connectionTimer.arm(in: TimeAmount(limits.headerTimeout)) { [unowned self] in
            // No head was decoded, so the HTTP pipeline has no request to answer: the
            // 408 goes out as raw bytes in front of it.
            if machine.headerTimedOut() { activity.sendRawAndClose(GatewayError.headerTimeout.rawResponse) }
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
        if context.channel.isWritable && machine.state == .responding && !readTimer.isArmed { armReadTimer() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionTimer.stop()
        readTimer.stop()
        writeTimer.stop()
        dropUpstream()
        machine.closed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        dropUpstream()
        // Parser errors: malformed requests and smuggling patterns (SPEC §2: 400; 431
        // when the parser's own header limit is hit). They may come after the head was
        // accepted (invalid chunked framing): answered unless a response already started.
        if let parserError = error as? HTTPParserError,
            case .send(let response) = machine.parseError(headerOverflow: parserError == .headerOverflow)
        {
            sendError(response, thenClose: true)
            return
        }
        machine.closed()
        context.close(promise: nil)
    }

    /// The server is draining: an idle connection closes now, a busy one after its response.
    func drainRequested() {
        if machine.drain() { context.close(promise: nil) }
    }

    // MARK: Helpers

    /// The query with every byte outside RFC 3986's query characters percent-encoded
    /// (the upstream codec refuses them; the client's parser lets some through).
    static func encodedQuery(_ query: String) -> String {
        var out = ""
        for byte in query.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case _ where "-._~!$&'()*+,;=:@/?%".utf8.contains(byte):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

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

/// Raw-byte activity of a client connection, seen in front of the HTTP parser: the
/// first byte after going idle starts the header timeout, and the 408 (which has no
/// request for the HTTP pipeline to answer) is written here as raw bytes.
final class ConnectionActivity {
    var sawByte = false
    var onFirstByte: (() -> Void)?
    fileprivate var rawContext: ChannelHandlerContext?

    func sendRawAndClose(_ bytes: String) {
        guard let context = rawContext else { return }
        let written = context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: bytes)))
        written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// Notes raw inbound bytes before the HTTP parser sees them.
final class InboundActivityHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let activity: ConnectionActivity

    init(activity: ConnectionActivity) { self.activity = activity }

    func handlerAdded(context: ChannelHandlerContext) { activity.rawContext = context }
    func handlerRemoved(context: ChannelHandlerContext) { activity.rawContext = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !activity.sawByte {
            activity.sawByte = true
            activity.onFirstByte?()
        }
        context.fireChannelRead(data)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

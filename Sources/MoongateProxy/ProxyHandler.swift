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
        upstream?.channel.flush()
        context.fireChannelReadComplete()
    }

    private func receivedHead(_ head: HTTPRequestHead) {
        // A head can arrive re-entrantly while the previous response's end is written
        // (pipelining): after a closing response it is ignored.
        guard state == .idle else { return }
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
        state = .connecting
        setHoldClientReads(true)
        if expectsContinue && head.version == .http1_1 {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
        }

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

    private func receivedEnd(_ trailers: HTTPHeaders?) {
        switch state {
        case .rejecting:
            requestEnded = true
            if enterIdleOrClosing() { context.close(promise: nil) }
        case .connecting:
            requestEnded = true
            buffered.append(.end(trailers))
        case .forwarding, .responding:
            requestEnded = true
            upstream?.channel.writeAndFlush(HTTPClientRequestPart.end(trailers), promise: nil)
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
            if !context.channel.isWritable {
                // A slow client is not a slow upstream: no read timeout while we hold reads.
                upstream?.handler.setHoldReads(true)
                readTimer?.cancel()
                readTimer = nil
            }
        case .end(let trailers):
            guard state == .responding else { return }
            readTimer?.cancel()
            readTimer = nil
            if let connection = upstream {
                upstream = nil
                loop.pool.release(connection, reusable: upstreamKeepAlive && requestEnded)
            }
            // State first, write last: the write may deliver the next pipelined head
            // to this handler before it returns.
            let close = enterIdleOrClosing()
            writeResponseEnd(trailers, thenClose: close)
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
        if closeAfterResponse {
            state = .closed
            sendError(error, thenClose: true)
        } else if requestEnded {
            sendError(error, thenClose: enterIdleOrClosing())
        } else {
            state = .rejecting
            setHoldClientReads(false)
            sendError(error, thenClose: false)
        }
    }

    /// The upstream failed before a response head: answer with the gateway's error.
    private func failExchange(_ error: GatewayError) {
        dropUpstream()
        reject(error, close: !requestEnded)
    }

    /// Writes a whole gateway-made response. The caller has already set `state`.
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

    /// The exchange is over: back to idle for the next request, or closing. Returns
    /// true when the connection is to close.
    private func enterIdleOrClosing() -> Bool {
        readTimer?.cancel()
        readTimer = nil
        buffered = []
        setHoldClientReads(false)
        if closeAfterResponse || server.isDraining {
            state = .closed
            return true
        }
        state = .idle
        armIdleTimer()
        return false
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

    /// Between requests an idle connection is closed after `idle_timeout`. Once the
    /// first byte of a request arrives, its headers must be complete within
    /// `header_timeout` (408): a client cannot hold a connection by trickling a head.
    private func armIdleTimer() {
        connectionTimer?.cancel()
        activity.sawByte = false
        let limits = store.current.runtime.proxy.limits
        connectionTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limits.idleTimeout)) { [self] in
            connectionTimer = nil
            if state == .idle && !activity.sawByte { context.close(promise: nil) }
        }
    }

    /// Called by the activity handler at the first byte after the connection went idle.
    private func firstByteArrived() {
        guard state == .idle else { return }
        connectionTimer?.cancel()
        let limits = store.current.runtime.proxy.limits
        connectionTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limits.headerTimeout)) { [self] in
            connectionTimer = nil
            guard state == .idle else { return }
            // No head was decoded, so the HTTP pipeline has no request to answer: the
            // 408 goes out as raw bytes in front of it.
            state = .closed
            activity.sendRawAndClose(GatewayError.headerTimeout.rawResponse)
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
        if context.channel.isWritable && state == .responding && readTimer == nil { armReadTimer() }
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
                state = .closed
                sendError(parserError == .headerOverflow ? .headersTooLarge : .badRequest("malformed request"), thenClose: true)
                return
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

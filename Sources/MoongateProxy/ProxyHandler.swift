import MoongateCore
import MoongateScripting
import NIOCore
import NIOHTTP1

/// Proxies the requests of one client connection, one at a time: it reads the
/// connection's bytes itself (`ClientRequestParser`), and a pipelined request waits,
/// unparsed, until the response to the one before it is complete.
///
/// A request's way: head -> framing checks -> route -> upstream -> target -> lease a
/// pooled connection on this event loop -> stream the body up -> stream the response
/// back. Both directions stream with backpressure: reads on one side are held while
/// the other side's channel is not writable. What happens next at each event is
/// decided by `ExchangeStateMachine`; this handler performs its actions.
final class ProxyHandler: ChannelDuplexHandler, TickFlushable {
    typealias InboundIn = ByteBuffer
    /// Responses are encoded here (`output`), not by NIO's encoder.
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let store: ConfigStore
    private let loop: LoopContext
    private let server: ServerState
    private var context: ChannelHandlerContext!
    private var machine = ExchangeStateMachine()
    private var parser = ClientRequestParser()
    /// Part of a request head arrived since the connection went idle: the header
    /// timeout runs instead of the idle timeout.
    private var sawByte = false
    /// Encodes responses; its bytes go out at each flush.
    private var output: ClientResponseWriter!
    var state: ExchangeStateMachine.State { machine.state }

    // The exchange in progress.
    private var clientVersion = HTTPVersion.http1_1
    /// The request's plugins, when its generation has any.
    private var plugin: PluginExchange?
    /// A plugin replaced the body: the client's is read and dropped.
    private var discardClientBody = false
    private var continueSent = false
    private var upstream: UpstreamConnection?
    private var buffered: [HTTPClientRequestPart] = []
    /// The request's tries against its upstream (nil until it is forwarded).
    private var tries: UpstreamTries?
    /// The upstream request head; its Host is set per try when `hostPerTarget`.
    private var upstreamHead: HTTPRequestHead?
    private var hostPerTarget = false
    /// The Host `upstreamHead` carries when `hostPerTarget`.
    private var upstreamHeadHost = ""
    /// The body as sent so far, for retries after a try reached an upstream.
    private var replay = RequestReplay()
    /// The wait before a retry.
    private var retryTimer: Scheduled<Void>?
    /// Counts exchanges on this connection, so a late timer knows whether its own is still on.
    private var exchangeNumber = 0
    /// A bodyless idempotent request: replayed once on a fresh connection when a pooled
    /// one turns out to be closed (not a retry: the request never reached the upstream).
    private var replaysOnFreshConnection = false
    private var timeouts = UpstreamTimeouts()
    /// `timeouts.read` as NIO counts time (converted once per request: a Duration's
    /// components take a 128-bit division, and the read timer is armed at every part).
    private var readTimeout = TimeAmount.seconds(30)
    /// The read timeout until the response head: the retry policy's per-try timeout.
    private var tryTimeout = TimeAmount.seconds(30)
    /// `max_body_bytes` of the generation the request started with.
    private var maxBodyBytes = 0
    private var readTimer: LazyTimer!
    private var writeTimer: LazyTimer!
    /// The idle timeout between requests, then the header timeout once bytes arrive.
    private var connectionTimer: LazyTimer!
    /// The client, as text once per connection (formatting an address is an
    /// `inet_ntop` and a `sprintf`).
    private lazy var peerAddress: SocketAddress? = context.channel.remoteAddress
    private lazy var peerIP: String? = peerAddress?.ipAddress
    private lazy var localPort: Int = context.channel.localAddress?.port ?? 0
    /// Made once: a closure literal at each arming would be an allocation per request.
    private lazy var onUpstreamTimeout: () -> Void = { [unowned self] in upstreamTimedOut() }

    /// Inside a client read batch: upstream writes wait for its channelReadComplete
    /// flush (one write syscall per batch instead of one per part).
    private var inClientReadBatch = false

    // Client reads held while the upstream cannot take more.
    private var holdClientReads = false
    private var pendingClientRead = false
    /// Bytes of a pipelined request wait in the parser: reads stop until its turn
    /// (NIO's HTTPServerPipelineHandler stopped reading during every response instead:
    /// two `epoll_ctl` calls per request).
    private var holdForPipelined = false

    init(store: ConfigStore, loop: LoopContext, server: ServerState) {
        self.store = store
        self.loop = loop
        self.server = server
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        output = ClientResponseWriter(allocator: context.channel.allocator)
        readTimer = LazyTimer(eventLoop: context.eventLoop)
        writeTimer = LazyTimer(eventLoop: context.eventLoop)
        connectionTimer = LazyTimer(eventLoop: context.eventLoop)
        if context.channel.isActive { armIdleTimer() }
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer()
        context.fireChannelActive()
    }

    // MARK: Client -> gateway

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        parser.append(unwrapInboundIn(data))
        inClientReadBatch = true
        parseRequests()
        startHeaderTimeoutForPartialHead()
    }

    /// Hands on what the parser makes of the bytes received, in order. The head of a
    /// pipelined request is not parsed while an exchange is in progress: its bytes
    /// wait, with client reads held, until the connection is idle again.
    private func parseRequests() {
        while machine.state != .closed {
            if parser.isAtRequestBoundary && machine.state != .idle {
                holdForPipelined = parser.hasUnparsedBytes
                return
            }
            let event: ClientRequestParser.Event?
            do {
                event = try parser.next()
            } catch {
                return failConnection(error)
            }
            guard let event else { return }
            switch event {
            case .head(let head): receivedHead(head)
            case .body(let buffer): receivedBody(buffer)
            case .end(let trailers): receivedEnd(trailers)
            }
        }
    }

    /// The connection went idle with a pipelined request's bytes waiting: they are
    /// parsed now (from the event loop, never from inside a response write, so the
    /// previous response's end is written before the next request starts).
    private func resumePipelined() {
        holdForPipelined = false
        parseRequests()
        startHeaderTimeoutForPartialHead()
        setHoldClientReads(holdClientReads)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inClientReadBatch = false
        upstream?.handler.flush()
        context.fireChannelReadComplete()
    }

    private func receivedHead(_ parsed: ClientRequestParser.Head) {
        let head = parsed.head
        let connectionTokens = ForwardedHeaders.connectionTokens(parsed.connection)
        let keepAlive = ForwardedHeaders.isKeepAlive(connectionTokens: connectionTokens, version: head.version)
        guard machine.requestHead(keepAlive: keepAlive) == .process else { return }
        output.answeringHead = head.method == .HEAD
        endTries()
        exchangeNumber &+= 1
        connectionTimer.cancel()
        clientVersion = head.version
        buffered = []
        discardClientBody = false
        continueSent = false
        let config = store.current
        let limits = config.runtime.proxy.limits
        maxBodyBytes = limits.maxBodyBytes

        if parsed.byteCount > limits.maxHeaderBytes { return perform(machine.reject(.headersTooLarge, close: true)) }
        if case .reject(let error) = parsed.framing { return perform(machine.reject(error, close: true)) }
        let contentLength = parsed.framing.contentLength
        if let contentLength, contentLength > limits.maxBodyBytes { return perform(machine.reject(.bodyTooLarge, close: true)) }
        let (rawPath, query) = ProxyHandler.splitTarget(head.uri)
        guard let path = PathNormalizer.normalize(rawPath) else {
            return perform(machine.reject(.badRequest("invalid request path"), close: true))
        }
        let host = HostNormalizer.normalize(head.headers.first(name: "host") ?? "")
        let request = IncomingRequest(
            head: head, path: path, query: query, host: host, framing: parsed.framing, connectionTokens: connectionTokens)
        if let plan = config.plugins {
            guard let vm = loop.pluginVM(for: plan) else { return perform(machine.reject(.pluginFailure, close: false)) }
            return runPlugins(request, config: config, plan: plan, vm: vm)
        }
        guard let (match, route) = self.route(request, config: config) else {
            return perform(machine.reject(.noRoute, close: false))
        }
        guard let upstreamName = loop.upstreamName(for: route, generation: config.generation) else {
            return perform(machine.reject(.noTarget, close: false))
        }
        forward(request, config: config, route: route, match: match, upstreamName: upstreamName, plugins: nil)
    }

    private func route(_ request: IncomingRequest, config: ServingConfig) -> (RouteMatch, CompiledRoute)? {
        let head = request.head
        guard
            let match = config.router.match(
                host: request.host, path: request.path, method: head.method.rawValue, header: { head.headers.first(name: $0) })
        else { return nil }
        return (match, config.runtime.routes[match.routeIndex])
    }

    /// Request fields a plugin cannot set for the upstream: the gateway frames the
    /// body and answers `Expect` itself.
    private static func isGatewayOwned(_ name: String) -> Bool {
        switch name.utf8.count {
        case 6: return name.equalsIgnoringASCIICase("expect")
        case 14: return name.equalsIgnoringASCIICase("content-length")
        case 17: return name.equalsIgnoringASCIICase("transfer-encoding")
        default: return false
        }
    }

    /// Sends the request to its upstream: the target, the upstream head (with what
    /// plugins changed), then a leased connection.
    private func forward(
        _ request: IncomingRequest, config: ServingConfig, route: CompiledRoute, match: RouteMatch, upstreamName: String,
        plugins: PluginRequest?
    ) {
        let head = request.head
        guard let upstream = loop.upstream(named: upstreamName, in: config) else {
            return perform(machine.reject(.noTarget, close: false))
        }
        let runtime = upstream.runtime
        guard runtime.circuit.tryStartRequest() else {
            return perform(machine.reject(.shed("too many requests in flight to upstream '\(upstreamName)'"), close: false))
        }
        let now = MonotonicClock.now()
        let snapshot = runtime.members.snapshot
        let balancer = loop.balancer(for: runtime, algorithm: upstream.spec.algorithm, snapshot: snapshot, now: now)
        let peer = peerIP
        let hashKey =
            upstream.spec.algorithm == .consistentHash
            ? UpstreamHashKey.value(
                for: upstream.spec.hashOn, headers: head.headers, path: request.path, rawQuery: request.query, clientIP: peer ?? "")
            : 0
        var retryConfig = route.retries.map { $0.applied(to: upstream.spec.retries) } ?? upstream.spec.retries
        if let attempts = plugins?.retriesOverride { retryConfig.attempts = attempts }
        let tries = UpstreamTries(
            runtime: runtime, loopBalancer: balancer, snapshot: snapshot, policy: RetryPolicy(retryConfig), hashKey: hashKey,
            fixedAddress: plugins?.targetOverride, reportsOutcomes: upstream.spec.health.passive != nil, now: now)
        self.tries = tries
        guard tries.chooseTarget(now: now) else {
            return perform(machine.reject(.noTarget, close: false))
        }
        timeouts = upstream.spec.timeouts
        if let override = plugins?.timeoutsOverride {
            timeouts = UpstreamTimeouts(
                connect: .milliseconds(override.connect), read: .milliseconds(override.read), write: .milliseconds(override.write))
        }
        readTimeout = TimeAmount(timeouts.read)
        tryTimeout = TimeAmount(tries.policy.tryTimeout(read: timeouts.read))

        var upstreamPath = request.path
        if route.stripPrefix, let prefix = match.matchedPrefix {
            upstreamPath = ProxyHandler.strip(prefix: prefix, from: request.path)
        }
        if let path = plugins?.upstreamPath { upstreamPath = path }
        // A plugin's raw query is encoded like the client's: a space or CRLF in it would
        // otherwise split the request line.
        let query = plugins?.upstreamRawQuery.map { $0.isEmpty ? nil : ProxyHandler.encodedQuery($0) } ?? request.query.map { ProxyHandler.encodedQuery($0) }
        let trusted = peer.map { address in config.runtime.proxy.trustedProxies.contains { $0.contains(address) } } ?? false
        let fixedHost = route.preserveHost ? head.headers.first(name: "host") : upstream.spec.hostHeader
        let targetHost = tries.defaultHostHeader
        var headers = ForwardedHeaders.upstreamRequestHeaders(
            from: head.headers, named: request.connectionTokens, clientIP: peer, peerIsTrusted: trusted, host: fixedHost ?? targetHost, scheme: server.scheme)
        if let plugins {
            // What upstreamRequestHeaders took out stays out: framing is the gateway's
            // to set, and it answers `Expect: 100-continue` itself, so the plugins'
            // edits of those fields are dropped.
            HeaderEdit.apply(plugins.allUpstreamHeaderEdits(excluding: ProxyHandler.isGatewayOwned), to: &headers)
        }
        // Each try names its own target as Host, unless the route, the upstream or a
        // plugin fixed it.
        hostPerTarget = fixedHost == nil && headers.first(name: "host") == targetHost
        upstreamHeadHost = targetHost
        // Framing is the gateway's to set (upstreamRequestHeaders dropped the client's):
        // a client may name Content-Length in Connection, and a body sent up without
        // framing would be read as a second request.
        if let replacement = plugins?.upstreamBody {
            headers.add(name: "content-length", value: String(replacement.count))
        } else if let contentLength = request.contentLength {
            headers.add(name: "content-length", value: String(contentLength))
        } else if request.isChunked {
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        let method = plugins?.upstreamMethod.map { HTTPMethod(rawValue: $0) } ?? head.method
        let upstreamHead = HTTPRequestHead(
            version: .http1_1, method: method, uri: query.map { "\(upstreamPath)?\($0)" } ?? upstreamPath, headers: headers)
        self.upstreamHead = upstreamHead
        if let replacement = plugins?.upstreamBody {
            // The client's body is read and dropped; the plugin's goes up instead.
            discardClientBody = true
            buffered = []
            if !replacement.isEmpty { buffered.append(.body(.byteBuffer(context.channel.allocator.buffer(bytes: replacement)))) }
            buffered.append(.end(nil))
        }
        replay = RequestReplay()
        replay.record(contentsOf: buffered)
        buffered.insert(.head(upstreamHead), at: 0)
        let hasBody = plugins?.upstreamBody.map { !$0.isEmpty } ?? request.hasBody
        replaysOnFreshConnection = !hasBody && (method == .GET || method == .HEAD || method == .OPTIONS)
        if machine.state == .idle { machine.connecting() }
        setHoldClientReads(true)
        if request.expectsContinue && !continueSent && !discardClientBody { sendContinue() }
        startTry()
    }

    /// Sends the request to the target `tries` chose: the head (with that target's
    /// Host) goes first among the buffered parts, then a connection is leased.
    private func startTry() {
        guard let tries, let head = currentTryHead() else { return }
        if case .head = buffered.first {
            buffered[0] = .head(head)
        } else {
            buffered.insert(.head(head), at: 0)
        }
        tries.tryStarted(now: MonotonicClock.now())
        leaseUpstream(fresh: false)
    }

    /// The upstream head as the current try sends it (its target's Host when
    /// `hostPerTarget`).
    private func currentTryHead() -> HTTPRequestHead? {
        guard let tries, var head = upstreamHead else { return nil }
        // The head was built with the first target's Host: copied and changed (its
        // headers copied) only when a retry went to another target.
        if hostPerTarget && tries.defaultHostHeader != upstreamHeadHost {
            head.headers.replaceOrAdd(name: "host", value: tries.defaultHostHeader)
        }
        return head
    }

    /// A try failed before any of its response reached the client: retries it when
    /// the policy, the budget and the body allow (after the backoff, on another
    /// target when there is one) and returns true; else false, and the caller answers.
    private func retryAfterFailure(_ failure: RetryPolicy.Failure, outcome: TrafficOutcome?) -> Bool {
        guard let tries, let head = upstreamHead else { return false }
        // A refused connection leaves the buffered parts unsent: they are the replay.
        let connectFailed = failure == .connectFailure
        guard machine.canRetry,
            tries.beginRetry(
                after: failure, outcome: outcome, method: head.method.rawValue, bodyReplayable: connectFailed || replay.isComplete,
                now: MonotonicClock.now())
        else {
            // No retry: a failed try is over now; a status is passed on and its try
            // ends with its response.
            if case .status = failure { return false }
            tries.tryEnded(outcome, now: MonotonicClock.now())
            return false
        }
        dropUpstream()
        machine.retrying()
        if !connectFailed { buffered = [.head(head)] + replay.bodyParts }
        setHoldClientReads(true)
        let backoff = tries.policy.backoff(beforeRetry: tries.retriesDone, random: UInt64.random(in: 0...UInt64.max))
        let exchange = exchangeNumber
        retryTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(backoff)) { [self] in
            retryTimer = nil
            guard exchangeNumber == exchange, machine.state == .connecting, let tries = self.tries else { return }
            guard tries.chooseTarget(now: MonotonicClock.now()) else {
                return perform(machine.reject(.noTarget, close: !machine.requestEnded))
            }
            startTry()
        }
        return true
    }

    /// The request is done with its upstream: the tries give back what they hold.
    private func endTries() {
        retryTimer?.cancel()
        retryTimer = nil
        if let tries {
            self.tries = nil
            tries.finish(now: MonotonicClock.now())
        }
    }

    private func sendContinue() {
        continueSent = true
        output.head(HTTPResponseHead(version: .http1_1, status: .continue))
        emit(flush: true)
    }

    // MARK: Plugins

    /// The request phases with plugins: rewrite (global instances), routing, access,
    /// balancer; then the request goes up, or the plugins' own response comes back.
    /// Body parts are buffered meanwhile (the exchange is `connecting`).
    private func runPlugins(_ incoming: IncomingRequest, config: ServingConfig, plan: PluginPlan, vm: PluginVM) {
        let head = incoming.head
        let peer = peerAddress
        let peerIP = self.peerIP ?? ""
        let trusted = self.peerIP.map { address in config.runtime.proxy.trustedProxies.contains { $0.contains(address) } } ?? false
        let request = PluginRequest(
            method: head.method.rawValue, scheme: server.scheme, host: incoming.host, port: localPort,
            path: incoming.path, rawQuery: incoming.query ?? "", headers: head.headers, httpVersion: head.version,
            clientIP: peerIP, clientPort: peer?.port ?? 0,
            forwardedIP: trusted
                ? ForwardedHeaders.forwardedClient(head.headers, peer: peerIP) { hop in
                    config.runtime.proxy.trustedProxies.contains { $0.contains(hop) }
                } : peerIP)
        request.consumers = plan.consumers
        request.knownUpstreams = plan.upstreamNames
        let exchange = PluginExchange(vm: vm, plan: plan, request: request, incoming: incoming, config: config)
        exchange.responseHasBody = head.method != .HEAD
        plugin = exchange
        machine.connecting()
        setHoldClientReads(true)
        request.requestBody = { [weak self, unowned exchange] in
            guard let self, plugin === exchange else { return }
            exchange.collectingBody = true
            if exchange.incoming.expectsContinue && !continueSent { sendContinue() }
            if machine.requestEnded {
                deliverBody(to: exchange)
            } else {
                setHoldClientReads(false)
            }
        }
        runRequestPhase(.rewrite, of: exchange)
    }

    /// Runs a request phase's hooks, then goes on with `requestPhaseDone`: at once,
    /// without making a closure, when the chain has no hook for the phase.
    private func runRequestPhase(_ phase: PluginPhase, of exchange: PluginExchange) {
        let chain = phase == .rewrite ? exchange.plan.rewriteChain : exchange.chain
        guard chain.has(phase) else { return requestPhaseDone(phase, of: exchange, .proceed) }
        exchange.vm.runPhase(phase, chain: chain, plan: exchange.plan, request: exchange.request) { [self] outcome in
            requestPhaseDone(phase, of: exchange, outcome)
        }
    }

    /// After rewrite: routing, then access. After access: the balancer phase (with the
    /// chosen upstream's targets). After balancer: the request goes up.
    private func requestPhaseDone(_ phase: PluginPhase, of exchange: PluginExchange, _ outcome: PluginPhaseOutcome) {
        guard plugin === exchange, machine.state == .connecting else { return }
        guard case .proceed = outcome else { return respondFromPlugins(exchange, outcome) }
        let request = exchange.request
        let config = exchange.config
        switch phase {
        case .rewrite:
            guard let (match, route) = self.route(exchange.incoming, config: config) else {
                return respondFromPlugins(exchange, error: .noRoute)
            }
            guard let upstreamName = loop.upstreamName(for: route, generation: config.generation) else {
                return respondFromPlugins(exchange, error: .noTarget)
            }
            let spec = config.runtime.routeSpecs[match.routeIndex]
            request.route = PluginRequest.RouteInfo(name: route.name, upstream: upstreamName, hosts: spec.hosts, paths: spec.paths)
            exchange.routed = (match, route, upstreamName)
            exchange.chain = exchange.plan.chain(routeIndex: match.routeIndex, upstream: upstreamName)
            runRequestPhase(.access, of: exchange)
        case .access:
            guard let (_, _, upstreamName) = exchange.routed else { return }
            // The upstream is settled here: the balancer phase picks among its targets.
            let chosen = request.upstreamOverride ?? upstreamName
            exchange.routed?.upstreamName = chosen
            if exchange.chain.has(.balancer), let entry = loop.upstream(named: chosen, in: config) {
                let runtime = entry.runtime
                let now = MonotonicClock.now()
                let snapshot = runtime.members.snapshot
                let balancer = loop.balancer(for: runtime, algorithm: entry.spec.algorithm, snapshot: snapshot, now: now).balancer
                request.balancerTargets = snapshot.targets.indices.map { index in
                    PluginRequest.TargetInfo(
                        address: snapshot.targets[index].address, weight: snapshot.targets[index].weight,
                        healthy: snapshot.isHealthy(index, now: now), active: balancer.activeRequests(target: index),
                        latencyMilliseconds: balancer.latencyMilliseconds(target: index, now: now))
                }
            }
            runRequestPhase(.balancer, of: exchange)
        case .balancer:
            guard let (match, route, upstreamName) = exchange.routed else { return }
            forward(exchange.incoming, config: config, route: route, match: match, upstreamName: upstreamName, plugins: request)
        default:
            preconditionFailure("\(phase) is not a request phase")
        }
    }

    /// Hands the buffered body to the plugin that asked for it.
    private func deliverBody(to exchange: PluginExchange) {
        var bytes: [UInt8] = []
        for part in buffered {
            if case .body(.byteBuffer(let buffer)) = part { bytes += buffer.readableBytesView }
        }
        exchange.request.bodyArrived(bytes)
    }

    private func respondFromPlugins(_ exchange: PluginExchange, _ outcome: PluginPhaseOutcome) {
        switch outcome {
        case .exited:
            // The exit's own status and headers win over changes asked for earlier
            // (`set_status`, `set_header`), which still apply to the headers it does not set.
            let request = exchange.request
            let exit = request.exit!
            var headers = HTTPHeaders()
            HeaderEdit.apply(request.pendingResponseEdits, to: &headers)
            for (name, _) in exit.headers { headers.remove(name: name) }
            for (name, value) in exit.headers { headers.add(name: name, value: value) }
            request.pendingResponseEdits = []
            request.pendingResponseStatus = nil
            respondFromPlugins(exchange, status: exit.status, headers: headers, body: exit.body)
        case .failed:
            respondFromPlugins(exchange, error: .pluginFailure)
        case .proceed:
            preconditionFailure("a proceeding phase is not a response")
        }
    }

    private func respondFromPlugins(_ exchange: PluginExchange, error: GatewayError) {
        // A gateway-made error is not what earlier hooks prepared a response for.
        exchange.request.pendingResponseEdits = []
        exchange.request.pendingResponseStatus = nil
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        respondFromPlugins(exchange, status: Int(error.status.code), headers: headers, body: Array(error.body.utf8))
    }

    /// A response made here (a plugin's exit, a failed hook, no route) still goes
    /// through the header_filter and body_filter hooks (SPEC §3), then out.
    private func respondFromPlugins(_ exchange: PluginExchange, status: Int, headers: HTTPHeaders, body: [UInt8]) {
        let request = exchange.request
        request.clientResponse = (request.pendingResponseStatus ?? status, headers)
        for edit in request.pendingResponseEdits { edit.apply(to: &request.clientResponse!.headers) }
        request.pendingResponseEdits = []
        request.pendingResponseStatus = nil
        exchange.vm.runPhase(.headerFilter, chain: exchange.chain, plan: exchange.plan, request: request) { [self] outcome in
            guard plugin === exchange else { return }
            var failed = false
            if case .failed = outcome {
                failed = true
                let error = GatewayError.pluginFailure
                request.clientResponse = (Int(error.status.code), ["content-type": "application/json"])
            }
            let content = failed ? Array(GatewayError.pluginFailure.body.utf8) : body
            let send: ([UInt8]) -> Void = { [self] finalBody in
                guard plugin === exchange else { return }
                let response = PluginMadeResponse(
                    status: request.clientResponse!.status, headers: request.clientResponse!.headers, body: finalBody)
                perform(machine.reject(GatewayError(plugin: response), close: false))
            }
            guard exchange.chain.has(.bodyFilter), exchange.responseHasBody else { return send(content) }
            exchange.vm.runBodyFilter(chain: exchange.chain, plan: exchange.plan, request: request, chunk: content, eof: true) {
                result in
                switch result {
                case .success(let filtered): send(filtered)
                case .failure: send(content)
                }
            }
        }
    }

    /// The current request's plugins are done with it: the log hooks run.
    private func finishPlugins() {
        guard let exchange = plugin else { return }
        plugin = nil
        exchange.finish()
    }

    private func leaseUpstream(fresh: Bool) {
        guard let tries else { return }
        if !fresh, let connection = loop.pool.leaseIdle(upstream: tries.runtime, address: tries.address) {
            return attach(connection)
        }
        let exchange = exchangeNumber
        loop.pool.lease(upstream: tries.runtime, address: tries.address, connectTimeout: timeouts.connect, fresh: fresh)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let connection):
                    guard exchangeNumber == exchange else { return loop.pool.release(connection, reusable: true) }
                    attach(connection)
                case .failure(let error):
                    guard exchangeNumber == exchange, machine.state == .connecting else { return }
                    leaseFailed(error)
                }
            }
    }

    private func leaseFailed(_ error: Error) {
        switch error as? UpstreamConnectError {
        case .connectionLimit:
            tries?.tryEnded(nil, now: MonotonicClock.now())
            let name = tries?.runtime.name ?? ""
            return perform(machine.reject(.shed("no connection to upstream '\(name)' became free in time"), close: !machine.requestEnded))
        case .pendingLimit:
            tries?.tryEnded(nil, now: MonotonicClock.now())
            let name = tries?.runtime.name ?? ""
            return perform(machine.reject(.shed("upstream '\(name)' has too many requests waiting for a connection"), close: !machine.requestEnded))
        case .invalidAddress, nil:
            break
        }
        if retryAfterFailure(.connectFailure, outcome: .connectFailure) { return }
        let isTimeout = (error as? ChannelError).map { if case .connectTimeout = $0 { true } else { false } } ?? false
        if let action = machine.upstreamFailed(isTimeout ? .upstreamTimeout : .upstreamUnavailable) {
            perform(action)
        }
    }

    private func receivedBody(_ buffer: ByteBuffer) {
        switch machine.requestBody(bytes: buffer.readableBytes, maxBodyBytes: maxBodyBytes) {
        case .discard:
            return
        case .buffer:
            if discardClientBody { return }
            buffered.append(.body(.byteBuffer(buffer)))
            if tries != nil { replay.record(.body(.byteBuffer(buffer))) }
        case .forward:
            if discardClientBody { return }
            upstream?.handler.send(.body(.byteBuffer(buffer)))
            replay.record(.body(.byteBuffer(buffer)))
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
            if !discardClientBody {
                buffered.append(.end(trailers))
                if tries != nil { replay.record(.end(trailers)) }
            }
            if let exchange = plugin, exchange.collectingBody, exchange.request.body == nil { deliverBody(to: exchange) }
        case .forward(let armRead):
            if !discardClientBody {
                upstream?.handler.send(.end(trailers))
                replay.record(.end(trailers))
            }
            if !inClientReadBatch { upstream?.handler.flush() }
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
            // Nothing was sent on it: it is as good as idle.
            loop.pool.release(connection, reusable: true)
        case .sendBuffered(let armRead):
            upstream = connection
            connection.handler.exchange = self
            connection.handler.setHoldReads(!context.channel.isWritable)
            for part in buffered { connection.handler.send(part) }
            buffered = []
            // A pooled connection is attached synchronously, inside the client's read
            // batch: its channelReadComplete flushes everything at once.
            if !inClientReadBatch { connection.handler.flush() }
            if armRead { armReadTimer() }
            upstreamWritabilityChanged(isWritable: connection.channel.isWritable)
        }
    }

    // MARK: Upstream -> gateway

    func upstreamReceived(_ part: UpstreamResponseParser.Event) {
        if let exchange = plugin, exchange.busy || !exchange.pending.isEmpty {
            exchange.pending.append(part)
            return
        }
        handleResponsePart(part)
    }

    private func handleResponsePart(_ part: UpstreamResponseParser.Event) {
        switch part {
        case .head(let head):
            receivedResponseHead(head)
        case .body(let buffer):
            guard machine.responseBodyAccepted() else { return }
            armReadTimer()
            if let exchange = plugin, exchange.filtersBody {
                return filterResponseBody(exchange, Array(buffer.readableBytesView), eof: false) {}
            }
            writeResponseBody(buffer)
        case .end(let trailers):
            guard machine.responseBodyAccepted() else { return }
            if let exchange = plugin, exchange.filtersBody {
                return filterResponseBody(exchange, [], eof: true) { [self] in finishResponse(trailers) }
            }
            finishResponse(trailers)
        }
    }

    private func receivedResponseHead(_ parsed: UpstreamResponseParser.Head) {
        let head = parsed.head
        if machine.state == .forwarding, let tries {
            let status = Int(head.status.code)
            // Interim 1xx heads never get here (the upstream parser drops them, and
            // refuses a 101); `status >= 200` keeps that assumption explicit.
            if status >= 200, tries.policy.config.retryOn.contains(.status(status)),
                retryAfterFailure(.status(status), outcome: .response(status: status))
            {
                return
            }
            tries.responseHeadArrived(status: status, now: MonotonicClock.now())
        }
        var headers = head.headers
        let connectionTokens = ForwardedHeaders.connectionTokens(parsed.connection)
        if parsed.hasHopByHop { ForwardedHeaders.removeHopByHop(&headers, named: connectionTokens) }
        let exchange = plugin
        if let exchange {
            exchange.responseHasBody =
                exchange.responseHasBody && head.status != .noContent && head.status != .notModified && head.status.code >= 200
            // A body filter may change the length: the response is chunked (or, for an
            // HTTP/1.0 client, delimited by the close).
            if exchange.filtersBody { headers.remove(name: "content-length") }
        }
        let needsClose = clientVersion == .http1_0 && !headers.contains(name: "content-length")
        let upstreamKeepAlive = ForwardedHeaders.isKeepAlive(connectionTokens: connectionTokens, version: head.version)
        guard case .send(let close) = machine.responseHead(upstreamKeepAlive: upstreamKeepAlive, needsCloseToDelimit: needsClose)
        else { return }
        armReadTimer()
        ForwardedHeaders.appendVia(&headers, receivedVersion: head.version)
        if close {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if clientVersion == .http1_0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        guard let exchange, exchange.filtersResponse else {
            // Goes out with the body at the next flush.
            return output.head(HTTPResponseHead(version: clientVersion, status: head.status, headers: headers))
        }
        let request = exchange.request
        request.serviceResponse = (Int(head.status.code), head.headers)
        request.clientResponse = (request.pendingResponseStatus ?? Int(head.status.code), headers)
        for edit in request.pendingResponseEdits { edit.apply(to: &request.clientResponse!.headers) }
        request.pendingResponseEdits = []
        request.pendingResponseStatus = nil
        exchange.busy = true
        upstream?.handler.setHoldReads(true)
        exchange.vm.runPhase(.headerFilter, chain: exchange.chain, plan: exchange.plan, request: request) { [self] outcome in
            guard plugin === exchange else { return }
            exchange.busy = false
            if case .failed = outcome {
                // The head is not out yet: the client gets the 500, and the connection
                // closes (the upstream's body has nowhere to go).
                dropUpstream()
                machine.closed()
                sendError(.pluginFailure, thenClose: true)
                return
            }
            let response = request.clientResponse!
            output.head(
                HTTPResponseHead(version: clientVersion, status: HTTPResponseStatus(statusCode: response.status), headers: response.headers))
            emit(flush: true)
            resumeResponse(exchange)
        }
    }

    private func writeResponseBody(_ buffer: ByteBuffer) {
        output.body(buffer) { context.write(wrapOutboundOut($0), promise: nil) }
        if output.pendingBytes >= 65536 { emit(flush: false) }
        if !context.channel.isWritable {
            // A slow client is not a slow upstream: no read timeout while we hold reads.
            upstream?.handler.setHoldReads(true)
            readTimer.cancel()
        }
    }

    /// Runs the body_filter hooks over a chunk, writes what they return, then goes on
    /// with the parts that arrived meanwhile.
    private func filterResponseBody(_ exchange: PluginExchange, _ chunk: [UInt8], eof: Bool, then: @escaping () -> Void) {
        exchange.busy = true
        upstream?.handler.setHoldReads(true)
        exchange.vm.runBodyFilter(chain: exchange.chain, plan: exchange.plan, request: exchange.request, chunk: chunk, eof: eof) {
            [self] result in
            guard plugin === exchange else { return }
            exchange.busy = false
            switch result {
            case .success(let output):
                if !output.isEmpty {
                    self.output.body(context.channel.allocator.buffer(bytes: output)) { context.write(wrapOutboundOut($0), promise: nil) }
                    emit(flush: true)
                }
                then()
                resumeResponse(exchange)
            case .failure:
                // Part of the response is out: it cannot be completed.
                closeEverything()
            }
        }
    }

    /// Processes the response parts that waited for a hook, in order.
    private func resumeResponse(_ exchange: PluginExchange) {
        while plugin === exchange, !exchange.busy, !exchange.pending.isEmpty {
            handleResponsePart(exchange.pending.removeFirst())
        }
        // Parts that waited for a hook arrived in an upstream read that is over: no
        // read-complete will flush them (a streaming upstream may be quiet for long).
        if output.pendingBytes > 0 { emit(flush: true) }
        if plugin === exchange, !exchange.busy, let upstream {
            upstream.handler.setHoldReads(!context.channel.isWritable)
        }
    }

    private func finishResponse(_ trailers: HTTPHeaders?) {
        guard case .finish(let reuse, let close) = machine.responseEnd() else { return }
        readTimer.cancel()
        writeTimer.cancel()
        endTries()
        if let connection = upstream {
            upstream = nil
            loop.pool.release(connection, reusable: reuse)
        }
        let finishing = plugin
        plugin = nil
        if !close { becameIdle() }
        // Written last: the exchange's state is settled before its end goes out (a
        // pipelined request waiting behind it starts on a later tick).
        writeResponseEnd(trailers, thenClose: close)
        finishing?.finish()
    }

    func upstreamReadComplete() {
        emit(flush: true)
    }

    func upstreamClosed(error: Error?) {
        guard let connection = upstream else { return }
        if connection.wasReused, replaysOnFreshConnection, let head = currentTryHead(), machine.replayOnFreshConnection() {
            dropUpstream()
            buffered = [.head(head)] + replay.bodyParts
            leaseUpstream(fresh: true)
            return
        }
        let broken = error is HTTPParserError
        // A pooled connection that closes before any response byte is most likely the
        // upstream's keep-alive timeout meeting our request, not a sign of ill health.
        let outcome: TrafficOutcome? = connection.wasReused ? nil : .reset
        if machine.state == .forwarding, retryAfterFailure(.reset, outcome: outcome) { return }
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
            writeTimer.arm(in: TimeAmount(timeouts.write), onUpstreamTimeout)
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
        endTries()
        // Taken first: the exchange is over once its response is written.
        let finishing = plugin
        plugin = nil
        defer { finishing?.finish() }
        output.complete(error.responseHead(version: clientVersion, close: close), body: error.bodyBytes)
        flushResponse(thenClose: close)
    }

    /// Writes a response's end; a closing connection closes once it has gone out
    /// (closing at once would discard writes still queued for a slow client).
    private func writeResponseEnd(_ trailers: HTTPHeaders?, thenClose close: Bool) {
        output.end(trailers)
        flushResponse(thenClose: close)
    }

    /// Writes and flushes what the response writer holds; a closing connection closes
    /// once it has gone out.
    private func flushResponse(thenClose close: Bool) {
        guard close else { return emit(flush: true) }
        let bytes = output.takePending() ?? context.channel.allocator.buffer(capacity: 0)
        let context = self.context!
        context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Hands the encoded response bytes to the channel; when asked to flush, they go
    /// out at the end of the tick.
    private func emit(flush: Bool) {
        if let bytes = output.takePending() { context.write(wrapOutboundOut(bytes), promise: nil) }
        if flush { loop.flushes.flushAtEndOfTick(self) }
    }

    // TickFlushable: `emit` queues the flush, the loop's TickFlushes does it.
    var flushQueued = false

    func flushNow() {
        context.flush()
    }

    /// The exchange is over and the connection waits for the next request.
    private func becameIdle() {
        readTimer.cancel()
        buffered = []
        setHoldClientReads(false)
        armIdleTimer()
        if parser.hasUnparsedBytes {
            // After the caller's response writes: the next request starts on a later tick.
            context.eventLoop.assumeIsolated().execute { [self] in resumePipelined() }
        }
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
        endTries()
        finishPlugins()
        dropUpstream()
        machine.closed()
        context.close(promise: nil)
    }

    private func upstreamTimedOut() {
        if machine.state == .forwarding, retryAfterFailure(.timeout, outcome: .timeout) { return }
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
        readTimer.arm(in: machine.state == .responding ? readTimeout : tryTimeout, onUpstreamTimeout)
    }

    /// Between requests an idle connection is closed after `idle_timeout`. Once the
    /// first byte of a request arrives, its headers must be complete within
    /// `header_timeout` (408): a client cannot hold a connection by trickling a head.
    private func armIdleTimer() {
        sawByte = false
        connectionTimer.arm(in: store.current.idleTimeout, onIdleTimeout)
    }

    private lazy var onIdleTimeout: () -> Void = { [unowned self] in
        if machine.state == .idle && !sawByte {
            machine.closed()
            context.close(promise: nil)
        }
    }

    /// The connection is idle with part of a head received: the rest must come within
    /// `header_timeout` of the first of it. Checked after parsing, so that a head that
    /// arrives whole (the usual case) arms no timer.
    private func startHeaderTimeoutForPartialHead() {
        guard !sawByte, machine.state == .idle, parser.hasUnparsedBytes else { return }
        sawByte = true
        connectionTimer.arm(in: store.current.headerTimeout, onHeaderTimeout)
    }

    private lazy var onHeaderTimeout: () -> Void = { [unowned self] in
        if machine.headerTimedOut() {
            clientVersion = .http1_1
            sendError(.headerTimeout, thenClose: true)
        }
    }

    // MARK: Backpressure and connection events

    func read(context: ChannelHandlerContext) {
        if holdClientReads || holdForPipelined {
            pendingClientRead = true
        } else {
            context.read()
        }
    }

    private func setHoldClientReads(_ hold: Bool) {
        holdClientReads = hold
        if !hold && !holdForPipelined && pendingClientRead {
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
        endTries()
        finishPlugins()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failConnection(error)
    }

    /// Parser errors: malformed requests and smuggling patterns (SPEC §2: 400; 431 when
    /// the parser's own header limit is hit). They may come after the head was accepted
    /// (invalid chunked framing): answered unless a response already started. Other
    /// errors close the connection.
    private func failConnection(_ error: Error) {
        dropUpstream()
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
    /// (the client's parser accepts any visible ASCII in a target, such as `{` or `|`;
    /// origins may refuse them).
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

    /// Path and query of a request target, split at the first "?" (found as a byte:
    /// Character-wise search was a visible cost per request).
    static func splitTarget(_ uri: String) -> (Substring, String?) {
        let bytes = uri.utf8
        guard let mark = bytes.firstIndex(of: UInt8(ascii: "?")) else { return (Substring(uri), nil) }
        return (uri[..<mark], String(uri[bytes.index(after: mark)...]))
    }

    /// `/orders/1` without the prefix `/orders` is `/1`; the bare prefix becomes `/`.
    static func strip(prefix: String, from path: String) -> String {
        let trimmedPrefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        guard path.hasPrefix(trimmedPrefix) else { return path }
        let rest = path.dropFirst(trimmedPrefix.count)
        return rest.isEmpty ? "/" : (rest.hasPrefix("/") ? String(rest) : "/" + rest)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

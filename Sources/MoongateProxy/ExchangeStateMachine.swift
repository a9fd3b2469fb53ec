/// The life of the request/response exchanges of one client connection, as pure
/// logic: each event answers with the action the channel handler must perform
/// (STYLE #1). Routing, balancing and I/O stay in `ProxyHandler`; what happens next,
/// and whether the connection or the upstream connection survive, is decided here.
///
/// ```
///          head ok                  upstream leased         response head
/// idle ─────────────▶ connecting ─────────────────▶ forwarding ──────────▶ responding
///                         ▲        retry (before a response byte) │
///                         └───────────────────────────────────────┘
///  ▲ │ head refused      │ lease failed                │ failed/timeout      │ end
///  │ ▼                   ▼                             ▼                     │
///  │ rejecting ◀──── gateway error (rest of the body discarded) ◀─────────┘  │
///  └────────────── end of request / response, keep-alive ◀───────────────────┘
///  (any state) ── close, parse error, drain when idle ──▶ closed
/// ```
struct ExchangeStateMachine {
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

    private(set) var state: State = .idle
    private(set) var requestEnded = false
    /// The connection closes after the current response.
    private(set) var closeAfterResponse = false
    private var upstreamKeepAlive = false
    private var bodyBytes = 0
    private var draining = false
    private var replayed = false

    // MARK: Client events

    enum HeadAction: Equatable {
        /// Route it, then call `reject` or `connecting`.
        case process
        /// A head re-entrantly delivered while a closing response is written.
        case ignore
    }

    mutating func requestHead(keepAlive: Bool) -> HeadAction {
        guard state == .idle else { return .ignore }
        requestEnded = false
        bodyBytes = 0
        upstreamKeepAlive = false
        replayed = false
        closeAfterResponse = !keepAlive || draining
        return .process
    }

    /// The head was routed and a target chosen: lease a connection.
    mutating func connecting() {
        precondition(state == .idle, "connecting from \(state)")
        state = .connecting
    }

    enum ErrorAction: Equatable {
        /// Write the gateway's response; `close` after it, else `idle` tells whether
        /// the exchange is over (arm the idle timer) or the body is still coming.
        case send(GatewayError, close: Bool, nowIdle: Bool)
    }

    /// A gateway-made response for the current request.
    mutating func reject(_ error: GatewayError, close: Bool) -> ErrorAction {
        if close { closeAfterResponse = true }
        if closeAfterResponse {
            state = .closed
            return .send(error, close: true, nowIdle: false)
        }
        if requestEnded {
            let closing = enterIdleOrClosing()
            return .send(error, close: closing, nowIdle: !closing)
        }
        state = .rejecting
        return .send(error, close: false, nowIdle: false)
    }

    enum BodyAction: Equatable {
        case buffer
        case forward
        case discard
        /// Over `max_body_bytes` before a response started: drop the upstream, then this.
        case reject(ErrorAction)
        /// Over the limit while the response streams: close everything.
        case closeAll
    }

    mutating func requestBody(bytes: Int, maxBodyBytes: Int) -> BodyAction {
        switch state {
        case .idle, .rejecting, .closed:
            return .discard
        case .connecting, .forwarding, .responding:
            bodyBytes += bytes
            if bodyBytes > maxBodyBytes {
                if state == .responding {
                    state = .closed
                    return .closeAll
                }
                return .reject(reject(.bodyTooLarge, close: true))
            }
            return state == .connecting ? .buffer : .forward
        }
    }

    enum EndAction: Equatable {
        case none
        case buffer
        /// Write the end upstream; arm the read timeout when no response has started.
        case forward(armReadTimer: Bool)
        /// The discarded body is complete: `close`, or the connection is idle again.
        case finishRejected(close: Bool)
    }

    mutating func requestEnd() -> EndAction {
        switch state {
        case .rejecting:
            requestEnded = true
            return .finishRejected(close: enterIdleOrClosing())
        case .connecting:
            requestEnded = true
            return .buffer
        case .forwarding, .responding:
            requestEnded = true
            return .forward(armReadTimer: state == .forwarding)
        case .idle, .closed:
            return .none
        }
    }

    // MARK: Upstream events

    enum AttachAction: Equatable {
        /// Write the buffered parts and flush; arm the read timeout if the request ended.
        case sendBuffered(armReadTimer: Bool)
        /// The exchange is gone: give the connection back unused.
        case releaseUnused
    }

    mutating func upstreamConnected() -> AttachAction {
        guard state == .connecting else { return .releaseUnused }
        state = .forwarding
        return .sendBuffered(armReadTimer: requestEnded)
    }

    /// The lease failed, the connection broke before a response head, or no byte came
    /// within the read timeout. Nil when it no longer matters (a response started: see
    /// `upstreamLost`).
    mutating func upstreamFailed(_ error: GatewayError) -> ErrorAction? {
        guard state == .connecting || state == .forwarding else { return nil }
        return reject(error, close: !requestEnded)
    }

    /// A reused idle connection closed before any response byte: the upstream closed it
    /// while it sat in the pool (its keep-alive timeout), so the request never reached
    /// it. When the handler can replay the request, it goes back to `connecting` once.
    mutating func replayOnFreshConnection() -> Bool {
        guard state == .forwarding, !replayed else { return false }
        replayed = true
        state = .connecting
        return true
    }

    /// No response byte has reached the client: another try is possible.
    var canRetry: Bool { state == .connecting || state == .forwarding }

    /// A failed try is followed by another: back to `connecting` (body parts are
    /// buffered again until the next connection is attached).
    mutating func retrying() {
        precondition(canRetry, "retrying from \(state)")
        state = .connecting
    }

    /// The upstream went away (or timed out) while the response streamed: the client's
    /// response cannot be completed, so its connection closes too.
    mutating func upstreamLost() -> Bool {
        guard state == .responding else { return false }
        state = .closed
        return true
    }

    enum ResponseHeadAction: Equatable {
        case ignore
        /// Send the head; `close` adds `Connection: close`.
        case send(close: Bool)
    }

    /// - Parameters:
    ///   - upstreamKeepAlive: the upstream allows reuse of its connection.
    ///   - needsCloseToDelimit: the client can only see the end as a close (HTTP/1.0
    ///     client and no Content-Length).
    mutating func responseHead(upstreamKeepAlive: Bool, needsCloseToDelimit: Bool) -> ResponseHeadAction {
        guard state == .forwarding else { return .ignore }
        self.upstreamKeepAlive = upstreamKeepAlive
        // An early response (the request body still coming) ends the connection: the
        // rest of the body would otherwise have to be read and thrown away.
        if needsCloseToDelimit || !requestEnded || draining { closeAfterResponse = true }
        state = .responding
        return .send(close: closeAfterResponse)
    }

    func responseBodyAccepted() -> Bool { state == .responding }

    enum ResponseEndAction: Equatable {
        case ignore
        /// Release the upstream (`reuse` it or close it), then write the end and `close`
        /// the client connection after it, or go idle.
        case finish(reuseUpstream: Bool, close: Bool)
    }

    mutating func responseEnd() -> ResponseEndAction {
        guard state == .responding else { return .ignore }
        let reuse = upstreamKeepAlive && requestEnded
        return .finish(reuseUpstream: reuse, close: enterIdleOrClosing())
    }

    // MARK: Connection events

    enum ParseErrorAction: Equatable {
        case send(GatewayError)
        case close
    }

    /// The HTTP parser refused the request (400, or 431 when its own header limit hit).
    mutating func parseError(headerOverflow: Bool) -> ParseErrorAction {
        let canAnswer = state == .idle || state == .connecting || state == .forwarding
        state = .closed
        closeAfterResponse = true
        guard canAnswer else { return .close }
        return .send(headerOverflow ? .headersTooLarge : .badRequest("malformed request"))
    }

    /// The server drains: returns true when the connection can close now (idle);
    /// otherwise it closes after the current response.
    mutating func drain() -> Bool {
        draining = true
        closeAfterResponse = true
        if state == .idle {
            state = .closed
            return true
        }
        return false
    }

    mutating func closed() {
        state = .closed
    }

    /// The header timer fired with no head decoded: true when a 408 is due.
    mutating func headerTimedOut() -> Bool {
        guard state == .idle else { return false }
        state = .closed
        return true
    }

    private mutating func enterIdleOrClosing() -> Bool {
        if closeAfterResponse || draining {
            state = .closed
            return true
        }
        state = .idle
        return false
    }
}

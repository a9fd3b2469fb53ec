import NIOCore

/// Keeps DNS answers fresh for discovery: looks a name up at once, then again when the
/// answer's TTL runs out, and tells the caller only when the set of addresses changed.
/// The policy for failures and empty answers is `DNSWatchState`'s: transient failures
/// keep the last good set (retried after `retryDelay`), and an authoritative empty
/// answer must be seen twice before it empties a set. Timers run on the resolver's
/// event loop, and so do the `onChange` calls.
public final class DNSWatcher: Sendable {
    public enum Kind: Sendable, Hashable {
        /// A and AAAA records of the name, each address with this port.
        case addresses(port: Int)
        /// SRV records of the name (`_service._proto.domain`).
        case service
    }

    public let resolver: DNSResolver
    public let retryDelay: Duration

    public init(resolver: DNSResolver, retryDelay: Duration = .seconds(5)) {
        self.resolver = resolver
        self.retryDelay = retryDelay
    }

    public func watch(name: String, kind: Kind, onChange: @escaping @Sendable ([ResolvedAddress]) -> Void) -> DNSWatch {
        let resolver = resolver
        let retryDelay = retryDelay
        return DNSWatch(eventLoop: resolver.eventLoop) { watch in
            DNSWatchLoop(
                name: name, kind: kind, resolver: resolver, state: DNSWatchState(retryDelay: retryDelay), watch: watch,
                onChange: onChange)
        }
    }
}

/// The lookups and timer of one watch, confined to the resolver's event loop.
final class DNSWatchLoop {
    private let name: String
    private let kind: DNSWatcher.Kind
    private let resolver: DNSResolver
    private var state: DNSWatchState
    /// Strong: a watch whose handle was dropped keeps running until cancelled.
    private let watch: DNSWatch
    private let onChange: @Sendable ([ResolvedAddress]) -> Void
    private var timer: Scheduled<Void>?
    private var stopped = false

    init(
        name: String, kind: DNSWatcher.Kind, resolver: DNSResolver, state: DNSWatchState, watch: DNSWatch,
        onChange: @escaping @Sendable ([ResolvedAddress]) -> Void
    ) {
        self.name = name
        self.kind = kind
        self.resolver = resolver
        self.state = state
        self.watch = watch
        self.onChange = onChange
    }

    func lookUp() {
        timer = nil
        let lookup =
            switch kind {
            case .addresses(let port): resolver.resolveAddresses(name, port: port)
            case .service: resolver.resolveService(name)
            }
        lookup.assumeIsolated().whenComplete { [self] result in
            guard !stopped, !watch.isCancelled else { return }
            let outcome: DNSWatchState.Outcome
            switch result {
            case .success(let addresses): outcome = .answer(addresses)
            case .failure(let error as DNSResolverError) where error.reason == .nameNotFound: outcome = .absent
            case .failure: outcome = .failure
            }
            let decision = state.resolved(outcome)
            if let report = decision.report { onChange(report) }
            guard !stopped, !watch.isCancelled else { return }
            timer = resolver.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(decision.nextLookup)) { [self] in
                lookUp()
            }
        }
    }

    func stop() {
        stopped = true
        timer?.cancel()
        timer = nil
    }
}

import Logging
import MoongateCore
import NIOConcurrencyHelpers
import NIOCore

/// Every upstream's live state, kept across reloads, and the machinery that keeps it
/// current: active health probes, DNS re-resolution of host-name targets and SRV
/// names, and the self-registration registry. A reload applies its upstreams here
/// before the new generation is published, so a request never sees an upstream the
/// directory does not know.
public final class UpstreamDirectory: Sendable {
    public let registry: ServiceRegistry
    private let logger: Logger
    private let prober: HealthProber
    private let eventLoop: EventLoop
    /// Makes the DNS watcher for a nameserver ("ip:port"; "" for the system's).
    private let makeNameWatcher: @Sendable (String, EventLoop) -> any NameWatcher
    private let state = NIOLockedValueBox(State())

    private struct State {
        var runtimes: [String: UpstreamRuntime] = [:]
        var nameWatcher: (any NameWatcher)?
        var nameserver: String?
        /// "upstream|name:port" or "upstream|srv|name" -> its watch.
        var watches: [String: any NameWatch] = [:]
        var expiryTimer: RepeatedTask?
        var stopped = false
    }

    init(
        group: EventLoopGroup, logger: Logger, registry: ServiceRegistry,
        makeNameWatcher: @escaping @Sendable (String, EventLoop) -> any NameWatcher
    ) {
        self.registry = registry
        self.makeNameWatcher = makeNameWatcher
        self.logger = logger
        eventLoop = group.next()
        prober = HealthProber(eventLoop: eventLoop)
        registry.onChange { [weak self] service in self?.registryChanged(service) }
    }

    /// The upstream named `name`, as the current generation uses it.
    func runtime(named name: String) -> UpstreamRuntime? {
        state.withLockedValue { $0.runtimes[name] }
    }

    var runtimes: [String: UpstreamRuntime] { state.withLockedValue { $0.runtimes } }

    /// Brings the directory to `config`'s upstreams: new ones are created, kept ones
    /// updated in place (health, ejections and counters survive), removed ones dropped
    /// with their probes and DNS watches.
    public func apply(_ config: RuntimeConfig) {
        let now = MonotonicClock.now()
        let (runtimes, obsoleteWatches) = state.withLockedValue { state -> ([UpstreamRuntime], [any NameWatch]) in
            guard !state.stopped else { return ([], []) }
            var next: [String: UpstreamRuntime] = [:]
            for (name, spec) in config.upstreams {
                if let existing = state.runtimes[name] {
                    existing.update(spec: spec, now: now)
                    next[name] = existing
                } else {
                    next[name] = UpstreamRuntime(spec: spec, logger: logger, now: now)
                }
            }
            state.runtimes = next
            let nameserver = config.proxy.resolver ?? ""
            if state.nameserver != nameserver {
                // A new DNS server: every watch starts over against it.
                state.nameserver = nameserver
                state.nameWatcher = nil
            }
            return (Array(next.values), reconcileWatches(&state, now: now))
        }
        for watch in obsoleteWatches { watch.cancel() }
        for service in Set(runtimes.compactMap(\.spec.discovery.registry)) { registryChanged(service) }
        startExpiryTimer()
        prober.reconcile(runtimes)
    }

    public func stop() {
        let (watches, timer) = state.withLockedValue { state -> ([any NameWatch], RepeatedTask?) in
            state.stopped = true
            defer {
                state.watches = [:]
                state.expiryTimer = nil
            }
            return (Array(state.watches.values), state.expiryTimer)
        }
        for watch in watches { watch.cancel() }
        timer?.cancel()
        prober.stop()
    }

    /// Starts the DNS watches the upstreams need and returns those no longer needed.
    private func reconcileWatches(_ state: inout State, now: UInt64) -> [any NameWatch] {
        var wanted: [String: (UpstreamRuntime, NameLookup, String)] = [:]
        for runtime in state.runtimes.values {
            let spec = runtime.spec
            for name in UpstreamRuntime.hostNameTargets(of: spec) {
                wanted["\(runtime.name)|\(name)"] = (runtime, .addresses(port: name.port), name.host)
            }
            if let srv = spec.discovery.srv { wanted["\(runtime.name)|srv|\(srv)"] = (runtime, .service, srv) }
        }
        var obsolete: [any NameWatch] = []
        // Watches of a replaced nameserver start over.
        if state.nameWatcher == nil {
            obsolete += state.watches.values
            state.watches = [:]
        }
        for (key, watch) in state.watches where wanted[key] == nil {
            obsolete.append(watch)
            state.watches[key] = nil
        }
        guard !wanted.isEmpty else { return obsolete }
        let watcher = state.nameWatcher ?? makeNameWatcher(state.nameserver!, eventLoop)
        state.nameWatcher = watcher
        for (key, (runtime, lookup, name)) in wanted where state.watches[key] == nil {
            let logger = self.logger
            state.watches[key] = watcher.watch(name, lookup) { [weak runtime] targets in
                guard let runtime else { return }
                logger.info(
                    "DNS answer changed", metadata: ["upstream": "\(runtime.name)", "name": "\(name)", "targets": "\(targets.count)"])
                switch lookup {
                case .addresses(let port):
                    runtime.setResolved(name: "\(name):\(port)", to: targets, now: MonotonicClock.now())
                case .service:
                    runtime.setSRVTargets(targets, now: MonotonicClock.now())
                }
            }
        }
        return obsolete
    }

    /// A registry service changed: the upstreams discovering it take its live instances.
    private func registryChanged(_ service: String) {
        let now = MonotonicClock.now()
        for runtime in runtimes.values where runtime.spec.discovery.registry == service {
            runtime.refreshRegistryTargets(from: registry, service: service, now: now)
        }
    }

    /// Registered instances expire when their TTL passes without a heartbeat; the
    /// registry's change callback then updates the upstreams.
    private func startExpiryTimer() {
        state.withLockedValue { state in
            guard state.expiryTimer == nil, !state.stopped else { return }
            let registry = self.registry
            state.expiryTimer = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
                _ = registry.expire(now: MonotonicClock.now())
            }
        }
    }
}

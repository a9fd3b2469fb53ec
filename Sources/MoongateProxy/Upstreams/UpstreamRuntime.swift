import Logging
import MoongateCore
import NIOConcurrencyHelpers

/// One upstream as it lives across reloads: its members (targets and their health),
/// its circuit (limits and retry budget), and where its targets come from. A reload
/// that keeps an upstream keeps this object, so health, ejections and counters survive
/// it; only the upstream's settings are replaced.
final class UpstreamRuntime: Sendable {
    let name: String
    let members: UpstreamMembers
    let circuit: UpstreamCircuit
    let logger: Logger
    private let state: NIOLockedValueBox<State>

    /// The targets of each source, merged into `members` on every change.
    struct State {
        var spec: UpstreamSpec
        /// Per host-name target as written ("orders.internal:80"): what it resolved to.
        var resolvedNames: [String: [BalancerTarget]] = [:]
        var srvTargets: [BalancerTarget] = []
        var registryTargets: [BalancerTarget] = []
        /// Orders concurrent registry refreshes (see `refreshRegistryTargets`).
        var registryTicketsIssued = 0
        var registryTicketApplied = 0
        /// Address of a resolved target -> the name it was written as, sent as its Host.
        var hostNames: [String: String] = [:]
    }

    init(spec: UpstreamSpec, logger: Logger, now: UInt64) {
        name = spec.name
        self.logger = logger
        let initial = State(spec: spec)
        members = UpstreamMembers(
            upstream: spec.name, health: spec.health, targets: UpstreamRuntime.merge(initial).targets, now: now)
        circuit = UpstreamCircuit(limits: spec.limits, retryBudgetPercent: spec.retries.budgetPercent)
        state = NIOLockedValueBox(initial)
    }

    var spec: UpstreamSpec { state.withLockedValue { $0.spec } }

    /// Host names written among `targets:` (they need resolving), as "name:port".
    static func hostNameTargets(of spec: UpstreamSpec) -> [HostPort] {
        spec.targets.compactMap { target in
            guard case .success(let address) = HostPort.parse(target.address), IPAddressBytes.parse(address.host) == nil
            else { return nil }
            return address
        }
    }

    /// A reload kept this upstream with (possibly) new settings.
    func update(spec: UpstreamSpec, now: UInt64) {
        log(members.updateHealthConfig(spec.health, now: now), cause: "reload")
        circuit.update(limits: spec.limits, retryBudgetPercent: spec.retries.budgetPercent)
        changeSources(now: now) { state in
            state.spec = spec
            let names = Set(UpstreamRuntime.hostNameTargets(of: spec).map(\.description))
            state.resolvedNames = state.resolvedNames.filter { names.contains($0.key) }
            if spec.discovery.srv == nil { state.srvTargets = [] }
            if spec.discovery.registry == nil { state.registryTargets = [] }
        }
    }

    func setResolved(name: String, to targets: [BalancerTarget], now: UInt64) {
        changeSources(now: now) { $0.resolvedNames[name] = targets }
    }

    func setSRVTargets(_ targets: [BalancerTarget], now: UInt64) {
        changeSources(now: now) { $0.srvTargets = targets }
    }

    /// Takes the registry's live instances of `service`. The registry is read outside
    /// the lock (a read may drop expired instances and notify, which comes back here),
    /// so each refresh draws a ticket first and an older read never replaces a newer
    /// one: every registry change notifies after it happened, and the refresh it starts
    /// draws a later ticket than any read that could have missed the change.
    func refreshRegistryTargets(from registry: ServiceRegistry, service: String, now: UInt64) {
        let ticket = state.withLockedValue { state -> Int in
            state.registryTicketsIssued += 1
            return state.registryTicketsIssued
        }
        let targets = registry.instances(of: service, now: now).map { BalancerTarget(address: $0.address, weight: $0.weight) }
        changeSources(now: now) { state in
            guard ticket > state.registryTicketApplied else { return }
            state.registryTicketApplied = ticket
            state.registryTargets = targets
        }
    }

    /// The Host header for a target found through a name (nil: send its address).
    var hostNames: [String: String] { state.withLockedValue { $0.hostNames } }

    /// Changes the sources and publishes the merged targets, under the lock so that
    /// concurrent changes (DNS answers, the registry, a reload) publish in the order
    /// they merged. The host names are in place before the new targets are: a loop
    /// that sees the new targets version reads host names at least that new. (The
    /// members' lock is taken inside this one, never the other way round.)
    private func changeSources(now: UInt64, _ change: (inout State) -> Void) {
        state.withLockedValue { state in
            change(&state)
            let merged = UpstreamRuntime.merge(state)
            state.hostNames = merged.hostNames
            members.replaceTargets(merged.targets, now: now)
        }
    }

    /// Configured targets (IP literals as written, names by what they resolved to),
    /// then SRV records, then registered instances; an address appears once (the
    /// first source wins, so a configured weight beats a discovered one).
    static func merge(_ state: State) -> (targets: [BalancerTarget], hostNames: [String: String]) {
        var targets: [BalancerTarget] = []
        var seen = Set<String>()
        var hostNames: [String: String] = [:]
        func add(_ target: BalancerTarget, hostName: String? = nil) {
            guard seen.insert(target.address).inserted else { return }
            targets.append(target)
            if let hostName { hostNames[target.address] = hostName }
        }
        for target in state.spec.targets {
            if let resolved = state.resolvedNames[target.address] {
                for address in resolved {
                    add(BalancerTarget(address: address.address, weight: target.weight), hostName: target.address)
                }
            } else if case .success(let address) = HostPort.parse(target.address), IPAddressBytes.parse(address.host) != nil {
                add(target)
            }
        }
        for target in state.srvTargets { add(target) }
        for target in state.registryTargets { add(target) }
        return (targets, hostNames)
    }

    /// A passive-health observation of a proxied try, with its consequences logged.
    func recordTraffic(address: String, outcome: TrafficOutcome, now: UInt64) {
        log(members.recordTraffic(address: address, outcome: outcome, now: now), cause: "traffic")
    }

    func recordProbe(address: String, passed: Bool, now: UInt64) {
        log(members.recordProbe(address: address, passed: passed, now: now), cause: "active probe")
    }

    private func log(_ events: [HealthEvent], cause: String) {
        for event in events {
            switch event {
            case .ejected(let address, let until, let ejections):
                let seconds = Double(until &- MonotonicClock.now()) / 1e9
                logger.warning(
                    "target ejected", metadata: [
                        "upstream": "\(name)", "target": "\(address)", "for_seconds": "\(Int(seconds.rounded()))",
                        "ejections": "\(ejections)",
                    ])
            case .readmitted(let address):
                logger.info("target readmitted", metadata: ["upstream": "\(name)", "target": "\(address)", "by": "\(cause)"])
            case .markedUnhealthy(let address):
                logger.warning("target unhealthy", metadata: ["upstream": "\(name)", "target": "\(address)", "by": "\(cause)"])
            case .markedHealthy(let address):
                logger.info("target healthy", metadata: ["upstream": "\(name)", "target": "\(address)", "by": "\(cause)"])
            }
        }
    }
}

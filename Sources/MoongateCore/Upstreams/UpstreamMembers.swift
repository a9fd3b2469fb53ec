import Synchronization

/// The live members of one upstream: its current targets (static configuration, DNS,
/// the registry; the caller merges them) and their health, shared by every event loop.
///
/// Writers (probes, passive tracking, discovery, reloads) take the lock and, when
/// health changes, publish a new immutable `UpstreamMembersSnapshot`; a request takes
/// the lock only to copy that reference, then asks the snapshot without locking.
/// Health changes are returned as `HealthEvent`s for the caller to log and count; an
/// ejection whose time has passed is reported by the next record call after it.
public final class UpstreamMembers: Sendable {
    public let upstream: String
    private let state: Mutex<UpstreamMembersState>

    public init(upstream: String, health: UpstreamHealthConfig, targets: [BalancerTarget], now: UInt64) {
        self.upstream = upstream
        state = Mutex(UpstreamMembersState(health: health, targets: targets, now: now))
    }

    /// The current targets and health; the proxy takes one per request.
    public var snapshot: UpstreamMembersSnapshot {
        state.withLock { $0.snapshot }
    }

    /// A new target list (discovery or reload). Addresses present before keep their
    /// health state, even when their weight changed; new addresses start healthy (as in
    /// Envoy and Kong); an address listed twice keeps its first entry. `targetsVersion`
    /// increases only when the list (addresses, weights or order) actually changed.
    public func replaceTargets(_ targets: [BalancerTarget], now: UInt64) {
        state.withLock { $0.replaceTargets(targets, now: now) }
    }

    /// A reload changed `health:`. Ejections stay until they end; turning `active` off
    /// clears the probe verdicts (a `markedHealthy` for each target it had marked
    /// unhealthy); turning `passive` off clears the failure streaks.
    @discardableResult
    public func updateHealthConfig(_ config: UpstreamHealthConfig, now: UInt64) -> [HealthEvent] {
        state.withLock { $0.updateHealthConfig(config, now: now) }
    }

    public var healthConfig: UpstreamHealthConfig {
        state.withLock { $0.config }
    }

    /// An active probe's result for `address`; ignored for unknown addresses and when
    /// active checking is off (a probe that was in flight during a reload).
    public func recordProbe(address: String, passed: Bool, now: UInt64) -> [HealthEvent] {
        state.withLock { $0.recordProbe(address: address, passed: passed, now: now) }
    }

    /// Passive checking: how a proxied try ended. Connection failures, timeouts, resets
    /// and the statuses in `passive.statuses` are failures; any other response is a
    /// success and ends the failure streak. Nothing happens when passive checking is off.
    public func recordTraffic(address: String, outcome: TrafficOutcome, now: UInt64) -> [HealthEvent] {
        state.withLock { $0.recordTraffic(address: address, outcome: outcome, now: now) }
    }

    /// Per target, in target order: for the admin API, `gate.balancer.get_targets` and metrics.
    public func report(now: UInt64) -> [TargetHealthReport] {
        state.withLock { $0.report(now: now) }
    }
}

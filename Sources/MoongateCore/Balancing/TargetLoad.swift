/// What a balancer knows about one target's load: its requests in flight, its latency
/// estimate and, for a target added by a rebuild, when it was added.
///
/// A class, not a struct, so that a rebuild hands the same object to the balancer that
/// replaces the old one (see `TargetLoad.carriedOver`): a request started through the
/// old balancer and finished through either one still moves the one count that both
/// see, and the count never leaks across rebuilds. Every algorithm keeps a full
/// `TargetLoad`, whether or not it picks by it, so `gate.balancer.get_targets()` and
/// the admin API report the same figures under every algorithm, and switching
/// algorithms keeps them.
///
/// Not `Sendable`: touched only from the event loop that owns the balancers.
final class TargetLoad {
    private(set) var activeRequests = 0
    private(set) var latency: PeakLatencyEstimate
    /// When a rebuild added this target (nil for targets present from the first build):
    /// `PeakEWMA` ramps the target's weight up from this moment.
    let addedAt: UInt64?

    init(latency: PeakLatencyEstimate, addedAt: UInt64?, activeRequests: Int = 0) {
        self.latency = latency
        self.addedAt = addedAt
        self.activeRequests = activeRequests
    }

    func requestStarted() {
        activeRequests += 1
    }

    /// Records the finished request's latency. A finish without a matching start (a
    /// caller bug) leaves the count at zero rather than making it negative, which would
    /// make the target look better than idle.
    func requestFinished(latencyNanos: UInt64, now: UInt64) {
        if activeRequests > 0 { activeRequests -= 1 }
        latency.observe(latencyNanos: Double(latencyNanos), at: now)
    }
}

/// One target's health as the admin API, `gate.balancer.get_targets` and the metrics
/// show it (`UpstreamMembers.report`).
public struct TargetHealthReport: Sendable, Equatable {
    public var address: String
    public var weight: Int
    /// Probe-healthy and not ejected: what balancing uses outside panic mode.
    public var healthy: Bool
    /// The active checker's verdict alone (true when active checking is off).
    public var probeHealthy: Bool
    /// When the current ejection ends; nil when the target is not ejected.
    public var ejectedUntil: UInt64?
    /// The ejection multiplier after decay: what the last ejection used, less one per
    /// full ejection period spent un-ejected since (the next ejection adds one to it).
    public var ejections: Int
    /// Failed tries in a row counted by passive checking.
    public var consecutiveFailures: Int

    public init(
        address: String, weight: Int, healthy: Bool, probeHealthy: Bool, ejectedUntil: UInt64?, ejections: Int,
        consecutiveFailures: Int
    ) {
        self.address = address
        self.weight = weight
        self.healthy = healthy
        self.probeHealthy = probeHealthy
        self.ejectedUntil = ejectedUntil
        self.ejections = ejections
        self.consecutiveFailures = consecutiveFailures
    }
}

/// A change in one target's health, returned by the `UpstreamMembers` call that caused
/// it so the caller can log it and count it; the state itself is already updated.
public enum HealthEvent: Sendable, Equatable {
    /// Passive checking took the target out until `until` (monotonic nanoseconds);
    /// `ejections` is the multiplier this ejection used (1 for a first ejection).
    case ejected(address: String, until: UInt64, ejections: Int)
    /// An ejection ended: its time passed, or an active probe passed.
    case readmitted(address: String)
    /// `unhealthy_after` active probes in a row failed.
    case markedUnhealthy(address: String)
    /// `healthy_after` active probes in a row passed (or active checking was turned off).
    case markedHealthy(address: String)
}

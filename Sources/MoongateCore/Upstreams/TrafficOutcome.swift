/// What one try against a target ended with, as the proxy saw it: the input of passive
/// health checking (`UpstreamMembers.recordTraffic`).
public enum TrafficOutcome: Sendable, Equatable {
    /// The target answered; whether `status` counts as a failure is `health.passive.statuses`' call.
    case response(status: Int)
    /// The connection could not be established (refused, unreachable, connect timeout).
    case connectFailure
    /// The target took longer than the (per-try) timeout to answer.
    case timeout
    /// The connection broke before the response was complete.
    case reset
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finagle's and Linkerd's peak EWMA of one target's latency: it believes bad news at
/// once and good news slowly.
///
/// - A sample above the current estimate replaces it (the peak), so a target that turns
///   slow stops attracting traffic after one slow answer, not after many.
/// - A sample below it is blended in with the weight `1 - e^(-Δ/τ)`, where Δ is the time
///   since the previous sample and τ = 10 s: the weight depends on elapsed time, not on
///   the number of samples, so a busy target and a quiet one forget at the same speed.
/// - Between samples the estimate decays towards zero with the same τ (Finagle observes
///   a zero latency on every read): silence counts as good news, so a target that was
///   slow and then got no traffic is tried again after a few τ instead of being starved
///   forever by the targets that looked faster.
///
/// The decay makes the estimate a pure function of the clock, so reading it (for a pick
/// or for the admin API) changes nothing.
struct PeakLatencyEstimate {
    /// τ: after 10 s an old estimate weighs 1/e, after 30 s 5 %.
    static let decayNanos = 10e9

    /// The estimate at `updatedAt`, in nanoseconds.
    private var nanos: Double
    private var updatedAt: UInt64
    /// False while `nanos` is a prior (a neutral guess given to a new target) rather than
    /// a measurement: the first sample then replaces it whatever its size.
    private(set) var isMeasured: Bool

    /// An estimate that starts at `nanos` without having measured anything.
    init(prior nanos: Double, at now: UInt64) {
        self.nanos = nanos
        updatedAt = now
        isMeasured = false
    }

    /// An estimate carried from elsewhere (another kind of balancer), taken as measured.
    init(measured nanos: Double, at now: UInt64) {
        self.nanos = nanos
        updatedAt = now
        isMeasured = true
    }

    /// The estimate at `now`, in nanoseconds.
    func nanos(at now: UInt64) -> Double {
        nanos * Self.decay(from: updatedAt, to: now)
    }

    mutating func observe(latencyNanos sample: Double, at now: UInt64) {
        defer {
            updatedAt = max(updatedAt, now)
            isMeasured = true
        }
        guard isMeasured else {
            nanos = sample
            return
        }
        let decay = Self.decay(from: updatedAt, to: now)
        let decayed = nanos * decay
        nanos = sample > decayed ? sample : decayed + sample * (1 - decay)
    }

    /// `e^(-Δ/τ)`; a clock that went backwards counts as no time.
    private static func decay(from then: UInt64, to now: UInt64) -> Double {
        guard now > then else { return 1 }
        return exp(-Double(now - then) / decayNanos)
    }
}

/// `health.passive` in the units the ejection arithmetic works in (monotonic
/// nanoseconds), resolved once per configuration rather than per recorded try.
struct PassiveEjectionRules {
    /// Envoy's default `max_ejection_time`: an ejection multiplier that keeps growing
    /// must not keep a recovered target out for hours.
    static let defaultMaximumEjection: UInt64 = 300 * 1_000_000_000

    let failures: Int
    let statuses: [Int]
    let ejection: UInt64
    /// 300 s, or the base ejection when that is longer (as in Envoy): a configured
    /// `ejection` beyond the cap is honoured, it just does not grow.
    let maximumEjection: UInt64
    let maxEjectionPercent: Int

    init(_ config: PassiveHealthCheckConfig) {
        failures = max(config.failures, 1)
        statuses = config.statuses
        ejection = config.ejection.wholeNanoseconds
        maximumEjection = max(Self.defaultMaximumEjection, ejection)
        maxEjectionPercent = config.maxEjectionPercent
    }

    /// Connection failures, timeouts, resets and the listed statuses are failures;
    /// every other response is a success. `statuses` is a handful of numbers, so a
    /// linear search beats hashing on this per-try path.
    func isFailure(_ outcome: TrafficOutcome) -> Bool {
        switch outcome {
        case .response(let status): statuses.contains(status)
        case .connectFailure, .timeout, .reset: true
        }
    }

    /// How long the ejection with multiplier `ejections` lasts: `ejection × ejections`,
    /// capped at `maximumEjection`.
    func ejectionLength(ejections: Int) -> UInt64 {
        let (length, overflow) = ejection.multipliedReportingOverflow(by: UInt64(max(ejections, 1)))
        return overflow ? maximumEjection : min(length, maximumEjection)
    }

    /// The multiplier `ejections` after decay: one comes off for each full `ejection`
    /// period between `readmittedAt` and `now` (Envoy decrements its multiplier the same
    /// way while a host stays in), so a target that failed once long ago is not
    /// punished as a repeat offender.
    func decayed(ejections: Int, readmittedAt: UInt64, now: UInt64) -> Int {
        guard ejections > 0, ejection > 0, now > readmittedAt else { return ejections }
        let periods = (now - readmittedAt) / ejection
        return periods >= UInt64(ejections) ? 0 : ejections - Int(periods)
    }
}

/// One target's health inside `UpstreamMembersState`: the active checker's streaks and
/// verdict, and passive checking's failure streak and ejection.
///
/// Ejections end lazily: `ejectedUntil` is compared with the caller's `now`, no timer
/// fires. An ended ejection stays recorded until `readmitIfExpired` reports it, and its
/// end is then the moment the target came back.
struct TargetHealth {
    var target: BalancerTarget
    /// The active checker's verdict; targets start healthy.
    private(set) var probeHealthy = true
    private(set) var probeSuccesses = 0
    private(set) var probeFailures = 0
    /// Failed tries in a row (passive checking).
    var consecutiveFailures = 0
    /// End of the current ejection (or of an ended one not yet reported); nil when in.
    private(set) var ejectedUntil: UInt64?
    /// The multiplier the last ejection used, before decay.
    private(set) var ejections = 0
    /// When the target last came back in, or was added: ejection decay counts from here.
    private(set) var readmittedAt: UInt64

    init(target: BalancerTarget, now: UInt64) {
        self.target = target
        readmittedAt = now
    }

    func isEjected(at now: UInt64) -> Bool {
        guard let ejectedUntil else { return false }
        return ejectedUntil > now
    }

    func isHealthy(at now: UInt64) -> Bool {
        probeHealthy && !isEjected(at: now)
    }

    /// The ejection multiplier at `now` after decay (see `PassiveEjectionRules.decayed`).
    /// While ejected there is no decay; an ended ejection counts from its end.
    func decayedEjections(at now: UInt64, rules: PassiveEjectionRules) -> Int {
        if isEjected(at: now) { return ejections }
        return rules.decayed(ejections: ejections, readmittedAt: ejectedUntil ?? readmittedAt, now: now)
    }

    /// One active probe: `healthy_after` passes in a row mark the target healthy,
    /// `unhealthy_after` failures in a row unhealthy. A passing probe also ends an
    /// ejection at once: the target answers again, which is better evidence than the
    /// clock (Envoy lifts outlier ejections on a successful active check too).
    mutating func recordProbe(passed: Bool, rules: ActiveHealthCheckConfig, now: UInt64, events: inout [HealthEvent]) {
        if passed {
            probeFailures = 0
            probeSuccesses += 1
            if isEjected(at: now) {
                ejectedUntil = nil
                readmittedAt = now
                consecutiveFailures = 0
                events.append(.readmitted(address: target.address))
            }
            if !probeHealthy && probeSuccesses >= rules.healthyAfter {
                probeHealthy = true
                events.append(.markedHealthy(address: target.address))
            }
        } else {
            probeSuccesses = 0
            probeFailures += 1
            if probeHealthy && probeFailures >= rules.unhealthyAfter {
                probeHealthy = false
                events.append(.markedUnhealthy(address: target.address))
            }
        }
    }

    /// Forgets the active checker's verdict and streaks (active checking was turned
    /// off); returns whether the target had been marked unhealthy.
    mutating func clearProbeState() -> Bool {
        let wasUnhealthy = !probeHealthy
        probeHealthy = true
        probeSuccesses = 0
        probeFailures = 0
        return wasUnhealthy
    }

    /// Takes the target out until `until` with multiplier `ejections`; its failure
    /// streak starts over for when it comes back.
    mutating func eject(until: UInt64, ejections: Int) {
        ejectedUntil = until
        self.ejections = ejections
        consecutiveFailures = 0
    }

    /// Reports an ejection whose time has passed, making its end the readmission time.
    mutating func readmitIfExpired(now: UInt64, events: inout [HealthEvent]) {
        guard let ejectedUntil, ejectedUntil <= now else { return }
        readmittedAt = ejectedUntil
        self.ejectedUntil = nil
        events.append(.readmitted(address: target.address))
    }
}

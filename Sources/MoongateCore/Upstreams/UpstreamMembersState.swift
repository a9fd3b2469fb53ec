/// The state machine behind `UpstreamMembers` (STYLE #1): one upstream's targets and
/// their health, answering each event (a probe, a proxied try, new targets, a new
/// configuration) with the `HealthEvent`s it caused. Not thread-safe on its own;
/// `UpstreamMembers` keeps it behind a lock.
///
/// Passive ejection rules, beyond SPEC §2:
/// - Tries that end while their target is ejected (in flight when it was ejected, or
///   sent in panic mode) are not counted: the target is already out.
/// - An ejection is refused when it would leave more than `max_ejection_percent` of
///   the targets ejected at once, except that one ejection is always allowed when no
///   target is ejected (so one of two targets at 50%, and the only target at 0%).
///   A refused ejection leaves the target in with its failure streak intact: the
///   next failure tries again, so the target goes out as soon as another ejection
///   ends (the streak shows in `report`).
/// - Drained targets (weight 0) count for nothing in the percentages: ejecting one
///   is always allowed and uses none of the allowance.
/// - The multiplier decays: each full `ejection` period spent in since the last
///   readmission takes one off it before the next ejection adds one.
struct UpstreamMembersState {
    private(set) var config: UpstreamHealthConfig
    private var passiveRules: PassiveEjectionRules?
    private var members: [TargetHealth]
    private var indexByAddress: [String: Int]
    /// Every target is drained, so all count in percentages (see the snapshot).
    private var allDrained: Bool
    private(set) var targetsVersion: Int
    /// The earliest end of a recorded ejection (`UInt64.max` when none), so that record
    /// calls look for ended ejections only when one may have ended.
    private var nextReadmission: UInt64 = .max
    private(set) var snapshot: UpstreamMembersSnapshot

    init(health: UpstreamHealthConfig, targets: [BalancerTarget], now: UInt64) {
        config = health
        passiveRules = health.passive.map(PassiveEjectionRules.init)
        (members, indexByAddress) = Self.members(for: Self.distinct(targets), carryingOver: [], now: now)
        allDrained = !members.contains { $0.target.weight > 0 }
        // Starts at 1 so that 0 can stand for "nothing built yet" in the caller.
        targetsVersion = 1
        snapshot = UpstreamMembersSnapshot(targetsVersion: targetsVersion, members: members, panicThreshold: health.panicThreshold)
    }

    /// New targets; those whose address was already present keep their health (even when
    /// their weight changed), new ones start healthy. When an address is listed twice the
    /// first entry wins. The version changes only when the list does.
    mutating func replaceTargets(_ targets: [BalancerTarget], now: UInt64) {
        let targets = Self.distinct(targets)
        guard targets != members.map(\.target) else { return }
        (members, indexByAddress) = Self.members(for: targets, carryingOver: members, now: now)
        allDrained = !members.contains { $0.target.weight > 0 }
        targetsVersion += 1
        nextReadmission = members.lazy.compactMap(\.ejectedUntil).min() ?? .max
        rebuildSnapshot()
    }

    /// A new `health:`. Streaks are compared with the new thresholds from the next
    /// probe or try on; ejections stay until they end (even with passive checking now
    /// off); turning active checking off forgets its verdicts (`markedHealthy` for each
    /// target it had marked unhealthy), turning passive checking off its failure streaks.
    mutating func updateHealthConfig(_ health: UpstreamHealthConfig, now: UInt64) -> [HealthEvent] {
        var events: [HealthEvent] = []
        readmitExpired(now: now, events: &events)
        config = health
        passiveRules = health.passive.map(PassiveEjectionRules.init)
        for index in members.indices {
            if health.active == nil && members[index].clearProbeState() {
                events.append(.markedHealthy(address: members[index].target.address))
            }
            if health.passive == nil {
                members[index].consecutiveFailures = 0
            }
        }
        rebuildSnapshot()
        return events
    }

    mutating func recordProbe(address: String, passed: Bool, now: UInt64) -> [HealthEvent] {
        guard let active = config.active else { return [] }
        var events: [HealthEvent] = []
        readmitExpired(now: now, events: &events)
        guard let index = indexByAddress[address] else { return events }
        let eventsBefore = events.count
        members[index].recordProbe(passed: passed, rules: active, now: now, events: &events)
        if events.count > eventsBefore { rebuildSnapshot() }
        return events
    }

    mutating func recordTraffic(address: String, outcome: TrafficOutcome, now: UInt64) -> [HealthEvent] {
        guard let rules = passiveRules else { return [] }
        var events: [HealthEvent] = []
        readmitExpired(now: now, events: &events)
        guard let index = indexByAddress[address], !members[index].isEjected(at: now) else { return events }
        guard rules.isFailure(outcome) else {
            members[index].consecutiveFailures = 0
            return events
        }
        members[index].consecutiveFailures += 1
        if members[index].consecutiveFailures >= rules.failures {
            ejectIfAllowed(index, rules: rules, now: now, events: &events)
        }
        return events
    }

    func report(now: UInt64) -> [TargetHealthReport] {
        members.map { member in
            TargetHealthReport(
                address: member.target.address, weight: member.target.weight, healthy: member.isHealthy(at: now),
                probeHealthy: member.probeHealthy, ejectedUntil: member.isEjected(at: now) ? member.ejectedUntil : nil,
                ejections: passiveRules.map { member.decayedEjections(at: now, rules: $0) } ?? member.ejections,
                consecutiveFailures: member.consecutiveFailures)
        }
    }

    private mutating func ejectIfAllowed(_ index: Int, rules: PassiveEjectionRules, now: UInt64, events: inout [HealthEvent]) {
        if Self.countsInPercentages(members[index], allDrained: allDrained) {
            var counted = 0
            var ejected = 0
            for member in members where Self.countsInPercentages(member, allDrained: allDrained) {
                counted += 1
                if member.isEjected(at: now) { ejected += 1 }
            }
            guard ejected == 0 || (ejected + 1) * 100 <= rules.maxEjectionPercent * counted else { return }
        }
        let ejections = members[index].decayedEjections(at: now, rules: rules) + 1
        let (end, overflow) = now.addingReportingOverflow(rules.ejectionLength(ejections: ejections))
        let until = overflow ? UInt64.max : end
        members[index].eject(until: until, ejections: ejections)
        nextReadmission = min(nextReadmission, until)
        events.append(.ejected(address: members[index].target.address, until: until, ejections: ejections))
        rebuildSnapshot()
    }

    /// Reports the ejections that ended by `now`. The snapshot is not rebuilt: it
    /// compares the same ends with `now` and already treats these targets as back.
    private mutating func readmitExpired(now: UInt64, events: inout [HealthEvent]) {
        guard now >= nextReadmission else { return }
        var next = UInt64.max
        for index in members.indices {
            members[index].readmitIfExpired(now: now, events: &events)
            if let until = members[index].ejectedUntil { next = min(next, until) }
        }
        nextReadmission = next
    }

    private mutating func rebuildSnapshot() {
        snapshot = UpstreamMembersSnapshot(targetsVersion: targetsVersion, members: members, panicThreshold: config.panicThreshold)
    }

    private static func countsInPercentages(_ member: TargetHealth, allDrained: Bool) -> Bool {
        UpstreamMembersSnapshot.countsInPercentages(weight: member.target.weight, allDrained: allDrained)
    }

    /// `targets` without repeated addresses, the first entry of each address kept.
    private static func distinct(_ targets: [BalancerTarget]) -> [BalancerTarget] {
        var seen = Set<String>(minimumCapacity: targets.count)
        return targets.filter { seen.insert($0.address).inserted }
    }

    /// Members for `targets`, carrying over the health of addresses in `previous`.
    private static func members(
        for targets: [BalancerTarget], carryingOver previous: [TargetHealth], now: UInt64
    ) -> ([TargetHealth], [String: Int]) {
        var previousByAddress: [String: TargetHealth] = [:]
        for member in previous { previousByAddress[member.target.address] = member }
        var members: [TargetHealth] = []
        members.reserveCapacity(targets.count)
        var indexByAddress: [String: Int] = [:]
        for target in targets {
            var member = previousByAddress[target.address] ?? TargetHealth(target: target, now: now)
            member.target = target
            indexByAddress[target.address] = members.count
            members.append(member)
        }
        return (members, indexByAddress)
    }
}

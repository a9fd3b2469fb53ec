/// An immutable view of an upstream's targets and their health, taken once per request
/// (`UpstreamMembers.snapshot`) and asked which targets may be used.
///
/// Time passes while a snapshot is in use, and ejections end with time, so the answers
/// take `now`. To keep `isUsable` O(1) and allocation-free, the snapshot precomputes the
/// number of healthy targets without any ejection ending, and the sorted ends of the
/// ejections; while `now` is before the first end (or when the healthy count is already
/// enough to stay out of panic, as it can only grow) no counting happens; past it, a
/// binary search over the ends gives the count.
///
/// Percentages (panic) count only targets with a positive weight: a drained target
/// (weight 0) adds no capacity, so it neither keeps the upstream out of panic nor
/// pushes it in. When every target is drained they all count, as the balancer then
/// treats them as equal.
public final class UpstreamMembersSnapshot: Sendable {
    /// Increases whenever the target list (addresses, weights or order) changes; the
    /// proxy rebuilds its balancers when it sees a new version.
    public let targetsVersion: Int
    public let targets: [BalancerTarget]
    private let statuses: [TargetStatus]
    /// Targets that count in percentages, are probe-healthy and are not ejected.
    private let healthyWithoutReadmissions: Int
    /// Ejection ends of targets that count and are probe-healthy, ascending: each one
    /// passed adds one healthy target.
    private let readmissions: [UInt64]
    /// Fewer healthy targets than this means panic; 0 when panic is off.
    private let panicBelow: Int

    private struct TargetStatus: Sendable {
        let probeHealthy: Bool
        /// 0 when not ejected.
        let ejectedUntil: UInt64
    }

    init(targetsVersion: Int, members: [TargetHealth], panicThreshold: Int) {
        self.targetsVersion = targetsVersion
        targets = members.map(\.target)
        statuses = members.map { TargetStatus(probeHealthy: $0.probeHealthy, ejectedUntil: $0.ejectedUntil ?? 0) }
        let allDrained = !members.contains { $0.target.weight > 0 }
        var counted = 0
        var healthy = 0
        var readmissions: [UInt64] = []
        for member in members where Self.countsInPercentages(weight: member.target.weight, allDrained: allDrained) {
            counted += 1
            guard member.probeHealthy else { continue }
            if let until = member.ejectedUntil {
                readmissions.append(until)
            } else {
                healthy += 1
            }
        }
        healthyWithoutReadmissions = healthy
        self.readmissions = readmissions.sorted()
        // healthy × 100 < P × counted  ⇔  healthy < ⌈P × counted / 100⌉
        panicBelow = panicThreshold > 0 ? (min(panicThreshold, 100) * counted + 99) / 100 : 0
    }

    /// Whether a request may be sent to `targets[index]` at `now`: the target is
    /// healthy, or the upstream is in panic and every target is used.
    public func isUsable(_ index: Int, now: UInt64) -> Bool {
        isHealthy(index, now: now) || inPanic(now: now)
    }

    /// True when panic is on (`panic_threshold` > 0) and fewer than that percentage of
    /// the targets are healthy: then every target is used, as in Envoy, since sending
    /// the whole load to the few healthy ones would likely bring them down too.
    public func inPanic(now: UInt64) -> Bool {
        guard healthyWithoutReadmissions < panicBelow else { return false }
        return healthyCount(now: now) < panicBelow
    }

    /// Probe-healthy and not ejected at `now`, ignoring panic.
    public func isHealthy(_ index: Int, now: UInt64) -> Bool {
        let status = statuses[index]
        return status.probeHealthy && status.ejectedUntil <= now
    }

    /// Healthy targets among those that count in percentages (positive weight).
    public func healthyCount(now: UInt64) -> Int {
        guard let first = readmissions.first, first <= now else { return healthyWithoutReadmissions }
        var low = 0
        var high = readmissions.count
        while low < high {
            let middle = (low + high) / 2
            if readmissions[middle] <= now { low = middle + 1 } else { high = middle }
        }
        return healthyWithoutReadmissions + low
    }

    /// Whether a target counts in percentages (panic, `max_ejection_percent`).
    static func countsInPercentages(weight: Int, allDrained: Bool) -> Bool {
        allDrained || weight > 0
    }
}

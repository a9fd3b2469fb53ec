import MoongateCore
import Testing

@Suite("Upstream target changes")
struct UpstreamTargetChangeTests {
    private let second: UInt64 = 1_000_000_000
    private let a = BalancerTarget(address: "10.0.0.1:80")
    private let b = BalancerTarget(address: "10.0.0.2:80")
    private let c = BalancerTarget(address: "10.0.0.3:80")

    private func members(_ targets: [BalancerTarget]) -> UpstreamMembers {
        let health = UpstreamHealthConfig(
            active: ActiveHealthCheckConfig(unhealthyAfter: 1),
            passive: PassiveHealthCheckConfig(failures: 1, maxEjectionPercent: 100))
        return UpstreamMembers(upstream: "orders", health: health, targets: targets, now: 0)
    }

    @Test("the same list again changes neither the version nor the snapshot")
    func unchangedList() {
        let members = members([a, b])
        let before = members.snapshot
        members.replaceTargets([a, b], now: 1)
        #expect(members.snapshot === before)
        #expect(members.snapshot.targetsVersion == before.targetsVersion)
    }

    @Test("a changed weight bumps the version and keeps the target's health")
    func changedWeight() {
        let members = members([a, b])
        let version = members.snapshot.targetsVersion
        _ = members.recordProbe(address: a.address, passed: false, now: 1)
        _ = members.recordTraffic(address: b.address, outcome: .reset, now: 1)
        members.replaceTargets([BalancerTarget(address: a.address, weight: 50), b], now: 2)
        let snapshot = members.snapshot
        #expect(snapshot.targetsVersion == version + 1)
        #expect(snapshot.targets.map(\.weight) == [50, 100])
        #expect(!snapshot.isHealthy(0, now: 2) && !snapshot.isHealthy(1, now: 2))
        #expect(members.report(now: 2)[1].ejectedUntil == 1 + 30 * second)
    }

    @Test("added addresses start healthy; removed ones are forgotten; kept ones keep their state at their new index")
    func addedAndRemoved() {
        let members = members([a, b])
        _ = members.recordProbe(address: b.address, passed: false, now: 1)
        members.replaceTargets([c, b], now: 2)
        let snapshot = members.snapshot
        #expect(snapshot.targets == [c, b])
        #expect(snapshot.isHealthy(0, now: 2))
        #expect(!snapshot.isHealthy(1, now: 2))
        members.replaceTargets([a, b, c], now: 3)
        #expect(members.report(now: 3).map(\.healthy) == [true, false, true])
        #expect(members.snapshot.targetsVersion == snapshot.targetsVersion + 1)
    }

    @Test("a new order is a new list")
    func reordered() {
        let members = members([a, b])
        let version = members.snapshot.targetsVersion
        members.replaceTargets([b, a], now: 1)
        #expect(members.snapshot.targetsVersion == version + 1)
        #expect(members.snapshot.targets == [b, a])
    }

    @Test("an address listed twice keeps its first entry")
    func duplicates() {
        let members = members([a])
        members.replaceTargets([b, BalancerTarget(address: a.address, weight: 7), a], now: 1)
        #expect(members.snapshot.targets == [b, BalancerTarget(address: a.address, weight: 7)])
        #expect(members.report(now: 1).count == 2)
    }

    @Test("probes and tries for a removed address are ignored")
    func removedAddress() {
        let members = members([a, b])
        members.replaceTargets([b], now: 1)
        #expect(members.recordProbe(address: a.address, passed: false, now: 2) == [])
        #expect(members.recordTraffic(address: a.address, outcome: .reset, now: 2) == [])
        #expect(members.snapshot.isHealthy(0, now: 2))
    }

    @Test("turning passive checking off keeps ejections and clears failure streaks")
    func passiveTurnedOff() {
        let passive = PassiveHealthCheckConfig(failures: 2, maxEjectionPercent: 100)
        let members = UpstreamMembers(
            upstream: "orders", health: UpstreamHealthConfig(passive: passive), targets: [a, b], now: 0)
        _ = members.recordTraffic(address: a.address, outcome: .reset, now: 0)
        _ = members.recordTraffic(address: a.address, outcome: .reset, now: 0)
        _ = members.recordTraffic(address: b.address, outcome: .reset, now: 0)
        #expect(members.updateHealthConfig(UpstreamHealthConfig(), now: 1) == [])
        let report = members.report(now: 1)
        #expect(report[0].ejectedUntil == 30 * second)
        #expect(report[1].consecutiveFailures == 0)
        #expect(members.snapshot.isUsable(0, now: 30 * second))
    }

    @Test("a reload reports ejections that ended before it")
    func reloadReportsReadmissions() {
        let members = members([a, b])
        _ = members.recordTraffic(address: a.address, outcome: .reset, now: 0)
        #expect(members.updateHealthConfig(members.healthConfig, now: 31 * second) == [.readmitted(address: a.address)])
    }

    @Test("an older snapshot keeps its view")
    func snapshotsAreImmutable() {
        let members = members([a, b])
        let before = members.snapshot
        _ = members.recordProbe(address: a.address, passed: false, now: 1)
        members.replaceTargets([a, b, c], now: 2)
        #expect(before.targets == [a, b])
        #expect(before.isHealthy(0, now: 2))
        #expect(members.snapshot !== before)
    }
}

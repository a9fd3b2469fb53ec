import MoongateCore
import Testing

@Suite("Upstream panic mode")
struct UpstreamPanicModeTests {
    private let second: UInt64 = 1_000_000_000

    private func address(_ index: Int) -> String { "10.0.0.\(index + 1):80" }

    /// Active checking marks a target unhealthy after one failed probe; passive checking
    /// ejects after one failure for 30 s, with no ejection cap.
    private func members(weights: [Int], panicThreshold: Int) -> UpstreamMembers {
        let health = UpstreamHealthConfig(
            active: ActiveHealthCheckConfig(healthyAfter: 1, unhealthyAfter: 1),
            passive: PassiveHealthCheckConfig(failures: 1, maxEjectionPercent: 100), panicThreshold: panicThreshold)
        return UpstreamMembers(
            upstream: "orders", health: health,
            targets: weights.enumerated().map { BalancerTarget(address: address($0.offset), weight: $0.element) }, now: 0)
    }

    private func markUnhealthy(_ members: UpstreamMembers, _ indexes: [Int]) {
        for index in indexes { _ = members.recordProbe(address: address(index), passed: false, now: 0) }
    }

    private func usable(_ snapshot: UpstreamMembersSnapshot, now: UInt64) -> [Int] {
        snapshot.targets.indices.filter { snapshot.isUsable($0, now: now) }
    }

    @Test("panic_threshold 0: with every target unhealthy nothing is usable")
    func panicOff() {
        let members = members(weights: [100, 100, 100], panicThreshold: 0)
        markUnhealthy(members, [0, 1, 2])
        let snapshot = members.snapshot
        #expect(!snapshot.inPanic(now: 0))
        #expect(usable(snapshot, now: 0) == [])
    }

    @Test("below the threshold every target is used; at it only the healthy ones")
    func threshold() {
        let members = members(weights: [100, 100, 100, 100], panicThreshold: 50)
        markUnhealthy(members, [0, 1])
        #expect(!members.snapshot.inPanic(now: 0), "2 of 4 healthy is 50%, not below it")
        #expect(usable(members.snapshot, now: 0) == [2, 3])
        markUnhealthy(members, [2])
        #expect(members.snapshot.inPanic(now: 0))
        #expect(usable(members.snapshot, now: 0) == [0, 1, 2, 3])
        #expect(!members.snapshot.isHealthy(0, now: 0), "isHealthy ignores panic")
        _ = members.recordProbe(address: address(2), passed: true, now: 1)
        #expect(!members.snapshot.inPanic(now: 1))
    }

    @Test(
        "panic starts below the percentage, rounded the way Envoy compares",
        arguments: [
            (targets: 3, healthy: 1, threshold: 50, panic: true), (targets: 3, healthy: 2, threshold: 50, panic: false),
            (targets: 3, healthy: 2, threshold: 100, panic: true), (targets: 3, healthy: 3, threshold: 100, panic: false),
            (targets: 10, healthy: 1, threshold: 10, panic: false), (targets: 10, healthy: 0, threshold: 10, panic: true),
            (targets: 10, healthy: 1, threshold: 11, panic: true), (targets: 1, healthy: 0, threshold: 1, panic: true),
        ])
    func rounding(targets: Int, healthy: Int, threshold: Int, panic: Bool) {
        let members = members(weights: Array(repeating: 100, count: targets), panicThreshold: threshold)
        markUnhealthy(members, Array(healthy..<targets))
        #expect(members.snapshot.inPanic(now: 0) == panic)
    }

    @Test("one snapshot leaves panic as ejections end with time")
    func panicEndsWithTime() {
        let members = members(weights: [100, 100], panicThreshold: 50)
        _ = members.recordTraffic(address: address(0), outcome: .reset, now: 0)
        #expect(!members.snapshot.inPanic(now: 0))
        #expect(usable(members.snapshot, now: 0) == [1])
        _ = members.recordTraffic(address: address(1), outcome: .reset, now: 10 * second)
        let snapshot = members.snapshot
        #expect(snapshot.inPanic(now: 10 * second))
        #expect(usable(snapshot, now: 10 * second) == [0, 1])
        #expect(snapshot.healthyCount(now: 29 * second) == 0)
        #expect(!snapshot.inPanic(now: 30 * second), "target 0 is back at 30 s")
        #expect(usable(snapshot, now: 30 * second) == [0])
        #expect(usable(snapshot, now: 40 * second) == [0, 1])
        #expect(snapshot.healthyCount(now: 40 * second) == 2)
    }

    @Test("drained targets do not count toward the threshold")
    func drainedTargets() {
        let members = members(weights: [100, 0], panicThreshold: 50)
        markUnhealthy(members, [1])
        #expect(!members.snapshot.inPanic(now: 0), "the only counted target is healthy")
        #expect(usable(members.snapshot, now: 0) == [0])
        markUnhealthy(members, [0])
        #expect(members.snapshot.inPanic(now: 0), "0 of 1 counted targets healthy")
        #expect(usable(members.snapshot, now: 0) == [0, 1])
    }

    @Test("when every target is drained they all count")
    func allDrained() {
        let members = members(weights: [0, 0], panicThreshold: 50)
        markUnhealthy(members, [0])
        #expect(!members.snapshot.inPanic(now: 0))
        markUnhealthy(members, [1])
        #expect(members.snapshot.inPanic(now: 0))
    }

    @Test("a new threshold from a reload applies to the next snapshot")
    func thresholdReload() {
        let members = members(weights: [100, 100], panicThreshold: 0)
        markUnhealthy(members, [0, 1])
        let before = members.snapshot
        var config = members.healthConfig
        config.panicThreshold = 50
        members.updateHealthConfig(config, now: 1)
        #expect(!before.inPanic(now: 1))
        #expect(members.snapshot.inPanic(now: 1))
        #expect(members.snapshot.targetsVersion == before.targetsVersion)
    }
}

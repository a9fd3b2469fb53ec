import MoongateCore
import Testing

@Suite("Upstream active health checks")
struct UpstreamActiveHealthTests {
    private let second: UInt64 = 1_000_000_000
    private let a = "10.0.0.1:80"
    private let b = "10.0.0.2:80"

    private func members(healthyAfter: Int = 2, unhealthyAfter: Int = 3, panicThreshold: Int = 0) -> UpstreamMembers {
        let active = ActiveHealthCheckConfig(healthyAfter: healthyAfter, unhealthyAfter: unhealthyAfter)
        return UpstreamMembers(
            upstream: "orders", health: UpstreamHealthConfig(active: active, panicThreshold: panicThreshold),
            targets: [BalancerTarget(address: a), BalancerTarget(address: b)], now: 0)
    }

    @Test("targets start healthy")
    func startHealthy() {
        let members = members()
        let snapshot = members.snapshot
        #expect(snapshot.isHealthy(0, now: 0) && snapshot.isHealthy(1, now: 0))
        #expect(members.report(now: 0).allSatisfy { $0.healthy && $0.probeHealthy })
    }

    @Test("unhealthy_after failures in a row mark a target unhealthy, not one fewer")
    func markedUnhealthy() {
        let members = members(unhealthyAfter: 3)
        #expect(members.recordProbe(address: a, passed: false, now: 1 * second) == [])
        #expect(members.recordProbe(address: a, passed: false, now: 2 * second) == [])
        #expect(members.snapshot.isUsable(0, now: 2 * second))
        #expect(members.recordProbe(address: a, passed: false, now: 3 * second) == [.markedUnhealthy(address: a)])
        let snapshot = members.snapshot
        #expect(!snapshot.isHealthy(0, now: 3 * second))
        #expect(!snapshot.isUsable(0, now: 3 * second))
        #expect(snapshot.isUsable(1, now: 3 * second))
        #expect(members.report(now: 3 * second)[0].probeHealthy == false)
        #expect(members.recordProbe(address: a, passed: false, now: 4 * second) == [], "already unhealthy: no second event")
    }

    @Test("a passing probe breaks the failure streak")
    func passBreaksFailureStreak() {
        let members = members(unhealthyAfter: 2)
        _ = members.recordProbe(address: a, passed: false, now: 1)
        _ = members.recordProbe(address: a, passed: true, now: 2)
        #expect(members.recordProbe(address: a, passed: false, now: 3) == [])
        #expect(members.recordProbe(address: a, passed: false, now: 4) == [.markedUnhealthy(address: a)])
    }

    @Test("healthy_after passes in a row bring an unhealthy target back; a failure restarts the count")
    func markedHealthy() {
        let members = members(healthyAfter: 2, unhealthyAfter: 1)
        #expect(members.recordProbe(address: a, passed: false, now: 1) == [.markedUnhealthy(address: a)])
        #expect(members.recordProbe(address: a, passed: true, now: 2) == [])
        #expect(members.recordProbe(address: a, passed: false, now: 3) == [])
        #expect(members.recordProbe(address: a, passed: true, now: 4) == [])
        #expect(!members.snapshot.isHealthy(0, now: 4))
        #expect(members.recordProbe(address: a, passed: true, now: 5) == [.markedHealthy(address: a)])
        #expect(members.snapshot.isHealthy(0, now: 5))
        #expect(members.recordProbe(address: a, passed: true, now: 6) == [], "already healthy: no second event")
    }

    @Test("probes for unknown addresses, or with active checking off, change nothing")
    func ignoredProbes() {
        let members = members(unhealthyAfter: 1)
        #expect(members.recordProbe(address: "10.9.9.9:80", passed: false, now: 1) == [])
        #expect(members.report(now: 1).allSatisfy { $0.probeHealthy })

        let passiveOnly = UpstreamMembers(
            upstream: "orders", health: UpstreamHealthConfig(passive: PassiveHealthCheckConfig()),
            targets: [BalancerTarget(address: a)], now: 0)
        #expect(passiveOnly.recordProbe(address: a, passed: false, now: 1) == [])
        #expect(passiveOnly.snapshot.isHealthy(0, now: 1))
    }

    @Test("with every target unhealthy and panic off, none is usable")
    func allUnhealthy() {
        let members = members(unhealthyAfter: 1)
        _ = members.recordProbe(address: a, passed: false, now: 1)
        _ = members.recordProbe(address: b, passed: false, now: 1)
        let snapshot = members.snapshot
        #expect(!snapshot.isUsable(0, now: 1) && !snapshot.isUsable(1, now: 1))
        #expect(!snapshot.inPanic(now: 1))
    }

    @Test("turning active checking off clears its unhealthy marks and reports them healthy")
    func activeTurnedOff() {
        let members = members(unhealthyAfter: 1)
        _ = members.recordProbe(address: a, passed: false, now: 1)
        let events = members.updateHealthConfig(UpstreamHealthConfig(), now: 2)
        #expect(events == [.markedHealthy(address: a)])
        #expect(members.snapshot.isHealthy(0, now: 2))
        #expect(members.healthConfig == UpstreamHealthConfig())
    }

    @Test("new thresholds apply to the streaks already counted")
    func thresholdsChanged() {
        let members = members(unhealthyAfter: 5)
        _ = members.recordProbe(address: a, passed: false, now: 1)
        _ = members.recordProbe(address: a, passed: false, now: 2)
        let stricter = UpstreamHealthConfig(active: ActiveHealthCheckConfig(unhealthyAfter: 3))
        #expect(members.updateHealthConfig(stricter, now: 3) == [])
        #expect(members.recordProbe(address: a, passed: false, now: 4) == [.markedUnhealthy(address: a)])
    }
}

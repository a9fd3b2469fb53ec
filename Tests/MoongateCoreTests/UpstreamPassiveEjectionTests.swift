import MoongateCore
import Testing

@Suite("Upstream passive health checks and outlier ejection")
struct UpstreamPassiveEjectionTests {
    private let second: UInt64 = 1_000_000_000

    private func address(_ index: Int) -> String { "10.0.0.\(index + 1):80" }

    private func members(
        count: Int = 4, weights: [Int]? = nil, failures: Int = 3, ejection: Duration = .seconds(30), maxEjectionPercent: Int = 50,
        active: ActiveHealthCheckConfig? = nil
    ) -> UpstreamMembers {
        let weights = weights ?? Array(repeating: 100, count: count)
        let passive = PassiveHealthCheckConfig(failures: failures, ejection: ejection, maxEjectionPercent: maxEjectionPercent)
        return UpstreamMembers(
            upstream: "orders", health: UpstreamHealthConfig(active: active, passive: passive),
            targets: weights.enumerated().map { BalancerTarget(address: address($0.offset), weight: $0.element) }, now: 0)
    }

    /// Records `count` failed tries against target `index` and returns the last try's events.
    private func fail(_ members: UpstreamMembers, _ index: Int, times count: Int = 1, at now: UInt64) -> [HealthEvent] {
        var events: [HealthEvent] = []
        for _ in 0..<count { events = members.recordTraffic(address: address(index), outcome: .connectFailure, now: now) }
        return events
    }

    @Test("failures in a row eject for the base ejection; the target is back when the time passes")
    func ejectAndReadmitByTime() {
        let members = members(failures: 3)
        #expect(fail(members, 0, times: 2, at: 1 * second) == [])
        #expect(members.snapshot.isUsable(0, now: 1 * second))
        #expect(fail(members, 0, at: 2 * second) == [.ejected(address: address(0), until: 32 * second, ejections: 1)])
        let snapshot = members.snapshot
        #expect(!snapshot.isUsable(0, now: 2 * second))
        #expect(!snapshot.isUsable(0, now: 32 * second - 1))
        #expect(snapshot.isUsable(0, now: 32 * second), "the same snapshot sees the ejection end: no timer needed")
        let report = members.report(now: 10 * second)[0]
        #expect(report.ejectedUntil == 32 * second && !report.healthy && report.ejections == 1 && report.consecutiveFailures == 0)
        #expect(members.report(now: 32 * second)[0].healthy)
        #expect(members.report(now: 32 * second)[0].ejectedUntil == nil)
    }

    @Test("an ended ejection is reported by the next recorded try, once")
    func readmissionReportedLazily() {
        let members = members(failures: 1)
        _ = fail(members, 0, at: 0)
        let success = TrafficOutcome.response(status: 200)
        #expect(members.recordTraffic(address: address(1), outcome: success, now: 29 * second) == [])
        #expect(members.recordTraffic(address: address(1), outcome: success, now: 40 * second) == [.readmitted(address: address(0))])
        #expect(members.recordTraffic(address: address(1), outcome: success, now: 41 * second) == [])
    }

    @Test("a success ends the failure streak")
    func successResetsStreak() {
        let members = members(failures: 3)
        _ = fail(members, 0, times: 2, at: 1)
        #expect(members.recordTraffic(address: address(0), outcome: .response(status: 404), now: 2) == [])
        #expect(members.report(now: 2)[0].consecutiveFailures == 0)
        #expect(fail(members, 0, times: 2, at: 3) == [])
        #expect(members.snapshot.isHealthy(0, now: 3))
    }

    @Test(
        "connect failures, timeouts, resets and the listed statuses are failures; other statuses are not",
        arguments: [
            (TrafficOutcome.connectFailure, true), (.timeout, true), (.reset, true), (.response(status: 503), true),
            (.response(status: 502), true), (.response(status: 500), false), (.response(status: 404), false),
            (.response(status: 200), false),
        ])
    func failureKinds(outcome: TrafficOutcome, isFailure: Bool) {
        let passive = PassiveHealthCheckConfig(failures: 1, statuses: [502, 503])
        let members = UpstreamMembers(
            upstream: "orders", health: UpstreamHealthConfig(passive: passive), targets: [BalancerTarget(address: address(0))], now: 0)
        let events = members.recordTraffic(address: address(0), outcome: outcome, now: 1)
        #expect(events.isEmpty != isFailure)
        #expect(members.snapshot.isHealthy(0, now: 1) != isFailure)
    }

    @Test("tries that end while the target is ejected are not counted")
    func triesWhileEjected() {
        let members = members(failures: 2)
        _ = fail(members, 0, times: 2, at: 0)
        #expect(fail(members, 0, times: 5, at: 1 * second) == [])
        #expect(members.report(now: 1 * second)[0].consecutiveFailures == 0)
        #expect(members.report(now: 1 * second)[0].ejections == 1)
    }

    @Test("traffic for unknown addresses, or with passive checking off, changes nothing")
    func ignoredTraffic() {
        let members = members(failures: 1)
        #expect(members.recordTraffic(address: "10.9.9.9:80", outcome: .reset, now: 1) == [])
        let activeOnly = UpstreamMembers(
            upstream: "orders", health: UpstreamHealthConfig(active: ActiveHealthCheckConfig()),
            targets: [BalancerTarget(address: address(0))], now: 0)
        #expect(activeOnly.recordTraffic(address: address(0), outcome: .reset, now: 1) == [])
        #expect(activeOnly.report(now: 1)[0].consecutiveFailures == 0)
    }

    @Test("the ejection grows with the number of ejections and stops at 300 s")
    func multiplierAndCap() {
        let members = members(failures: 1, ejection: .seconds(100), maxEjectionPercent: 100)
        // Each failure comes the moment the previous ejection ends, so nothing decays.
        #expect(fail(members, 0, at: 0) == [.ejected(address: address(0), until: 100 * second, ejections: 1)])
        #expect(
            fail(members, 0, at: 100 * second)
                == [.readmitted(address: address(0)), .ejected(address: address(0), until: 300 * second, ejections: 2)])
        #expect(fail(members, 0, at: 300 * second).last == .ejected(address: address(0), until: 600 * second, ejections: 3))
        #expect(fail(members, 0, at: 600 * second).last == .ejected(address: address(0), until: 900 * second, ejections: 4))
        #expect(members.report(now: 600 * second)[0].ejections == 4)
    }

    @Test("a base ejection longer than 300 s is honoured but does not grow")
    func longBaseEjection() {
        let members = members(failures: 1, ejection: .seconds(400), maxEjectionPercent: 100)
        #expect(fail(members, 0, at: 0) == [.ejected(address: address(0), until: 400 * second, ejections: 1)])
        #expect(fail(members, 0, at: 400 * second).last == .ejected(address: address(0), until: 800 * second, ejections: 2))
    }

    @Test("each full ejection period spent in takes one off the multiplier")
    func multiplierDecay() {
        let members = members(failures: 1, ejection: .seconds(10), maxEjectionPercent: 100)
        _ = fail(members, 0, at: 0)  // 1: until 10 s
        #expect(fail(members, 0, at: 15 * second).last == .ejected(address: address(0), until: 35 * second, ejections: 2))
        // Back at 35 s: one full period by 45 s, two by 55 s.
        #expect(members.report(now: 44 * second)[0].ejections == 2)
        #expect(members.report(now: 45 * second)[0].ejections == 1)
        #expect(members.report(now: 55 * second)[0].ejections == 0)
        #expect(fail(members, 0, at: 54 * second).last == .ejected(address: address(0), until: 74 * second, ejections: 2))
        #expect(fail(members, 0, at: 1000 * second).last == .ejected(address: address(0), until: 1010 * second, ejections: 1))
    }

    @Test("max_ejection_percent caps simultaneous ejections; a refused target keeps its failure streak")
    func maxEjectionPercent() {
        let members = members(count: 4, failures: 2, maxEjectionPercent: 50)
        #expect(fail(members, 0, times: 2, at: 0).count == 1)
        #expect(fail(members, 1, times: 2, at: 10 * second).count == 1)
        #expect(fail(members, 2, times: 2, at: 20 * second) == [], "a third of four would exceed 50%")
        #expect(members.snapshot.isHealthy(2, now: 20 * second))
        #expect(members.report(now: 20 * second)[2].consecutiveFailures == 2)
        #expect(fail(members, 2, at: 29 * second) == [])
        #expect(members.report(now: 29 * second)[2].consecutiveFailures == 3)
        // Target 0's ejection ends at 30 s: the next failure ejects target 2 at once.
        #expect(
            fail(members, 2, at: 30 * second)
                == [.readmitted(address: address(0)), .ejected(address: address(2), until: 60 * second, ejections: 1)])
    }

    @Test(
        "one ejection is always allowed when no target is ejected",
        arguments: [(targets: 1, percent: 0), (targets: 2, percent: 0), (targets: 2, percent: 49), (targets: 10, percent: 5)])
    func atLeastOne(targets: Int, percent: Int) {
        let members = members(count: targets, failures: 1, maxEjectionPercent: percent)
        #expect(fail(members, 0, at: 0).count == 1)
        if targets > 1 {
            #expect(fail(members, 1, at: 0) == [], "a second ejection is over the percentage")
        }
    }

    @Test("at 50%, one of two targets may be ejected, two of four, one of three")
    func percentages() {
        for (count, allowed) in [(2, 1), (4, 2), (3, 1), (5, 2)] {
            let members = members(count: count, failures: 1, maxEjectionPercent: 50)
            let ejected = (0..<count).filter { !fail(members, $0, at: 0).isEmpty }.count
            #expect(ejected == allowed, "\(count) targets")
        }
    }

    @Test("at 100%, every target may be ejected")
    func everyTarget() {
        let members = members(count: 3, failures: 1, maxEjectionPercent: 100)
        #expect((0..<3).allSatisfy { !fail(members, $0, at: 0).isEmpty })
        #expect((0..<3).allSatisfy { !members.snapshot.isUsable($0, now: 1) })
    }

    @Test("a passing active probe readmits an ejected target at once; decay counts from then")
    func probeReadmission() {
        let active = ActiveHealthCheckConfig(healthyAfter: 2, unhealthyAfter: 2)
        let members = members(failures: 1, ejection: .seconds(10), active: active)
        _ = fail(members, 0, at: 0)
        #expect(members.recordProbe(address: address(0), passed: false, now: 2 * second) == [])
        #expect(members.recordProbe(address: address(0), passed: true, now: 3 * second) == [.readmitted(address: address(0))])
        #expect(members.snapshot.isUsable(0, now: 3 * second))
        #expect(members.report(now: 13 * second)[0].ejections == 0)
        #expect(members.recordTraffic(address: address(1), outcome: .response(status: 200), now: 20 * second) == [])
    }

    @Test("drained targets use none of the ejection allowance")
    func drainedTargets() {
        let members = members(weights: [100, 100, 0], failures: 1, maxEjectionPercent: 50)
        #expect(fail(members, 2, at: 0).count == 1, "a drained target may always be ejected")
        #expect(fail(members, 0, at: 0).count == 1, "the drained ejection does not count: no counted target is ejected")
        #expect(fail(members, 1, at: 0) == [], "two of the two counted targets would exceed 50%")
    }
}

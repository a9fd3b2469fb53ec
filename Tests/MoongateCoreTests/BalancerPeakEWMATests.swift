import MoongateCore
import Testing

@Suite("Peak-EWMA balancer")
struct BalancerPeakEWMATests {
    private static let millisecond: UInt64 = 1_000_000
    private static let second: UInt64 = 1_000_000_000

    private func balancer(_ weights: [Int], previous: (any LoadBalancer)? = nil, now: UInt64 = 0) -> PeakEWMA {
        PeakEWMA(targets: balancerTargets(weights), previous: previous, now: now, seed: 5)
    }

    @Test("10 000 requests under load at equal latency split by weight 1:2:3, within 2.5 points")
    func distribution() {
        var simulation = BalancerLoadSimulation()
        let picks = simulation.run(balancer([1, 2, 3]), requests: 10_000, interval: 100_000, latency: { _, _ in 10 * Self.millisecond })
        for (share, expected) in zip(shares(of: picks, targetCount: 3), [1.0 / 6, 2.0 / 6, 3.0 / 6]) {
            #expect(abs(share - expected) < 0.025)
        }
    }

    @Test("a slow target loses its traffic to the fast ones")
    func avoidsSlowTarget() {
        var simulation = BalancerLoadSimulation()
        let picks = simulation.run(balancer([100, 100, 100]), requests: 10_000, interval: Self.millisecond, latency: { target, _ in
            target == 2 ? 100 * Self.millisecond : 10 * Self.millisecond
        })
        let share = shares(of: picks, targetCount: 3)
        #expect(share[2] < 0.05)
        #expect(share[0] > 0.45 && share[1] > 0.45)
    }

    @Test("a sample above the estimate replaces it; one below is blended by elapsed time")
    func peakAndDecay() {
        let balancer = balancer([100])
        balancer.requestFinished(target: 0, latencyNanos: 10 * Self.millisecond, now: 0)
        #expect(balancer.latencyMilliseconds(target: 0, now: 0) == 10)
        balancer.requestFinished(target: 0, latencyNanos: 50 * Self.millisecond, now: Self.second)
        #expect(balancer.latencyMilliseconds(target: 0, now: Self.second) == 50)
        // 10 s (one decay time) later: 50/e decayed, plus 10 × (1 - 1/e) from the sample.
        balancer.requestFinished(target: 0, latencyNanos: 10 * Self.millisecond, now: 11 * Self.second)
        let inverseE = 1 / 2.718_281_828_459_045
        #expect(abs(balancer.latencyMilliseconds(target: 0, now: 11 * Self.second) - (50 * inverseE + 10 * (1 - inverseE))) < 1e-9)
    }

    @Test("a slow target left idle is tried again once its estimate has decayed")
    func idleSlowTargetRecovers() {
        let balancer = balancer([100, 100])
        balancer.requestStarted(target: 1, now: 0)
        balancer.requestFinished(target: 1, latencyNanos: 100 * Self.millisecond, now: 0)
        var simulation = BalancerLoadSimulation()
        // One request at a time, every 10 ms, answered in 1 ms by either target now.
        let firstHalf = simulation.run(balancer, requests: 3_000, interval: 10 * Self.millisecond, latency: { _, _ in Self.millisecond })
        #expect(!firstHalf.contains(1))
        // 100 ms decays below 1 ms after 10 s × ln(100) ≈ 46 s.
        let secondHalf = simulation.run(balancer, requests: 3_000, interval: 10 * Self.millisecond, latency: { _, _ in Self.millisecond })
        #expect(shares(of: secondHalf, targetCount: 2)[1] > 0.1)
    }

    @Test("with nothing measured, load and weight decide")
    func unmeasured() {
        let balancer = balancer([100, 100, 100])
        for _ in 0..<3 { balancer.requestStarted(target: 0, now: 0) }
        #expect(!(0..<200).contains { _ in firstChoice(balancer) == 0 })
    }

    @Test("a target added by a rebuild starts from the median estimate, and its first answer replaces it")
    func prior() {
        let old = balancer([100, 100, 100])
        for (target, milliseconds) in [(0, 10), (1, 40), (2, 20)] as [(Int, UInt64)] {
            old.requestFinished(target: target, latencyNanos: milliseconds * Self.millisecond, now: 0)
        }
        let rebuilt = balancer([100, 100, 100, 100], previous: old)
        #expect(rebuilt.latencyMilliseconds(target: 3, now: 0) == 20)
        rebuilt.requestFinished(target: 3, latencyNanos: 2 * Self.millisecond, now: 0)
        #expect(rebuilt.latencyMilliseconds(target: 3, now: 0) == 2)
    }

    @Test("a target added by a rebuild ramps from 10 % to its full weight over 30 s")
    func slowStart() {
        let latency: (Int, UInt64) -> UInt64 = { _, _ in 50 * Self.millisecond }
        var simulation = BalancerLoadSimulation()
        let old = balancer([100, 100, 100])
        _ = simulation.run(old, requests: 2_000, interval: Self.millisecond, latency: latency)
        simulation.finishAll(on: old)

        let rebuilt = balancer([100, 100, 100, 100], previous: old, now: simulation.now)
        // About 50 requests in flight. Fair share: 25 %.
        let firstSeconds = simulation.run(rebuilt, requests: 2_000, interval: Self.millisecond, latency: latency)
        let middle = simulation.run(rebuilt, requests: 13_000, interval: Self.millisecond, latency: latency)
        _ = simulation.run(rebuilt, requests: 15_000, interval: Self.millisecond, latency: latency)
        let afterRamp = simulation.run(rebuilt, requests: 5_000, interval: Self.millisecond, latency: latency)
        let newShare = [firstSeconds, middle, afterRamp].map { shares(of: $0, targetCount: 4)[3] }
        #expect(newShare[0] < 0.08)
        #expect(newShare[0] < newShare[1] && newShare[1] < newShare[2])
        #expect(abs(newShare[2] - 0.25) < 0.03)
    }

    @Test("the targets of the first build take their full share at once")
    func noSlowStartAtFirstBuild() {
        var simulation = BalancerLoadSimulation()
        let picks = simulation.run(balancer([100, 100, 100, 100]), requests: 2_000, interval: Self.millisecond, latency: { _, _ in
            50 * Self.millisecond
        })
        #expect(shares(of: picks, targetCount: 4).allSatisfy { abs($0 - 0.25) < 0.04 })
    }
}

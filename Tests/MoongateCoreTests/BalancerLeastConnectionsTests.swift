import MoongateCore
import Testing

@Suite("Least-connections balancer")
struct BalancerLeastConnectionsTests {
    private func balancer(_ weights: [Int], seed: UInt64 = 1) -> LeastConnections {
        LeastConnections(targets: balancerTargets(weights), previous: nil, now: 0, seed: seed)
    }

    @Test("10 000 requests under load split by weight 1:2:3, within 2.5 points")
    func distribution() {
        var simulation = BalancerLoadSimulation()
        // A request every 0.1 ms answered in 10 ms: about 100 in flight.
        let picks = simulation.run(balancer([1, 2, 3]), requests: 10_000, interval: 100_000, latency: { _, _ in 10_000_000 })
        for (share, expected) in zip(shares(of: picks, targetCount: 3), [1.0 / 6, 2.0 / 6, 3.0 / 6]) {
            #expect(abs(share - expected) < 0.025)
        }
    }

    @Test("a loaded target is not chosen while a less loaded one is drawn beside it")
    func prefersLessLoaded() {
        let balancer = balancer([100, 100, 100])
        for _ in 0..<5 { balancer.requestStarted(target: 0, now: 0) }
        balancer.requestStarted(target: 1, now: 0)
        let picks = (0..<1_000).map { _ in firstChoice(balancer)! }
        #expect(!picks.contains(0))
        // Target 2 (idle) beats target 1 (one in flight) whenever both are drawn.
        #expect(picks.filter { $0 == 2 }.count > picks.filter { $0 == 1 }.count)
    }

    @Test("load counts relative to weight: 3 in flight on weight 300 beats 2 on weight 100")
    func weighted() {
        let balancer = balancer([100, 300])
        for _ in 0..<2 { balancer.requestStarted(target: 0, now: 0) }
        for _ in 0..<3 { balancer.requestStarted(target: 1, now: 0) }
        #expect((0..<100).allSatisfy { _ in firstChoice(balancer) == 1 })
    }

    @Test("between idle targets the heavier wins")
    func idleTieGoesToWeight() {
        let balancer = balancer([100, 200])
        #expect((0..<100).allSatisfy { _ in firstChoice(balancer) == 1 })
    }

    @Test("exact ties are broken at random")
    func exactTies() {
        let balancer = balancer([100, 100, 100, 100])
        let share = shares(of: (0..<10_000).map { _ in firstChoice(balancer)! }, targetCount: 4)
        #expect(share.allSatisfy { abs($0 - 0.25) < 0.02 })
    }

    @Test("fallbacks are the other targets in cyclic order after the choice")
    func fallbacks() {
        let balancer = balancer([100, 100, 0, 100, 100])
        for _ in 0..<50 {
            let order = Array(balancer.selection(hashKey: 0, now: 0))
            let eligible = [0, 1, 3, 4]
            let start = eligible.firstIndex(of: order[0])!
            #expect(order == (0..<4).map { eligible[(start + $0) % 4] })
        }
    }

    @Test("the same seed gives the same picks")
    func seeded() {
        let first = balancer([1, 1, 1, 1, 1], seed: 42)
        let second = balancer([1, 1, 1, 1, 1], seed: 42)
        #expect((0..<100).map { _ in firstChoice(first)! } == (0..<100).map { _ in firstChoice(second)! })
    }
}

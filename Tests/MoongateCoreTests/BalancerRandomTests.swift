import MoongateCore
import Testing

@Suite("Random balancer")
struct BalancerRandomTests {
    private func balancer(_ weights: [Int], seed: UInt64 = 3) -> RandomBalancer {
        RandomBalancer(targets: balancerTargets(weights), previous: nil, now: 0, seed: seed)
    }

    @Test("10 000 picks split by weight, within 2 points", arguments: [[1, 2, 3], [100, 100, 100, 100], [5, 1, 0, 4]])
    func distribution(weights: [Int]) {
        let balancer = balancer(weights)
        let total = Double(weights.reduce(0, +))
        let share = shares(of: (0..<10_000).map { _ in firstChoice(balancer)! }, targetCount: weights.count)
        for (share, weight) in zip(share, weights) {
            #expect(abs(share - Double(weight) / total) < 0.02)
        }
    }

    @Test("fallbacks are the other targets in cyclic order after the pick")
    func fallbacks() {
        let balancer = balancer([1, 0, 1, 1, 1])
        for _ in 0..<50 {
            let order = Array(balancer.selection(hashKey: 0, now: 0))
            let eligible = [0, 2, 3, 4]
            let start = eligible.firstIndex(of: order[0])!
            #expect(order == (0..<4).map { eligible[(start + $0) % 4] })
        }
    }

    @Test("the same seed gives the same picks; another seed others")
    func seeded() {
        let picks = { (seed: UInt64) in
            let balancer = self.balancer([1, 1, 1, 1], seed: seed)
            return (0..<100).map { _ in firstChoice(balancer)! }
        }
        #expect(picks(9) == picks(9))
        #expect(picks(9) != picks(10))
    }
}

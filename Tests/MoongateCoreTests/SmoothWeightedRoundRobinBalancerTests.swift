import MoongateCore
import Testing

@Suite("Smooth weighted round-robin balancer")
struct SmoothWeightedRoundRobinBalancerTests {
    private func targets(_ weights: [Int]) -> [BalancerTarget] {
        weights.enumerated().map { BalancerTarget(address: "10.0.0.\($0.offset + 1):80", weight: $0.element) }
    }

    private func firstChoices(_ balancer: SmoothWeightedRoundRobin, count: Int) -> [Int] {
        (0..<count).map { _ in
            var selection = balancer.selection(hashKey: nil)
            return selection.next()!
        }
    }

    @Test("weights 5/1/1 give nginx's smooth sequence a a b a c a a")
    func nginxSequence() {
        let balancer = SmoothWeightedRoundRobin(targets: targets([5, 1, 1]))
        #expect(firstChoices(balancer, count: 14) == [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0])
    }

    @Test("every cycle of total-weight picks follows the weights exactly", arguments: [[5, 1, 1], [100, 100], [3, 2, 7, 1], [1]])
    func ratios(weights: [Int]) {
        let balancer = SmoothWeightedRoundRobin(targets: targets(weights))
        let total = weights.reduce(0, +)
        let cycles = max(1, 1000 / total)
        let picks = firstChoices(balancer, count: cycles * total)
        for cycle in 0..<cycles {
            let window = picks[(cycle * total)..<((cycle + 1) * total)]
            for (index, weight) in weights.enumerated() {
                #expect(window.filter { $0 == index }.count == weight, "cycle \(cycle), target \(index)")
            }
        }
    }

    @Test("1000 picks over 5/3/2 split 500/300/200")
    func thousandPicks() {
        let picks = firstChoices(SmoothWeightedRoundRobin(targets: targets([5, 3, 2])), count: 1000)
        #expect([0, 1, 2].map { index in picks.filter { $0 == index }.count } == [500, 300, 200])
    }

    @Test("a single target is always chosen and has no fallback")
    func singleTarget() {
        let balancer = SmoothWeightedRoundRobin(targets: targets([100]))
        for _ in 0..<5 {
            #expect(Array(balancer.selection(hashKey: nil)) == [0])
        }
    }

    @Test("fallbacks cover every other target exactly once, after the choice")
    func fallbacks() {
        let balancer = SmoothWeightedRoundRobin(targets: targets([5, 1, 1, 3]))
        for _ in 0..<20 {
            let order = Array(balancer.selection(hashKey: 42))
            #expect(order.count == 4)
            #expect(Set(order) == [0, 1, 2, 3])
            #expect(order == (0..<4).map { (order[0] + $0) % 4 })
        }
    }

    @Test("no targets yield no selection")
    func empty() {
        var selection = SmoothWeightedRoundRobin(targets: []).selection(hashKey: nil)
        #expect(selection.next() == nil)
    }

    @Test("a zero weight is only a fallback, unless every weight is zero")
    func zeroWeights() {
        let drained = SmoothWeightedRoundRobin(targets: targets([0, 2, 1]))
        #expect(!firstChoices(drained, count: 30).contains(0))
        #expect(Array(drained.selection(hashKey: nil)).contains(0))
        let allZero = SmoothWeightedRoundRobin(targets: targets([0, 0]))
        #expect(firstChoices(allZero, count: 4) == [0, 1, 0, 1])
    }
}

import MoongateCore
import Testing

@Suite("Smooth weighted round-robin balancer")
struct SmoothWeightedRoundRobinBalancerTests {
    private func targets(_ weights: [Int]) -> [BalancerTarget] {
        weights.enumerated().map { BalancerTarget(address: "10.0.0.\($0.offset + 1):80", weight: $0.element) }
    }

    private func balancer(_ weights: [Int]) -> SmoothWeightedRoundRobin {
        SmoothWeightedRoundRobin(targets: targets(weights), previous: nil, now: 0)
    }

    private func firstChoices(_ balancer: SmoothWeightedRoundRobin, count: Int) -> [Int] {
        (0..<count).map { _ in
            var selection = balancer.selection(hashKey: 0, now: 0)
            return selection.next()!
        }
    }

    @Test("weights 5/1/1 give nginx's smooth sequence a a b a c a a")
    func nginxSequence() {
        #expect(firstChoices(balancer([5, 1, 1]), count: 14) == [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0])
    }

    @Test("every cycle of total-weight picks follows the weights exactly", arguments: [[5, 1, 1], [100, 100], [3, 2, 7, 1], [1]])
    func ratios(weights: [Int]) {
        let total = weights.reduce(0, +)
        let cycles = max(1, 1000 / total)
        let picks = firstChoices(balancer(weights), count: cycles * total)
        for cycle in 0..<cycles {
            let window = picks[(cycle * total)..<((cycle + 1) * total)]
            for (index, weight) in weights.enumerated() {
                #expect(window.filter { $0 == index }.count == weight, "cycle \(cycle), target \(index)")
            }
        }
    }

    @Test("10 000 picks over 1:2:3 split exactly 1/6, 2/6, 3/6")
    func tenThousandPicks() {
        let picks = firstChoices(balancer([1, 2, 3]), count: 10_002)
        #expect([0, 1, 2].map { index in picks.filter { $0 == index }.count } == [1_667, 3_334, 5_001])
    }

    @Test("a single target is always chosen and has no fallback")
    func singleTarget() {
        let balancer = balancer([100])
        for _ in 0..<5 {
            #expect(Array(balancer.selection(hashKey: 0, now: 0)) == [0])
        }
    }

    @Test("fallbacks cover every other target exactly once, after the choice")
    func fallbacks() {
        let balancer = balancer([5, 1, 1, 3])
        for _ in 0..<20 {
            let order = Array(balancer.selection(hashKey: 42, now: 0))
            #expect(order.count == 4)
            #expect(Set(order) == [0, 1, 2, 3])
            #expect(order == (0..<4).map { (order[0] + $0) % 4 })
        }
    }

    @Test("no targets yield no selection")
    func empty() {
        var selection = balancer([]).selection(hashKey: 0, now: 0)
        #expect(selection.next() == nil)
    }

    @Test("a zero weight is never yielded, not even as a fallback; all zero yields nothing")
    func zeroWeights() {
        let drained = balancer([0, 2, 1])
        #expect(!firstChoices(drained, count: 30).contains(0))
        for _ in 0..<10 {
            let order = Array(drained.selection(hashKey: 0, now: 0))
            #expect(order.count == 2 && !order.contains(0))
        }
        #expect(Array(balancer([0, 0]).selection(hashKey: 0, now: 0)).isEmpty)
    }
}

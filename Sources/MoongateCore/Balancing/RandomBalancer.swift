/// Weighted random: each pick chooses an eligible target with probability
/// `weight / total weight`, independently of every other pick, so event loops and
/// gateway replicas need no shared state to split traffic by weight. Fallbacks are the
/// other eligible targets in cyclic order after the choice.
public final class RandomBalancer: TargetLoadTracking {
    public let targets: [BalancerTarget]
    public let loads: TargetLoads
    /// The indexes of the targets with a positive weight.
    private let eligible: [Int]
    /// `cumulativeWeights[p]`: the sum of the weights of `eligible[0...p]`; a draw `r`
    /// in `0..<total` picks the first position whose cumulative weight exceeds `r`.
    private let cumulativeWeights: [Int]
    private var random: SplitMix64

    /// A balancer whose draws come from a generator seeded by `seed`, for tests that
    /// need repeatable picks.
    public init(targets: [BalancerTarget], previous: (any LoadBalancer)?, now: UInt64, seed: UInt64) {
        self.targets = targets
        loads = TargetLoad.carriedOver(to: targets, from: previous, now: now)
        let eligible = targets.indices.filter { targets[$0].weight > 0 }
        self.eligible = eligible
        var total = 0
        cumulativeWeights = eligible.map { index in
            total += targets[index].weight
            return total
        }
        random = SplitMix64(seed: seed)
    }

    /// A balancer seeded once from the system generator.
    public convenience init(targets: [BalancerTarget], previous: (any LoadBalancer)?, now: UInt64) {
        self.init(targets: targets, previous: previous, now: now, seed: .random(in: .min ... .max))
    }

    public func selection(hashKey: UInt64, now: UInt64) -> BalancerSelection {
        guard let total = cumulativeWeights.last else { return .empty }
        let draw = random.next(below: total)
        var low = 0
        var high = cumulativeWeights.count - 1
        while low < high {
            let middle = (low + high) >> 1
            if cumulativeWeights[middle] > draw {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return BalancerSelection(eligible: eligible, start: low)
    }
}

/// Weighted least-connections by the power of two choices (Mitzenmacher, "The Power of
/// Two Choices in Randomized Load Balancing", 2001): each pick draws two distinct
/// eligible targets at random and takes the one with the lower `(active + 1) / weight`,
/// the load it would have after taking this request, relative to its share.
///
/// Two random candidates instead of a scan of all targets: the pick costs the same for
/// 10 targets or 1000, and the event loops, which each count only their own requests,
/// do not all pile onto the one target that looks idle to each of them. Among equally
/// loaded targets the heavier wins (`(0 + 1) / 300 < (0 + 1) / 100`); exact ties go to
/// the first candidate, itself random. Fallbacks are the other eligible targets in
/// cyclic order after the choice.
public final class LeastConnections: TargetLoadTracking {
    public let targets: [BalancerTarget]
    public let loads: TargetLoads
    /// The indexes of the targets with a positive weight.
    private let eligible: [Int]
    private var random: SplitMix64

    /// A balancer whose candidates come from a generator seeded by `seed`, for tests
    /// that need repeatable picks.
    public init(targets: [BalancerTarget], previous: (any LoadBalancer)?, now: UInt64, seed: UInt64) {
        self.targets = targets
        loads = TargetLoad.carriedOver(to: targets, from: previous, now: now)
        eligible = targets.indices.filter { targets[$0].weight > 0 }
        random = SplitMix64(seed: seed)
    }

    /// A balancer seeded once from the system generator.
    public convenience init(targets: [BalancerTarget], previous: (any LoadBalancer)?, now: UInt64) {
        self.init(targets: targets, previous: previous, now: now, seed: .random(in: .min ... .max))
    }

    public func selection(hashKey: UInt64, now: UInt64) -> BalancerSelection {
        switch eligible.count {
        case 0: return .empty
        case 1: return BalancerSelection(eligible: eligible, start: 0)
        default: break
        }
        let (first, second) = random.distinctPair(below: eligible.count)
        return BalancerSelection(eligible: eligible, start: isLessLoaded(second, than: first) ? second : first)
    }

    /// Whether eligible position `candidate` would be less loaded than `other` after
    /// one more request, relative to weight: `(a + 1) / w < (b + 1) / v`, cross-multiplied.
    private func isLessLoaded(_ candidate: Int, than other: Int) -> Bool {
        let candidateTarget = eligible[candidate]
        let otherTarget = eligible[other]
        return (loads[candidateTarget].activeRequests + 1) * targets[otherTarget].weight
            < (loads[otherTarget].activeRequests + 1) * targets[candidateTarget].weight
    }
}

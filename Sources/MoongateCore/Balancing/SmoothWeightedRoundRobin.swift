/// nginx's smooth weighted round-robin: targets are chosen in proportion to their
/// weights, and the choices of a heavy target are spread out rather than sent in a
/// burst (weights 5/1/1 give `a a b a c a a`, not `a a a a a b c`).
///
/// Each pick adds every target's weight to its running score, chooses the highest
/// score (the earliest target on a tie) and subtracts the total weight from the chosen
/// one. Over any window of `totalWeight` consecutive picks, each target is chosen
/// exactly `weight` times.
///
/// Targets with a weight of 0 (or less) are never the first choice, only fallbacks,
/// which lets a split drain an upstream by setting its weight to 0. When no target has
/// a positive weight, all count as equal, so the upstream still serves.
///
/// Not thread-safe and not `Sendable`: one instance per event loop, used from that
/// loop only (see `LoadBalancer`).
public final class SmoothWeightedRoundRobin: LoadBalancer {
    private let weights: [Int]
    private let totalWeight: Int
    private var scores: [Int]

    public init(targets: [BalancerTarget]) {
        let positive = targets.map { max($0.weight, 0) }
        weights = positive.contains { $0 > 0 } ? positive : Array(repeating: 1, count: targets.count)
        totalWeight = weights.reduce(0, +)
        scores = Array(repeating: 0, count: targets.count)
    }

    /// The next target in the smooth sequence, then the others as fallbacks.
    /// `hashKey` is ignored: round-robin does not depend on the request.
    public func selection(hashKey: UInt64?) -> BalancerSelection {
        guard !weights.isEmpty else { return BalancerSelection(first: 0, targetCount: 0) }
        var chosen = 0
        for index in weights.indices {
            scores[index] += weights[index]
            if scores[index] > scores[chosen] { chosen = index }
        }
        scores[chosen] -= totalWeight
        return BalancerSelection(first: chosen, targetCount: weights.count)
    }
}

/// nginx's smooth weighted round-robin: targets are chosen in proportion to their
/// weights, and the choices of a heavy target are spread out rather than sent in a
/// burst (weights 5/1/1 give `a a b a c a a`, not `a a a a a b c`).
///
/// Each pick adds every eligible target's weight to its running score, chooses the
/// highest score (the earliest target on a tie) and subtracts the total weight from the
/// chosen one. Over any window of `totalWeight` consecutive picks, each target is chosen
/// exactly `weight` times. Fallbacks are the other eligible targets in cyclic order.
///
/// Drained targets (weight 0) take no part. The scores start at zero on every build:
/// only the state in `TargetLoad` carries over a rebuild.
public final class SmoothWeightedRoundRobin: TargetLoadTracking {
    public let targets: [BalancerTarget]
    public let loads: TargetLoads
    /// The indexes of the targets with a positive weight.
    private let eligible: [Int]
    /// The weights of `eligible`, position for position.
    private let weights: [Int]
    private let totalWeight: Int
    /// The running scores of `eligible`, position for position.
    private var scores: [Int]

    public init(targets: [BalancerTarget], previous: (any LoadBalancer)?, now: UInt64) {
        self.targets = targets
        loads = TargetLoad.carriedOver(to: targets, from: previous, now: now)
        eligible = targets.indices.filter { targets[$0].weight > 0 }
        weights = eligible.map { targets[$0].weight }
        totalWeight = weights.reduce(0, +)
        scores = Array(repeating: 0, count: eligible.count)
    }

    /// The next target of the smooth sequence, then the other eligible targets.
    /// `hashKey` is ignored: round-robin does not depend on the request.
    public func selection(hashKey: UInt64, now: UInt64) -> BalancerSelection {
        guard !eligible.isEmpty else { return .empty }
        let chosen = scores.withUnsafeMutableBufferPointer { scores in
            weights.withUnsafeBufferPointer { weights in
                var chosen = 0
                var best = Int.min
                for position in 0..<scores.count {
                    let score = scores[position] + weights[position]
                    scores[position] = score
                    if score > best {
                        best = score
                        chosen = position
                    }
                }
                scores[chosen] -= totalWeight
                return chosen
            }
        }
        return BalancerSelection(eligible: eligible, start: chosen)
    }
}

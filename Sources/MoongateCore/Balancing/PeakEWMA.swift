/// Peak-EWMA balancing (Finagle's and Linkerd's): each pick draws two distinct eligible
/// targets at random and takes the one with the lower cost
/// `latency estimate × (active + 1) / weight`, the expected wait for one more request
/// relative to the target's share. The estimate is the peak EWMA of `TargetLoad`
/// (see `PeakLatencyEstimate`): one slow answer makes a target expensive at once, and it
/// wins traffic back as its answers get faster or, idle, as time passes.
///
/// Numbers:
/// - latency decay τ = 10 s (`PeakLatencyEstimate.decayNanos`);
/// - a target added by a rebuild has no measurement yet: it starts from the median of
///   the carried estimates (see `TargetLoad.carriedOver`), then its first answer;
/// - slow start: a target added by a rebuild (not one of the first build) counts with
///   10 % of its weight when added, rising linearly to 100 % over 30 s, so a cold
///   replica (empty caches, JIT warm-up, fresh connection pools) is not handed its full
///   share, or more if its prior looks fast, before it has shown what it can take;
/// - a 1 µs floor under every estimate, so that while nothing is measured (all
///   estimates 0) the cost still ranks targets by load and weight.
///
/// Fallbacks are the other eligible targets in cyclic order after the choice.
public final class PeakEWMA: TargetLoadTracking {
    /// How long a new target's weight takes to ramp up to its full value.
    static let slowStartNanos: UInt64 = 30_000_000_000
    /// The share of its weight that a target has when a rebuild adds it.
    static let slowStartInitialShare = 0.1
    /// Added to every latency estimate so that unmeasured targets still rank by load.
    static let latencyFloorNanos = 1_000.0

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
        let secondIsCheaper = cost(of: eligible[second], now: now) < cost(of: eligible[first], now: now)
        return BalancerSelection(eligible: eligible, start: secondIsCheaper ? second : first)
    }

    /// `(estimate + floor) × (active + 1) / effective weight`, in nanoseconds per unit
    /// of weight.
    private func cost(of target: Int, now: UInt64) -> Double {
        let load = loads[target]
        let latency = load.latency.nanos(at: now) + Self.latencyFloorNanos
        return latency * Double(load.activeRequests + 1) / effectiveWeight(of: target, load: load, now: now)
    }

    /// The target's weight, scaled down during its slow start.
    private func effectiveWeight(of target: Int, load: TargetLoad, now: UInt64) -> Double {
        let weight = Double(targets[target].weight)
        guard let addedAt = load.addedAt, now < addedAt &+ Self.slowStartNanos else { return weight }
        let progress = now > addedAt ? Double(now - addedAt) / Double(Self.slowStartNanos) : 0
        return weight * (Self.slowStartInitialShare + (1 - Self.slowStartInitialShare) * progress)
    }
}

/// Builds the balancer of an upstream's configured `algorithm`.
public enum LoadBalancers {
    /// A balancer running `algorithm` over `targets`; see `LoadBalancer.init` for
    /// `previous` and `now`.
    public static func make(
        _ algorithm: LoadBalancingAlgorithm, targets: [BalancerTarget], previous: (any LoadBalancer)?, now: UInt64
    ) -> any LoadBalancer {
        switch algorithm {
        case .roundRobin: SmoothWeightedRoundRobin(targets: targets, previous: previous, now: now)
        case .leastConnections: LeastConnections(targets: targets, previous: previous, now: now)
        case .consistentHash: ConsistentHash(targets: targets, previous: previous, now: now)
        case .peakEWMA: PeakEWMA(targets: targets, previous: previous, now: now)
        case .random: RandomBalancer(targets: targets, previous: previous, now: now)
        }
    }
}

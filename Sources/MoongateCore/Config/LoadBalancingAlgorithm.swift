/// `upstreams[].algorithm` (SPEC §2): how a target is chosen for each request.
public enum LoadBalancingAlgorithm: String, Sendable, Equatable, CaseIterable {
    case roundRobin = "round-robin"
    case leastConnections = "least-connections"
    case consistentHash = "consistent-hash"
    case peakEWMA = "peak-ewma"
    case random
}

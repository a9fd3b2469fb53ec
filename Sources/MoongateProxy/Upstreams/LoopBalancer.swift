import MoongateCore

/// One event loop's balancer for one upstream, valid for one targets version of its
/// members and one algorithm. When either changes it is rebuilt, handing its
/// per-target state (active requests, latency estimates) to the new one.
final class LoopBalancer {
    let runtime: UpstreamRuntime
    let algorithm: LoadBalancingAlgorithm
    let targetsVersion: Int
    let balancer: any LoadBalancer
    /// Target address -> Host header, for targets found by resolving a name.
    let hostNames: [String: String]

    init(runtime: UpstreamRuntime, algorithm: LoadBalancingAlgorithm, snapshot: UpstreamMembersSnapshot, previous: LoopBalancer?, now: UInt64) {
        self.runtime = runtime
        self.algorithm = algorithm
        targetsVersion = snapshot.targetsVersion
        // Host names are published before targets (see UpstreamRuntime), so these are
        // at least as new as the snapshot.
        hostNames = runtime.hostNames
        let carried = previous.flatMap { $0.algorithm == algorithm && $0.runtime === runtime ? $0.balancer : nil }
        balancer = LoadBalancers.make(algorithm, targets: snapshot.targets, previous: carried, now: now)
    }

    func isCurrent(for runtime: UpstreamRuntime, algorithm: LoadBalancingAlgorithm, snapshot: UpstreamMembersSnapshot) -> Bool {
        self.runtime === runtime && self.algorithm == algorithm && targetsVersion == snapshot.targetsVersion
    }
}

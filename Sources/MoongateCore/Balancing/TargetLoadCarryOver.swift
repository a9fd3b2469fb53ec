/// A balancer of this module: it keeps a `TargetLoad` per target, which a rebuild can
/// take over, and answers the load questions of `LoadBalancer` from them (the
/// extension below), the same way under every algorithm.
public protocol TargetLoadTracking: LoadBalancer {
    var loads: TargetLoads { get }
}

/// One `TargetLoad` per target, in `targets` order. Opaque outside this module.
public struct TargetLoads {
    let all: [TargetLoad]

    subscript(target: Int) -> TargetLoad { all[target] }
}

extension TargetLoadTracking {
    public func requestStarted(target: Int, now: UInt64) {
        loads[target].requestStarted()
    }

    public func requestFinished(target: Int, latencyNanos: UInt64, now: UInt64) {
        loads[target].requestFinished(latencyNanos: latencyNanos, now: now)
    }

    public func activeRequests(target: Int) -> Int {
        loads[target].activeRequests
    }

    public func latencyMilliseconds(target: Int, now: UInt64) -> Double {
        loads[target].latency.nanos(at: now) / 1e6
    }
}

extension TargetLoad {
    /// The loads for a rebuilt balancer over `targets`.
    ///
    /// An address also present in `previous` keeps its load: the same object when
    /// `previous` is a balancer of this module (see `TargetLoad`), else a copy of what
    /// `previous` reports. A new address starts with no requests, a latency prior equal
    /// to the median of the carried measured estimates (so it is neither swamped as the
    /// "fastest" target nor starved as the slowest before its first answer) and, when
    /// this is a rebuild rather than the first build, `addedAt = now` for slow start.
    /// An address listed twice gets one load per listing.
    static func carriedOver(to targets: [BalancerTarget], from previous: (any LoadBalancer)?, now: UInt64) -> TargetLoads {
        guard let previous else {
            return TargetLoads(all: targets.map { _ in TargetLoad(latency: PeakLatencyEstimate(prior: 0, at: now), addedAt: nil) })
        }
        let previousLoads = (previous as? any TargetLoadTracking)?.loads.all ?? copies(of: previous, now: now)
        var unclaimed: [String: ArraySlice<TargetLoad>] = [:]
        for (target, load) in zip(previous.targets, previousLoads) {
            unclaimed[target.address, default: []].append(load)
        }
        let prior = median(of: previousLoads.filter(\.latency.isMeasured).map { $0.latency.nanos(at: now) })
        return TargetLoads(
            all: targets.map { target in
                unclaimed[target.address]?.popFirst()
                    ?? TargetLoad(latency: PeakLatencyEstimate(prior: prior, at: now), addedAt: now)
            })
    }

    /// Loads rebuilt from the public API of a balancer from outside this module.
    private static func copies(of balancer: any LoadBalancer, now: UInt64) -> [TargetLoad] {
        balancer.targets.indices.map { index in
            let milliseconds = balancer.latencyMilliseconds(target: index, now: now)
            let latency = milliseconds > 0
                ? PeakLatencyEstimate(measured: milliseconds * 1e6, at: now)
                : PeakLatencyEstimate(prior: 0, at: now)
            return TargetLoad(latency: latency, addedAt: nil, activeRequests: balancer.activeRequests(target: index))
        }
    }

    private static func median(of values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
    }
}

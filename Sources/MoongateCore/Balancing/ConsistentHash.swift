/// Consistent hashing on a Ketama ring (see `ConsistentHashRing`): requests with the same
/// `hashKey` (the `RequestHash` of the upstream's `hash_on` value) reach the same target
/// for as long as the targets stay, and when targets come or go only the keys of the
/// arcs that changed owner move.
///
/// The fallbacks are the distinct targets met walking the ring on from the key's point:
/// when the proxy skips a chosen target that is down, the key falls over to the next
/// point's target, which is where it would land if the down target were removed, and
/// other keys of the down target spread over the ring instead of onto one neighbour.
public final class ConsistentHash: TargetLoadTracking {
    public let targets: [BalancerTarget]
    public let loads: TargetLoads
    private let ring: ConsistentHashRing

    public init(targets: [BalancerTarget], previous: (any LoadBalancer)?, now: UInt64) {
        self.targets = targets
        loads = TargetLoad.carriedOver(to: targets, from: previous, now: now)
        ring = ConsistentHashRing(targets: targets)
    }

    /// The owner of `hashKey`'s point, then the other targets in ring order. `hashKey`
    /// must be well mixed (as `RequestHash` makes it): the ring is ordered by its whole
    /// 64 bits, so small raw integers would all land on the first point.
    public func selection(hashKey: UInt64, now: UInt64) -> BalancerSelection {
        guard !ring.isEmpty else { return .empty }
        return BalancerSelection(ring: ring, point: ring.point(for: hashKey))
    }
}

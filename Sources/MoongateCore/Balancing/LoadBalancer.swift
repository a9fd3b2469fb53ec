/// A load-balancing algorithm over one upstream's targets (STYLE #3): built from the
/// targets, then asked, once per request, for a selection.
///
/// The selection yields the first choice and then every other target once, which is
/// what retries need: "the next target not yet tried". Health and discovery are not
/// the balancer's concern; they rebuild it or skip the targets it yields.
///
/// Balancers keep mutable state (round-robin position, connection counts) and are not
/// `Sendable`: each event loop owns its own instance and uses it from that loop only,
/// so picking a target never takes a lock.
public protocol LoadBalancer: AnyObject {
    /// A balancer over `targets`; selections yield indexes into this array.
    init(targets: [BalancerTarget])

    /// The targets to try for one request, best first.
    /// - Parameter hashKey: the request's hash for key-based algorithms (consistent
    ///   hashing); algorithms that do not hash ignore it.
    func selection(hashKey: UInt64?) -> BalancerSelection
}

/// A load-balancing algorithm over one upstream's targets (STYLE #3): built from the
/// targets, then asked, once per request, for a selection.
///
/// The selection yields the first choice and then fallbacks, each eligible target at
/// most once, which is what retries need: "the next target not yet tried". A target
/// with a weight of 0 is drained: never yielded. Health and discovery are not the
/// balancer's concern: discovery rebuilds it (passing the old one as `previous`), the
/// proxy skips the unavailable targets it yields.
///
/// Balancers keep mutable state (round-robin scores, random generators, requests in
/// flight, latency estimates) and are not `Sendable`: each event loop owns its own
/// instances and uses them from that loop only, so a pick never takes a lock.
public protocol LoadBalancer: AnyObject {
    /// A balancer over `targets`; selections yield indexes into this array.
    /// - Parameters:
    ///   - previous: the balancer of the same upstream that these targets replace
    ///     (targets came or went), nil at the first build. The per-target state of the
    ///     addresses present in both carries over: requests in flight, latency
    ///     estimates, slow-start clocks.
    ///   - now: monotonic nanoseconds.
    init(targets: [BalancerTarget], previous: (any LoadBalancer)?, now: UInt64)

    var targets: [BalancerTarget] { get }

    /// The targets to try for one request: the first choice, then fallbacks.
    /// - Parameters:
    ///   - hashKey: the request's `RequestHash` of its `hash_on` value; only
    ///     consistent hashing reads it.
    ///   - now: monotonic nanoseconds.
    func selection(hashKey: UInt64, now: UInt64) -> BalancerSelection

    /// Called by the proxy when it sends a try to `target` (an index into `targets`).
    func requestStarted(target: Int, now: UInt64)

    /// Called by the proxy when a try sent to `target` ends, however it ends.
    func requestFinished(target: Int, latencyNanos: UInt64, now: UInt64)

    /// The requests in flight to `target`, for `gate.balancer.get_targets()` and the
    /// admin API.
    func activeRequests(target: Int) -> Int

    /// The latency estimate of `target` in milliseconds: the peak EWMA that `PeakEWMA`
    /// picks by, kept by every algorithm. Before the target's first answer: 0, or for a
    /// target added by a rebuild, the median of the others' estimates it starts from.
    func latencyMilliseconds(target: Int, now: UInt64) -> Double
}

import Synchronization

/// One upstream's circuit breaker and load shedder (SPEC §2 `limits`, `retries.budget_percent`),
/// shared by every event loop: counts of requests in flight, open connections, requests
/// waiting for a connection and retries in flight, each admitted only below its limit.
/// A refusal is immediate (the proxy answers 503 with `Retry-After`) and counted; no
/// request ever waits for a slot here, so no queue can grow without bound.
///
/// Every count is an `Atomic` taken by compare-exchange, so a slot is never handed out
/// above the limit and admitting costs one uncontended atomic operation, no lock.
/// Every successful `tryStart…`/`tryOpen…` must be paired with its `finish…`/`…Closed`.
/// Limits may change at any time (`update`); counts above a lowered limit drain
/// naturally, as new work is refused until they are below it.
public final class UpstreamCircuit: Sendable {
    private let maxRequests: Atomic<Int>
    private let maxConnections: Atomic<Int>
    private let maxPending: Atomic<Int>
    private let retryBudgetPercent: Atomic<Int>

    private let requests = Atomic<Int>(0)
    private let connections = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let retries = Atomic<Int>(0)

    private let rejectedRequests = Atomic<Int>(0)
    private let rejectedConnections = Atomic<Int>(0)
    private let rejectedPending = Atomic<Int>(0)
    private let rejectedRetries = Atomic<Int>(0)

    public init(limits: UpstreamConnectionLimits, retryBudgetPercent: Int) {
        maxRequests = Atomic(limits.maxRequests)
        maxConnections = Atomic(limits.maxConnections)
        maxPending = Atomic(limits.maxPending)
        self.retryBudgetPercent = Atomic(retryBudgetPercent)
    }

    /// New limits from a reload; the counts carry over.
    public func update(limits: UpstreamConnectionLimits, retryBudgetPercent: Int) {
        maxRequests.store(limits.maxRequests, ordering: .relaxed)
        maxConnections.store(limits.maxConnections, ordering: .relaxed)
        maxPending.store(limits.maxPending, ordering: .relaxed)
        self.retryBudgetPercent.store(retryBudgetPercent, ordering: .relaxed)
    }

    /// Admits a request while fewer than `max_requests` are in flight; false = shed.
    public func tryStartRequest() -> Bool {
        Self.acquire(requests, below: maxRequests.load(ordering: .relaxed), countingRefusalIn: rejectedRequests)
    }

    public func finishRequest() {
        Self.release(requests)
    }

    /// Allows opening a connection while fewer than `max_connections` are open.
    public func tryOpenConnection() -> Bool {
        Self.acquire(connections, below: maxConnections.load(ordering: .relaxed), countingRefusalIn: rejectedConnections)
    }

    public func connectionClosed() {
        Self.release(connections)
    }

    /// Lets a request wait for a connection while fewer than `max_pending` wait;
    /// with `max_pending: 0` nothing waits and this always refuses.
    public func tryStartPending() -> Bool {
        Self.acquire(pending, below: maxPending.load(ordering: .relaxed), countingRefusalIn: rejectedPending)
    }

    public func finishPending() {
        Self.release(pending)
    }

    /// Admits a retry while the retry budget allows it (`RetryBudget`): retries in
    /// flight below max(3, `budget_percent` × requests in flight / 100).
    public func tryStartRetry() -> Bool {
        let budgetPercent = retryBudgetPercent.load(ordering: .relaxed)
        var current = retries.load(ordering: .relaxed)
        while RetryBudget.allows(
            activeRetries: current, activeRequests: requests.load(ordering: .relaxed), budgetPercent: budgetPercent)
        {
            let (exchanged, original) = retries.weakCompareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        rejectedRetries.add(1, ordering: .relaxed)
        return false
    }

    public func finishRetry() {
        Self.release(retries)
    }

    /// The counts now. Each is read on its own, so under traffic they may be from
    /// slightly different instants: good for metrics, not for decisions.
    public var stats: UpstreamCircuitStats {
        UpstreamCircuitStats(
            activeRequests: requests.load(ordering: .relaxed), openConnections: connections.load(ordering: .relaxed),
            pendingRequests: pending.load(ordering: .relaxed), activeRetries: retries.load(ordering: .relaxed),
            rejections: UpstreamCircuitStats.Rejections(
                requests: rejectedRequests.load(ordering: .relaxed), connections: rejectedConnections.load(ordering: .relaxed),
                pending: rejectedPending.load(ordering: .relaxed), retryBudget: rejectedRetries.load(ordering: .relaxed)))
    }

    /// Takes one slot of `counter` if it is below `limit`. Compare-exchange rather than
    /// add-then-undo: an add past the limit, even undone at once, would make concurrent
    /// callers see the upstream full and be refused wrongly.
    private static func acquire(
        _ counter: borrowing Atomic<Int>, below limit: Int, countingRefusalIn refusals: borrowing Atomic<Int>
    ) -> Bool {
        var current = counter.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = counter.weakCompareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        refusals.add(1, ordering: .relaxed)
        return false
    }

    private static func release(_ counter: borrowing Atomic<Int>) {
        let (_, remaining) = counter.subtract(1, ordering: .relaxed)
        assert(remaining >= 0, "a circuit slot was released more often than it was taken")
    }
}

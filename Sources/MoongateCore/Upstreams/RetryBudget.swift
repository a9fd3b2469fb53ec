/// The retry budget (SPEC §2 `retries.budget_percent`): retries in flight are capped at
/// a percentage of the requests in flight, so that when an upstream fails, retries
/// cannot multiply its load. A few concurrent retries are always allowed, so an idle
/// upstream (or one with little traffic) still gets its retries.
public struct RetryBudget {
    /// Retries in flight that are allowed whatever the traffic (Envoy's default too).
    public static let minimumConcurrentRetries = 3

    /// Whether one more retry may start: retries in flight stay below
    /// max(3, `budgetPercent` × requests in flight / 100), rounded down.
    public static func allows(activeRetries: Int, activeRequests: Int, budgetPercent: Int) -> Bool {
        let (scaled, overflow) = max(budgetPercent, 0).multipliedReportingOverflow(by: max(activeRequests, 0))
        let budget = overflow ? Int.max : scaled / 100
        return activeRetries < max(minimumConcurrentRetries, budget)
    }
}

import MoongateCore
import Testing

@Suite("Upstream retry budget arithmetic")
struct UpstreamRetryBudgetTests {
    @Test(
        "a retry may start while retries in flight are below max(3, percent × requests / 100)",
        arguments: [
            // (retries in flight, requests in flight, budget %, allowed)
            (0, 0, 20, true), (2, 0, 20, true), (3, 0, 20, false),
            (19, 100, 20, true), (20, 100, 20, false),
            (2, 10, 20, true), (3, 10, 20, false),  // 2 by the percentage, 3 by the floor
            (18, 99, 20, true), (19, 99, 20, false),  // 19.8 rounds down
            (2, 1000, 0, true), (3, 1000, 0, false),  // 0% still allows 3
            (999, 1000, 100, true), (1000, 1000, 100, false),
        ])
    func arithmetic(retries: Int, requests: Int, percent: Int, allowed: Bool) {
        #expect(RetryBudget.allows(activeRetries: retries, activeRequests: requests, budgetPercent: percent) == allowed)
    }

    @Test("huge request counts do not overflow")
    func noOverflow() {
        #expect(RetryBudget.allows(activeRetries: Int.max - 1, activeRequests: Int.max, budgetPercent: 100))
    }
}

import MoongateCore
import Testing

@Suite("Upstream circuit breaking and shedding")
struct UpstreamCircuitTests {
    private func circuit(connections: Int = 10, requests: Int = 10, pending: Int = 10, budget: Int = 20) -> UpstreamCircuit {
        UpstreamCircuit(
            limits: UpstreamConnectionLimits(maxConnections: connections, maxRequests: requests, maxPending: pending),
            retryBudgetPercent: budget)
    }

    /// How many of `attempts` calls to `take` succeed.
    private func admitted(_ attempts: Int, _ take: () -> Bool) -> Int {
        (0..<attempts).filter { _ in take() }.count
    }

    @Test("max_requests admits exactly that many in flight, then sheds and counts")
    func maxRequests() {
        let circuit = circuit(requests: 3)
        #expect(admitted(5, circuit.tryStartRequest) == 3)
        #expect(circuit.stats.activeRequests == 3)
        #expect(circuit.stats.rejections == UpstreamCircuitStats.Rejections(requests: 2))
        circuit.finishRequest()
        #expect(circuit.tryStartRequest())
        #expect(!circuit.tryStartRequest())
        #expect(circuit.stats.rejections.requests == 3)
    }

    @Test("max_connections admits exactly that many open, then refuses and counts")
    func maxConnections() {
        let circuit = circuit(connections: 2)
        #expect(admitted(4, circuit.tryOpenConnection) == 2)
        #expect(circuit.stats.openConnections == 2)
        #expect(circuit.stats.rejections == UpstreamCircuitStats.Rejections(connections: 2))
        circuit.connectionClosed()
        #expect(circuit.stats.openConnections == 1)
        #expect(circuit.tryOpenConnection())
    }

    @Test("max_pending admits exactly that many waiting, then sheds and counts")
    func maxPending() {
        let circuit = circuit(pending: 4)
        #expect(admitted(6, circuit.tryStartPending) == 4)
        #expect(circuit.stats.pendingRequests == 4)
        #expect(circuit.stats.rejections == UpstreamCircuitStats.Rejections(pending: 2))
        circuit.finishPending()
        #expect(circuit.tryStartPending())
    }

    @Test("max_pending 0 never lets a request wait")
    func noPending() {
        let circuit = circuit(pending: 0)
        #expect(!circuit.tryStartPending())
        #expect(circuit.stats.pendingRequests == 0)
        #expect(circuit.stats.rejections.pending == 1)
    }

    @Test("with no request in flight, 3 retries are allowed")
    func minimumRetries() {
        let circuit = circuit(budget: 20)
        #expect(admitted(5, circuit.tryStartRetry) == 3)
        #expect(circuit.stats.activeRetries == 3)
        #expect(circuit.stats.rejections == UpstreamCircuitStats.Rejections(retryBudget: 2))
        circuit.finishRetry()
        #expect(circuit.tryStartRetry())
    }

    @Test("100 requests in flight at 20% allow 20 retries")
    func budgetFollowsRequests() {
        let circuit = circuit(requests: 1000, budget: 20)
        #expect(admitted(100, circuit.tryStartRequest) == 100)
        #expect(admitted(30, circuit.tryStartRetry) == 20)
        for _ in 0..<50 { circuit.finishRequest() }
        #expect(!circuit.tryStartRetry(), "50 requests at 20% allow 10 retries, 20 are in flight")
        for _ in 0..<11 { circuit.finishRetry() }
        #expect(circuit.tryStartRetry())
    }

    @Test("a lowered limit refuses new work until the count is below it; the counts carry over")
    func update() {
        let circuit = circuit(requests: 5)
        #expect(admitted(5, circuit.tryStartRequest) == 5)
        circuit.update(limits: UpstreamConnectionLimits(maxConnections: 10, maxRequests: 3, maxPending: 10), retryBudgetPercent: 20)
        #expect(circuit.stats.activeRequests == 5)
        circuit.finishRequest()
        circuit.finishRequest()
        #expect(!circuit.tryStartRequest())
        circuit.finishRequest()
        #expect(circuit.tryStartRequest())
        circuit.update(limits: UpstreamConnectionLimits(maxConnections: 10, maxRequests: 8, maxPending: 10), retryBudgetPercent: 20)
        #expect(admitted(10, circuit.tryStartRequest) == 5)
    }

    @Test("concurrent callers never exceed a limit and every count returns to zero")
    func concurrency() async {
        let limit = 4
        let circuit = circuit(connections: limit, requests: limit, pending: limit, budget: 0)
        let tasks = 8
        let rounds = 5000
        let results = await withTaskGroup(of: (admitted: Int, overLimit: Int).self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    var admitted = 0
                    var overLimit = 0
                    for _ in 0..<rounds {
                        if circuit.tryStartRequest() {
                            admitted += 1
                            if circuit.stats.activeRequests > limit { overLimit += 1 }
                            if circuit.tryStartPending() { circuit.finishPending() }
                            if circuit.tryOpenConnection() {
                                if circuit.stats.openConnections > limit { overLimit += 1 }
                                circuit.connectionClosed()
                            }
                            if circuit.tryStartRetry() {
                                if circuit.stats.activeRetries > RetryBudget.minimumConcurrentRetries { overLimit += 1 }
                                circuit.finishRetry()
                            }
                            circuit.finishRequest()
                        }
                        await Task.yield()
                    }
                    return (admitted, overLimit)
                }
            }
            var total = (admitted: 0, overLimit: 0)
            for await result in group {
                total.admitted += result.admitted
                total.overLimit += result.overLimit
            }
            return total
        }
        let stats = circuit.stats
        #expect(results.overLimit == 0)
        #expect(results.admitted + stats.rejections.requests == tasks * rounds)
        #expect(stats.activeRequests == 0 && stats.openConnections == 0 && stats.pendingRequests == 0 && stats.activeRetries == 0)
    }
}

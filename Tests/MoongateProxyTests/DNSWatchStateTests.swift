import Testing

@testable import MoongateProxy

/// The watch policy without sockets or timers.
@Suite("DNS watch policy")
struct DNSWatchStateTests {
    private func address(_ host: String, weight: Int = 100, ttl: Duration = .seconds(30)) -> ResolvedAddress {
        ResolvedAddress(host: host, port: 80, weight: weight, ttl: ttl)
    }

    private let retry = Duration.seconds(5)

    @Test("the first answer is reported sorted; the next lookup comes at the smallest TTL")
    func firstAnswer() {
        var state = DNSWatchState(retryDelay: retry)
        let decision = state.resolved(.answer([address("10.0.0.2", ttl: .seconds(40)), address("10.0.0.1", ttl: .seconds(12))]))
        #expect(decision.report?.map(\.host) == ["10.0.0.1", "10.0.0.2"])
        #expect(decision.nextLookup == .seconds(12))
    }

    @Test("TTLs are clamped to 1 s ... 300 s", arguments: [(0, 1), (1, 1), (299, 299), (300, 300), (86400, 300)])
    func clamp(ttl: Int64, next: Int64) {
        var state = DNSWatchState(retryDelay: retry)
        #expect(state.resolved(.answer([address("10.0.0.1", ttl: .seconds(ttl))])).nextLookup == .seconds(next))
    }

    @Test("the same set with other TTLs or order is not a change; another weight is")
    func changes() {
        var state = DNSWatchState(retryDelay: retry)
        _ = state.resolved(.answer([address("10.0.0.1"), address("10.0.0.2")]))
        #expect(state.resolved(.answer([address("10.0.0.2", ttl: .seconds(3)), address("10.0.0.1")])).report == nil)
        #expect(state.resolved(.answer([address("10.0.0.1"), address("10.0.0.2", weight: 7)])).report?.map(\.weight) == [100, 7])
    }

    @Test("failures keep the last set and retry after the retry delay")
    func failures() {
        var state = DNSWatchState(retryDelay: retry)
        _ = state.resolved(.answer([address("10.0.0.1")]))
        for _ in 0..<3 {
            #expect(state.resolved(.failure) == DNSWatchState.Decision(report: nil, nextLookup: retry))
        }
        #expect(state.resolved(.answer([address("10.0.0.1")])).report == nil, "the set did not change across the failures")
    }

    @Test("a failure before any answer reports nothing")
    func failureFirst() {
        var state = DNSWatchState(retryDelay: retry)
        #expect(state.resolved(.failure).report == nil)
        #expect(state.resolved(.answer([address("10.0.0.1")])).report != nil)
    }

    @Test("NXDOMAIN or an empty answer empties a set only when the next lookup confirms it")
    func confirmedEmpty() {
        var state = DNSWatchState(retryDelay: retry)
        _ = state.resolved(.answer([address("10.0.0.1")]))
        #expect(state.resolved(.absent) == DNSWatchState.Decision(report: nil, nextLookup: retry))
        #expect(state.resolved(.answer([])) == DNSWatchState.Decision(report: [], nextLookup: retry))
        #expect(state.resolved(.absent).report == nil, "already reported empty")
        #expect(state.resolved(.answer([address("10.0.0.1")])).report?.count == 1)
    }

    @Test("an empty answer followed by addresses does not empty the set")
    func unconfirmedEmpty() {
        var state = DNSWatchState(retryDelay: retry)
        _ = state.resolved(.answer([address("10.0.0.1")]))
        #expect(state.resolved(.absent).report == nil)
        #expect(state.resolved(.answer([address("10.0.0.1")])).report == nil)
        #expect(state.resolved(.absent).report == nil, "the confirmation starts over")
        #expect(state.resolved(.failure).report == nil)
        #expect(state.resolved(.absent).report == [], "a failure between two empty answers does not reset it")
    }

    @Test("an empty first answer is reported, so the caller knows the lookup happened")
    func emptyFirst() {
        var state = DNSWatchState(retryDelay: retry)
        #expect(state.resolved(.absent) == DNSWatchState.Decision(report: [], nextLookup: retry))
        #expect(state.resolved(.answer([])).report == nil)
    }
}

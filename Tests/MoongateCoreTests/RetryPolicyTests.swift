import Testing

@testable import MoongateCore

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy(
        UpstreamRetryConfig(attempts: 2, retryOn: [.connectFailure, .reset, .timeout, .status(503)], backoff: .milliseconds(100)))

    @Test("listed failures are retried up to `attempts` times; others never")
    func attemptsAndConditions() {
        #expect(policy.allowsRetry(after: .status(503), method: "GET", retriesDone: 0, bodyReplayable: true))
        #expect(policy.allowsRetry(after: .reset, method: "GET", retriesDone: 1, bodyReplayable: true))
        #expect(!policy.allowsRetry(after: .timeout, method: "GET", retriesDone: 2, bodyReplayable: true))
        #expect(!policy.allowsRetry(after: .status(502), method: "GET", retriesDone: 0, bodyReplayable: true))
        let connectOnly = RetryPolicy(UpstreamRetryConfig())
        #expect(connectOnly.allowsRetry(after: .connectFailure, method: "GET", retriesDone: 0, bodyReplayable: true))
        #expect(!connectOnly.allowsRetry(after: .reset, method: "GET", retriesDone: 0, bodyReplayable: true))
        #expect(!connectOnly.allowsRetry(after: .connectFailure, method: "GET", retriesDone: 1, bodyReplayable: true))
    }

    @Test("POST and PATCH are retried after reaching the upstream only with non_idempotent; before, always")
    func nonIdempotentMethods() {
        for method in ["POST", "PATCH"] {
            #expect(policy.allowsRetry(after: .connectFailure, method: method, retriesDone: 0, bodyReplayable: false))
            #expect(!policy.allowsRetry(after: .status(503), method: method, retriesDone: 0, bodyReplayable: true))
            #expect(!policy.allowsRetry(after: .reset, method: method, retriesDone: 0, bodyReplayable: true))
        }
        var config = policy.config
        config.nonIdempotent = true
        #expect(RetryPolicy(config).allowsRetry(after: .status(503), method: "POST", retriesDone: 0, bodyReplayable: true))
        #expect(policy.allowsRetry(after: .status(503), method: "PUT", retriesDone: 0, bodyReplayable: true))
    }

    @Test("a body that was not kept cannot be sent again once it reached an upstream")
    func unreplayableBody() {
        #expect(!policy.allowsRetry(after: .status(503), method: "PUT", retriesDone: 0, bodyReplayable: false))
        #expect(policy.allowsRetry(after: .connectFailure, method: "PUT", retriesDone: 0, bodyReplayable: false))
    }

    @Test("backoff doubles per retry, is capped at 10x, and is jittered into [half, full)")
    func backoff() {
        let low = UInt64(0)
        let high = UInt64.max
        #expect(policy.backoff(beforeRetry: 1, random: low) == .milliseconds(50))
        #expect(policy.backoff(beforeRetry: 1, random: high) <= .milliseconds(100))
        #expect(policy.backoff(beforeRetry: 1, random: high) > .milliseconds(99))
        #expect(policy.backoff(beforeRetry: 2, random: low) == .milliseconds(100))
        #expect(policy.backoff(beforeRetry: 3, random: low) == .milliseconds(200))
        #expect(policy.backoff(beforeRetry: 9, random: low) == .milliseconds(500))  // capped at 10 x 100ms, halved
        #expect(RetryPolicy(UpstreamRetryConfig(backoff: .zero)).backoff(beforeRetry: 3, random: high) == .zero)
    }

    @Test("a route override replaces only the fields it names")
    func routeOverride() throws {
        let document = try ConfigLoader.parse(
            yaml: """
                upstreams:
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    retries: { attempts: 3, retry_on: [503], backoff: 10ms, budget_percent: 40 }
                routes:
                  - name: once
                    match: { paths: ["/"] }
                    upstream: orders
                    retries: { attempts: 0, non_idempotent: true }
                """, file: "moongate.yaml")
        let upstream = try #require(document.upstreams.first?.model)
        let override = try #require(document.routes.first?.model?.retries)
        let applied = override.applied(to: upstream.retries)
        #expect(applied.attempts == 0)
        #expect(applied.nonIdempotent)
        #expect(applied.retryOn == [.status(503)])
        #expect(applied.backoff == .milliseconds(10))
        #expect(applied.budgetPercent == 40)
    }
}

/// `upstreams[].retries` (SPEC §2). Defaults: one retry, only after a connection
/// failure (the request never reached the upstream, so retrying is always safe), a
/// budget of 20% of requests, 25ms backoff; each try may take the whole read timeout.
public struct UpstreamRetryConfig: Sendable, Equatable {
    /// Retries after the first try.
    public var attempts: Int
    public var retryOn: [RetryCondition]
    /// nil = the upstream's read timeout.
    public var perTryTimeout: Duration?
    /// Retries in flight as a percentage of requests (3 concurrent retries are always allowed).
    public var budgetPercent: Int
    public var backoff: Duration

    public init(
        attempts: Int = 1, retryOn: [RetryCondition] = [.connectFailure], perTryTimeout: Duration? = nil, budgetPercent: Int = 20,
        backoff: Duration = .milliseconds(25)
    ) {
        self.attempts = attempts
        self.retryOn = retryOn
        self.perTryTimeout = perTryTimeout
        self.budgetPercent = budgetPercent
        self.backoff = backoff
    }
}

/// One `retry_on` entry: a failure kind or a response status.
public enum RetryCondition: Sendable, Hashable, CustomStringConvertible {
    case connectFailure
    case reset
    case timeout
    case status(Int)

    static let words: [String: RetryCondition] = ["connect-failure": .connectFailure, "reset": .reset, "timeout": .timeout]

    public var description: String {
        switch self {
        case .connectFailure: "connect-failure"
        case .reset: "reset"
        case .timeout: "timeout"
        case .status(let status): String(status)
        }
    }
}

extension UpstreamRetryConfig {
    static let keys = ["attempts", "retry_on", "per_try_timeout", "budget_percent", "backoff"]

    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> UpstreamRetryConfig? {
        guard let fields = reader.fields(node, allowed: keys) else { return nil }
        var config = UpstreamRetryConfig()
        config.attempts = reader.int(fields["attempts"], in: 0...100) ?? config.attempts
        config.retryOn = reader.list(fields["retry_on"], uniqueBy: \.description) { condition($0, reader) } ?? config.retryOn
        config.perTryTimeout = reader.duration(fields["per_try_timeout"])
        config.budgetPercent = reader.int(fields["budget_percent"], in: 0...100) ?? config.budgetPercent
        config.backoff = reader.duration(fields["backoff"], allowZero: true) ?? config.backoff
        return config
    }

    private static func condition(_ node: ConfigNode, _ reader: ConfigReader) -> RetryCondition? {
        if node.tagName == .int {
            return reader.int(node, in: 400...599).map(RetryCondition.status)
        }
        if let word = node.string, let condition = RetryCondition.words[word] { return condition }
        reader.report(node, "expected 'connect-failure', 'reset', 'timeout' or a status from 400 to 599, found \(node.summary)")
        return nil
    }
}

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
    /// POST and PATCH are retried after they reached the upstream only when this is
    /// set (the upstream may have acted on them); before that they always may be.
    public var nonIdempotent: Bool

    public init(
        attempts: Int = 1, retryOn: [RetryCondition] = [.connectFailure], perTryTimeout: Duration? = nil, budgetPercent: Int = 20,
        backoff: Duration = .milliseconds(25), nonIdempotent: Bool = false
    ) {
        self.attempts = attempts
        self.retryOn = retryOn
        self.perTryTimeout = perTryTimeout
        self.budgetPercent = budgetPercent
        self.backoff = backoff
        self.nonIdempotent = nonIdempotent
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
    static let keys = ["attempts", "retry_on", "per_try_timeout", "budget_percent", "backoff", "non_idempotent"]
    /// A route overrides how its requests are retried; the budget stays the upstream's.
    static let routeKeys = keys.filter { $0 != "budget_percent" }

    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> UpstreamRetryConfig? {
        reader.fields(node, allowed: keys).map { decode($0, reader) }
    }

    /// The checked fields of a `retries:` map, over the defaults.
    static func decode(_ fields: ConfigFields, _ reader: ConfigReader) -> UpstreamRetryConfig {
        var config = UpstreamRetryConfig()
        config.attempts = reader.int(fields["attempts"], in: 0...100) ?? config.attempts
        config.retryOn = reader.list(fields["retry_on"], uniqueBy: \.description) { condition($0, reader) } ?? config.retryOn
        config.perTryTimeout = reader.duration(fields["per_try_timeout"]) ?? config.perTryTimeout
        config.budgetPercent = reader.int(fields["budget_percent"], in: 0...100) ?? config.budgetPercent
        config.backoff = reader.duration(fields["backoff"], allowZero: true) ?? config.backoff
        config.nonIdempotent = reader.bool(fields["non_idempotent"]) ?? config.nonIdempotent
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

/// A route's `retries:` (all keys of the upstream's but `budget_percent`): the fields
/// it names replace the upstream's for that route's requests, the others stay the
/// upstream's, so `retries: { attempts: 0 }` turns retries off for one route.
public struct RetryOverride: Sendable, Equatable {
    /// The values read, over the defaults.
    var values: UpstreamRetryConfig
    /// The keys the route wrote.
    var keys: Set<String>

    /// The upstream's policy with this route's fields in place.
    public func applied(to base: UpstreamRetryConfig) -> UpstreamRetryConfig {
        var config = base
        if keys.contains("attempts") { config.attempts = values.attempts }
        if keys.contains("retry_on") { config.retryOn = values.retryOn }
        if keys.contains("per_try_timeout") { config.perTryTimeout = values.perTryTimeout }
        if keys.contains("backoff") { config.backoff = values.backoff }
        if keys.contains("non_idempotent") { config.nonIdempotent = values.nonIdempotent }
        return config
    }

    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> RetryOverride? {
        guard let fields = reader.fields(node, allowed: UpstreamRetryConfig.routeKeys) else { return nil }
        return RetryOverride(
            values: UpstreamRetryConfig.decode(fields, reader),
            keys: Set(UpstreamRetryConfig.routeKeys.filter { fields[$0] != nil }))
    }
}

/// Whether a failed try of a request is tried again, and after how long (SPEC §2
/// `retries`). Pure: the proxy asks it after each failed try; the retry budget (how
/// many retries may run at once) is `UpstreamCircuit`'s.
public struct RetryPolicy: Sendable, Equatable {
    /// How a try failed, as far as retrying is concerned.
    public enum Failure: Sendable, Equatable {
        /// No connection: the request never reached the upstream.
        case connectFailure
        /// The connection broke (or the upstream sent an unreadable response) before a
        /// response head.
        case reset
        /// No response head within the try's timeout.
        case timeout
        /// A response head with this status (not yet sent to the client).
        case status(Int)

        var condition: RetryCondition {
            switch self {
            case .connectFailure: .connectFailure
            case .reset: .reset
            case .timeout: .timeout
            case .status(let status): .status(status)
            }
        }
    }

    public let config: UpstreamRetryConfig

    public init(_ config: UpstreamRetryConfig) {
        self.config = config
    }

    /// Whether a request whose try `retriesDone + 1` failed with `failure` may be tried
    /// again (the budget aside).
    /// - Parameters:
    ///   - method: the method sent upstream.
    ///   - bodyReplayable: the request body (if any) is still at hand to send again.
    public func allowsRetry(after failure: Failure, method: String, retriesDone: Int, bodyReplayable: Bool) -> Bool {
        guard retriesDone < config.attempts, config.retryOn.contains(failure.condition) else { return false }
        // A refused connection carried nothing: the request can always go elsewhere.
        if failure == .connectFailure { return true }
        guard bodyReplayable else { return false }
        // The upstream may have acted on a POST or PATCH it received (RFC 9110 §9.2.2).
        return config.nonIdempotent || !RetryPolicy.isNonIdempotent(method)
    }

    /// The wait before retry number `retry` (1 for the first retry): `backoff` doubled
    /// for each earlier retry, capped at 10 × `backoff` (and at 5 s), then jittered
    /// down by up to half at random so that the retries of many requests spread out.
    /// - Parameter random: a uniformly random value (the caller's generator).
    public func backoff(beforeRetry retry: Int, random: UInt64) -> Duration {
        let base = config.backoff
        guard base > .zero else { return .zero }
        let doublings = min(max(retry - 1, 0), 10)
        let cap = min(base * 10, .seconds(5))
        let full = min(base * (1 << doublings), cap)
        // A fraction in [0.5, 1) of the full wait.
        let fraction = 0.5 + Double(random >> 11) / Double(UInt64(1) << 53) / 2
        return full * fraction
    }

    /// The read timeout of one try before its response head: `per_try_timeout`, else
    /// the upstream's read timeout.
    public func tryTimeout(read: Duration) -> Duration {
        config.perTryTimeout ?? read
    }

    static func isNonIdempotent(_ method: String) -> Bool {
        method == "POST" || method == "PATCH" || method == "CONNECT"
    }
}

/// What a watch does with each lookup's outcome: whether to report a new set, and when
/// to look again. Kept apart from timers and sockets so the policy is tested directly.
///
/// - An answer with addresses is reported when the set (address and weight; TTLs count
///   down between lookups and are ignored) differs from the last report; the next
///   lookup comes when its smallest TTL passes, clamped to `ttlRange`.
/// - A failure (timeout, SERVFAIL, a broken answer) reports nothing and keeps the last
///   set; the lookup is tried again after `retryDelay`. A flaky DNS server therefore
///   never empties an upstream.
/// - An authoritative "nothing" (NXDOMAIN, or a name without records) replaces a
///   non-empty set only when the next lookup, `retryDelay` later, says the same, so a
///   record being replaced in a zone does not drain the upstream for a moment. The very
///   first outcome of a watch is reported even when empty, so the caller knows the name
///   has been looked up. Empty names are looked at again every `retryDelay`.
struct DNSWatchState {
    enum Outcome {
        case answer([ResolvedAddress])
        /// NXDOMAIN.
        case absent
        case failure
    }

    struct Decision: Equatable {
        /// The new set, sorted by host and port, when it is to be reported.
        var report: [ResolvedAddress]?
        var nextLookup: Duration
    }

    static let ttlRange: ClosedRange<Duration> = .seconds(1) ... .seconds(300)

    let retryDelay: Duration
    private var reported: Set<Target>?
    private var emptySeenOnce = false

    private struct Target: Hashable {
        let host: String
        let port: Int
        let weight: Int
    }

    init(retryDelay: Duration) {
        self.retryDelay = retryDelay
    }

    mutating func resolved(_ outcome: Outcome) -> Decision {
        switch outcome {
        case .failure:
            return Decision(report: nil, nextLookup: retryDelay)
        case .absent:
            return empty()
        case .answer(let addresses) where addresses.isEmpty:
            return empty()
        case .answer(let addresses):
            emptySeenOnce = false
            let smallestTTL = addresses.map(\.ttl).min()!
            let next = min(max(smallestTTL, Self.ttlRange.lowerBound), Self.ttlRange.upperBound)
            let targets = Set(addresses.map { Target(host: $0.host, port: $0.port, weight: $0.weight) })
            guard targets != reported else { return Decision(report: nil, nextLookup: next) }
            reported = targets
            return Decision(report: addresses.sorted { ($0.host, $0.port) < ($1.host, $1.port) }, nextLookup: next)
        }
    }

    private mutating func empty() -> Decision {
        if reported?.isEmpty == true { return Decision(report: nil, nextLookup: retryDelay) }
        if reported != nil && !emptySeenOnce {
            emptySeenOnce = true
            return Decision(report: nil, nextLookup: retryDelay)
        }
        emptySeenOnce = false
        reported = []
        return Decision(report: [], nextLookup: retryDelay)
    }
}

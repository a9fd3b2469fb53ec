/// The compiled form of the routes: one `RouteHostBucket` per host pattern, and for
/// every host the router can see, the buckets that apply to it, precomputed.
///
/// A request's host selects a bucket chain with one lookup for a configured exact host,
/// or a walk over the host's label suffixes, longest first, for wildcards; the longest
/// matching wildcard's chain already lists the shorter wildcards and the any-host
/// bucket, so resolving a host allocates nothing.
struct RouteTable: Sendable {
    /// Namespaces of `hostChains`.
    static let exactHostNamespace = 0
    static let wildcardSuffixNamespace = 1

    let buckets: [RouteHostBucket]
    /// Conditions per route, indexed like the configured routes.
    let conditions: [RouteConditions]
    /// Bucket indexes, most specific first: for a configured exact host, its bucket,
    /// the wildcard buckets matching it and the any-host bucket; for a wildcard suffix,
    /// its bucket, those of shorter wildcard suffixes it ends with and the any-host bucket.
    private let chains: [[Int]]
    /// Exact host or wildcard suffix → index into `chains`.
    private let hostChains: ByteKeyTable
    private let hasWildcards: Bool
    /// For hosts that match no configured pattern: the any-host bucket, if it has routes.
    private let anyHostChain: [Int]

    init(
        buckets: [RouteHostBucket], conditions: [RouteConditions], chains: [[Int]], hostChains: ByteKeyTable,
        hasWildcards: Bool, anyHostChain: [Int]
    ) {
        self.buckets = buckets
        self.conditions = conditions
        self.chains = chains
        self.hostChains = hostChains
        self.hasWildcards = hasWildcards
        self.anyHostChain = anyHostChain
    }

    /// Indexes into `buckets` of the buckets that apply to `host` (UTF-8 of a
    /// normalised host), most specific first.
    func bucketChain(for host: UnsafeBufferPointer<UInt8>) -> [Int] {
        if let chain = hostChains.value(namespace: RouteTable.exactHostNamespace, key: host) { return chains[chain] }
        if hasWildcards, let chain = RouteTable.longestWildcardChain(for: host, in: hostChains) { return chains[chain] }
        return anyHostChain
    }

    /// The chain index of the longest wildcard suffix of `host` that has one, trying
    /// only suffixes that leave at least one label in front (`*.example.org` does not
    /// match `example.org`).
    static func longestWildcardChain(for host: UnsafeBufferPointer<UInt8>, in hostChains: ByteKeyTable) -> Int? {
        for dot in host.indices.dropFirst() where host[dot] == UInt8(ascii: ".") {
            let suffix = UnsafeBufferPointer(rebasing: host[(dot + 1)...])
            if let chain = hostChains.value(namespace: wildcardSuffixNamespace, key: suffix) { return chain }
        }
        return nil
    }
}

/// Compiles `RouteSpec`s into a `RouteTable`: validates and normalises every host and
/// path pattern, compiles regexes, and files each (host, path) pair of a route into the
/// bucket of its host pattern.
struct RouteTableBuilder {
    /// Bucket 0 holds the routes without hosts.
    private var buckets = [RouteHostBucket(hostSpecificity: RoutePrecedence.anyHost)]
    private var exactHostBuckets: [String: Int] = [:]
    private var wildcardBuckets: [String: Int] = [:]
    private var conditions: [RouteConditions] = []
    private var regexCount = 0

    /// A path of a route, checked and normalised.
    private enum CompiledPath {
        case exact(String)
        case prefix(String)
        case regex(RoutePathRegex, listingPosition: Int)
    }

    /// Adds the route at position `index`; routes must be added in configuration order.
    mutating func add(_ route: RouteSpec, at index: Int) throws(RouterBuildError) {
        precondition(index == conditions.count, "routes must be added in configuration order")
        let paths = try compilePaths(of: route, at: index)
        let bucketIndexes = try bucketIndexes(for: route, at: index)
        let routeConditions = RouteConditions(methods: route.methods, headers: route.headers)
        conditions.append(routeConditions)
        let entry = RouteEntry(routeIndex: index, hasConditions: !routeConditions.isEmpty)
        for bucket in bucketIndexes {
            if paths.isEmpty { buckets[bucket].addWithoutPaths(entry: entry) }
            for path in paths {
                switch path {
                case .exact(let exactPath): buckets[bucket].add(exactPath: exactPath, entry: entry)
                case .prefix(let prefix): buckets[bucket].add(prefix: prefix, entry: entry)
                case .regex(let regex, let position):
                    buckets[bucket].add(regex: regex, listingPosition: position, entry: entry)
                }
            }
        }
    }

    /// The table, with every bucket's lists sorted and every host's bucket chain computed.
    consuming func build() -> RouteTable {
        for index in buckets.indices { buckets[index].sortEntries() }
        let anyHostChain = buckets[0].isEmpty ? [] : [0]
        var chains: [[Int]] = []
        var hostChains = ByteKeyTable()
        for (suffix, bucket) in wildcardBuckets {
            // `*.example.org` also applies wherever the longer `*.eu.example.org` does.
            let shorter = Self.labelSuffixes(of: suffix).compactMap { wildcardBuckets[String($0)] }
            _ = hostChains.value(namespace: RouteTable.wildcardSuffixNamespace, key: suffix.utf8, orInsert: chains.count)
            chains.append([bucket] + shorter + anyHostChain)
        }
        for (host, bucket) in exactHostBuckets {
            let wildcardChain = Array(host.utf8).withUnsafeBufferPointer {
                RouteTable.longestWildcardChain(for: $0, in: hostChains)
            }
            let wildcards = wildcardChain.map { chains[$0] } ?? anyHostChain
            _ = hostChains.value(namespace: RouteTable.exactHostNamespace, key: host.utf8, orInsert: chains.count)
            chains.append([bucket] + wildcards)
        }
        return RouteTable(
            buckets: buckets, conditions: conditions, chains: chains, hostChains: hostChains,
            hasWildcards: !wildcardBuckets.isEmpty, anyHostChain: anyHostChain)
    }

    /// `b.example.org`, `example.org`, `org` for `a.b.example.org`: longest first.
    private static func labelSuffixes(of host: String) -> [Substring] {
        host.utf8.indices.filter { host.utf8[$0] == UInt8(ascii: ".") }.map { host[host.utf8.index(after: $0)...] }
    }

    private mutating func compilePaths(of route: RouteSpec, at index: Int) throws(RouterBuildError) -> [CompiledPath] {
        var compiled: [CompiledPath] = []
        for (pathIndex, text) in route.paths.enumerated() {
            func failure(_ reason: String) -> RouterBuildError {
                RouterBuildError(
                    routeIndex: index, routeName: route.name, field: "match.paths[\(pathIndex)]", value: text,
                    reason: reason)
            }
            // `PathPattern.parse` would compile a regex only to validate it and drop the
            // result; Swift's regex parser takes about 0.1 ms per pattern, so regexes are
            // compiled once, here, following the same grammar.
            if text.hasPrefix("~") {
                let source = String(text.dropFirst())
                guard !source.isEmpty else { throw failure("empty regular expression after '~'") }
                do {
                    compiled.append(.regex(try RoutePathRegex(source: source), listingPosition: regexCount))
                } catch {
                    throw failure("invalid regular expression '\(source)': \(error)")
                }
                regexCount += 1
                continue
            }
            switch PathPattern.parse(text) {
            case .failure(let error):
                throw failure(error.message)
            case .success(.exact(let path)):
                guard let normalised = PathNormalizer.normalize(path) else { throw failure(Self.invalidPathReason) }
                compiled.append(.exact(normalised))
            case .success(.prefix(let path)):
                guard let normalised = PathNormalizer.normalize(path) else { throw failure(Self.invalidPathReason) }
                compiled.append(.prefix(normalised))
            case .success(.regex):
                preconditionFailure("regex paths are handled above")
            }
        }
        return compiled
    }

    private static let invalidPathReason =
        "not a valid path: control characters or a '%' not followed by two hex digits can never match a request"

    /// The buckets of the route's host patterns (creating them), or the any-host bucket.
    private mutating func bucketIndexes(for route: RouteSpec, at index: Int) throws(RouterBuildError) -> [Int] {
        guard !route.hosts.isEmpty else { return [0] }
        var indexes: [Int] = []
        for (hostIndex, text) in route.hosts.enumerated() {
            switch RouteHostPattern.parse(text) {
            case .failure(let error):
                throw RouterBuildError(
                    routeIndex: index, routeName: route.name, field: "match.hosts[\(hostIndex)]", value: text,
                    reason: error.reason)
            case .success(let pattern):
                let bucket = bucket(for: pattern)
                if !indexes.contains(bucket) { indexes.append(bucket) }
            }
        }
        return indexes
    }

    /// The bucket of a host pattern, created on first use.
    private mutating func bucket(for pattern: RouteHostPattern) -> Int {
        switch pattern {
        case .exact(let host):
            if let existing = exactHostBuckets[host] { return existing }
            exactHostBuckets[host] = buckets.count
            buckets.append(RouteHostBucket(hostSpecificity: RoutePrecedence.exactHost))
        case .wildcard(let suffix):
            if let existing = wildcardBuckets[suffix] { return existing }
            wildcardBuckets[suffix] = buckets.count
            buckets.append(RouteHostBucket(hostSpecificity: RoutePrecedence.wildcardHost(suffix: suffix)))
        }
        return buckets.count - 1
    }
}

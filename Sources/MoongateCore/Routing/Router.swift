/// Selects the route for a request (SPEC §2). Built once per configuration, then
/// shared read-only by every event loop.
///
/// A route matches when each of its conditions that is configured holds:
/// - hosts: the request's host equals an exact host, or ends with `.suffix` for a
///   wildcard `*.suffix` (one or more labels: `*.example.org` matches `a.example.org`
///   and `a.b.example.org`, not `example.org`);
/// - paths: one of them matches: a prefix element-wise (`/orders` matches `/orders`,
///   `/orders/` and `/orders/1`, not `/ordersx`; `/orders/` matches `/orders/` and
///   `/orders/1`, not `/orders`; `/` matches every path), `=/x` only `/x`, `~re` when
///   the regex finds a match anywhere in the path (use anchors for the whole path);
///   paths compare case-sensitively;
/// - methods: the request's method is one of them;
/// - headers: every configured header has exactly the configured value.
///
/// When several routes match, the winner follows `RoutePrecedence`: path kind (exact >
/// regex in listing order > longest prefix > no paths), then host (exact > longer
/// wildcard > shorter wildcard > no hosts), then routes with methods or headers, then
/// configuration order. Path kind is compared before host, so `=/health` on any host
/// beats `/` on `api.example.com`.
///
/// The routes are compiled into a `RouteTable`: per host pattern, exact paths in a
/// hash table, prefixes in a segment trie and regexes in listing order. A lookup
/// visits only the buckets that apply to the request's host, in three rounds: exact
/// paths, then regexes, then prefixes and routes without paths. Every candidate of a
/// round outranks every candidate of the later ones, so a round runs only when the
/// earlier ones found nothing, and a request won by an exact path never runs a regex.
/// Within a round, method and header conditions are checked in precedence order,
/// falling back to the next candidate when they fail.
public final class Router: Sendable {
    private let table: RouteTable

    /// Compiles `routes`; fails on the first route with an invalid host or path, naming
    /// its index, name and the field at fault.
    public init(routes: [RouteSpec]) throws(RouterBuildError) {
        var builder = RouteTableBuilder()
        for (index, route) in routes.enumerated() {
            try builder.add(route, at: index)
        }
        table = builder.build()
    }

    /// The winning route for a request, or `nil` (404).
    /// - Parameters:
    ///   - host: normalised by `HostNormalizer`.
    ///   - path: normalised by `PathNormalizer`.
    ///   - method: the request method, compared case-sensitively with the configured ones.
    ///   - header: the request's value of a header, given its lowercase name.
    public func match(host: String, path: String, method: String, header: (String) -> String?) -> RouteMatch? {
        var hostStorage = host
        var pathStorage = path
        return hostStorage.withUTF8 { hostBytes in
            pathStorage.withUTF8 { pathBytes in
                match(host: hostBytes, path: path, pathBytes: pathBytes, method: method, header: header)
            }
        }
    }

    /// `match` on the UTF-8 of host and path, which the lookup tables hash in place;
    /// regexes take the `String`.
    private func match(
        host: UnsafeBufferPointer<UInt8>, path: String, pathBytes: UnsafeBufferPointer<UInt8>, method: String,
        header: (String) -> String?
    ) -> RouteMatch? {
        let chain = table.bucketChain(for: host)
        let buckets = table.buckets
        var selection = RouteCandidateSelection()
        for index in chain {
            guard let entries = buckets[index].routes(forExactPath: pathBytes) else { continue }
            selection.offer(
                entries, pathKind: .exact, pathRank: 0, hostSpecificity: buckets[index].hostSpecificity,
                matchedPrefix: nil, conditions: table.conditions, method: method, header: header)
        }
        if let match = selection.match { return match }
        if let match = firstMatchingRegex(in: chain, path: path, pathBytes: pathBytes, method: method, header: header) {
            return match
        }
        for index in chain {
            let hostSpecificity = buckets[index].hostSpecificity
            buckets[index].prefixes.forEachMatch(in: pathBytes) { entries, prefix in
                selection.offer(
                    entries, pathKind: .prefix, pathRank: prefix.utf8.count, hostSpecificity: hostSpecificity,
                    matchedPrefix: prefix, conditions: table.conditions, method: method, header: header)
            }
            selection.offer(
                buckets[index].routesWithoutPaths, pathKind: .none, pathRank: 0, hostSpecificity: hostSpecificity,
                matchedPrefix: nil, conditions: table.conditions, method: method, header: header)
        }
        return selection.match
    }

    /// The first-listed regex route, across the chain's buckets, whose conditions pass
    /// and whose regex matches. Conditions are checked first because they are cheaper,
    /// and each bucket stops at the first listing position that cannot win any more.
    private func firstMatchingRegex(
        in chain: [Int], path: String, pathBytes: UnsafeBufferPointer<UInt8>, method: String,
        header: (String) -> String?
    ) -> RouteMatch? {
        var winner: (listingPosition: Int, routeIndex: Int)?
        let pathWord = RegexLiteralPrefilter.Head.PathWord(pathBytes)
        for index in chain {
            let regexes = table.buckets[index].regexes
            for candidate in regexes.indices {
                if let winner, regexes[candidate].listingPosition >= winner.listingPosition { break }
                guard regexes[candidate].head.admits(pathWord) else { continue }
                let entry = regexes[candidate].entry
                guard !entry.hasConditions || table.conditions[entry.routeIndex].accept(method: method, header: header),
                    regexes[candidate].regex.matches(path, utf8: pathBytes)
                else { continue }
                winner = (regexes[candidate].listingPosition, entry.routeIndex)
                break
            }
        }
        return winner.map { RouteMatch(routeIndex: $0.routeIndex, matchedPrefix: nil) }
    }
}

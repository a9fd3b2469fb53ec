/// The best route found so far while `Router.match` merges the candidates of the
/// buckets that apply to a request's host (exact host, wildcards, any host).
///
/// Candidates arrive in lists whose entries share path and host precedence, best first;
/// the first entry whose conditions pass is the best of its list, and an entry that
/// fails its method or header conditions falls back to the next one.
struct RouteCandidateSelection {
    private var precedence: RoutePrecedence?
    private(set) var match: RouteMatch?

    mutating func offer(
        _ entries: [RouteEntry], pathKind: RoutePrecedence.PathKind, pathRank: Int, hostSpecificity: Int,
        matchedPrefix: String?, conditions: [RouteConditions], method: String, header: (String) -> String?
    ) {
        for entry in entries {
            let candidate = RoutePrecedence(
                pathKind: pathKind, pathRank: pathRank, hostSpecificity: hostSpecificity,
                hasConditions: entry.hasConditions, routeIndex: entry.routeIndex)
            // The rest of the list ranks lower still.
            if let precedence, candidate <= precedence { return }
            if !entry.hasConditions || conditions[entry.routeIndex].accept(method: method, header: header) {
                precedence = candidate
                match = RouteMatch(routeIndex: entry.routeIndex, matchedPrefix: matchedPrefix)
                return
            }
        }
    }
}

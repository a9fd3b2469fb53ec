/// One route as stored in a lookup list of the router (an exact path's routes, a
/// prefix's routes, a host's routes without paths).
///
/// Entries of one list share path kind, path rank and host, so `RoutePrecedence`
/// orders them by conditions and config order alone; lists are kept in that order
/// (best first) so that a lookup can stop at the first entry whose conditions pass.
/// `<` means "ranks higher", so `sort()` puts the best first.
struct RouteEntry: Sendable, Comparable {
    let routeIndex: Int
    let hasConditions: Bool

    static func < (lhs: RouteEntry, rhs: RouteEntry) -> Bool {
        if lhs.hasConditions != rhs.hasConditions { return lhs.hasConditions }
        return lhs.routeIndex < rhs.routeIndex
    }
}

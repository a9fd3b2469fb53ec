/// How strongly a candidate route matches a request, as one comparable value: when
/// several routes match, the greatest wins. This is SPEC §2's precedence, compared
/// field by field in this order:
///
/// 1. Path kind: an exact path beats a regex, a regex beats a prefix, a prefix beats a
///    route without paths. Within regexes the one listed first in the configuration
///    wins (a regex says nothing about how specific it is, so listing order is the only
///    intent the user can express); within prefixes the longest wins.
/// 2. Host specificity: an exact host beats a wildcard, a longer wildcard suffix beats
///    a shorter one (`*.eu.example.org` over `*.example.org`), and a wildcard beats a
///    route without hosts.
/// 3. A route with method or header conditions beats one without: it was written for
///    a narrower set of requests.
/// 4. The route listed earlier in the configuration wins.
///
/// Path kind comes before host on purpose: `=/health` on any host beats `/` on
/// `api.example.com`, as in Kong and APISIX.
struct RoutePrecedence: Comparable {
    enum PathKind: Int {
        case none = 0
        case prefix = 1
        case regex = 2
        case exact = 3
    }

    /// Host specificity of a route without hosts.
    static let anyHost = 0
    /// Host specificity of an exact host; wildcards rank between `anyHost` and this.
    static let exactHost = Int.max

    /// Host specificity of a wildcard `*.suffix`: longer suffixes are more specific.
    static func wildcardHost(suffix: String) -> Int {
        1 + suffix.utf8.count
    }

    var pathKind: PathKind
    /// Rank within `pathKind`: the prefix's length in bytes, or the negated listing
    /// position of a regex (first listed is greatest); 0 for the other kinds.
    var pathRank: Int
    var hostSpecificity: Int
    var hasConditions: Bool
    var routeIndex: Int

    static func < (lhs: RoutePrecedence, rhs: RoutePrecedence) -> Bool {
        if lhs.pathKind != rhs.pathKind { return lhs.pathKind.rawValue < rhs.pathKind.rawValue }
        if lhs.pathRank != rhs.pathRank { return lhs.pathRank < rhs.pathRank }
        if lhs.hostSpecificity != rhs.hostSpecificity { return lhs.hostSpecificity < rhs.hostSpecificity }
        if lhs.hasConditions != rhs.hasConditions { return !lhs.hasConditions }
        return lhs.routeIndex > rhs.routeIndex
    }
}

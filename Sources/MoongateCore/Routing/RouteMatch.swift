/// The route a request selected.
public struct RouteMatch: Sendable, Equatable {
    /// Index into the `[RouteSpec]` the router was built from (and so into
    /// `RuntimeConfig.routes`).
    public let routeIndex: Int
    /// The configured prefix that matched, in normalised form (`/orders` or `/orders/`),
    /// which `strip_prefix` removes; `nil` when an exact path, a regex or a route
    /// without paths matched, since there is no prefix to strip then.
    public let matchedPrefix: String?

    public init(routeIndex: Int, matchedPrefix: String?) {
        self.routeIndex = routeIndex
        self.matchedPrefix = matchedPrefix
    }
}

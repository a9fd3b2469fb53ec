/// A route the router cannot compile: an invalid path (bad regex, malformed
/// percent-encoding) or host pattern. Names the route by index and name, the field and
/// the value at fault, and what is wrong, so the message can be shown as it is.
public struct RouterBuildError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Position of the route in the list the router was built from.
    public let routeIndex: Int
    public let routeName: String
    /// Field path inside the route, e.g. `match.paths[1]`.
    public let field: String
    /// The configured value, as written.
    public let value: String
    /// What is wrong and what was expected.
    public let reason: String

    public init(routeIndex: Int, routeName: String, field: String, value: String, reason: String) {
        self.routeIndex = routeIndex
        self.routeName = routeName
        self.field = field
        self.value = value
        self.reason = reason
    }

    public var description: String {
        "routes[\(routeIndex)] (\(routeName)): \(field) '\(value)': \(reason)"
    }
}

/// The unit of isolation on reload (SPEC §2 "Validation and reloads"): each object is
/// accepted or rejected as a whole, and a rejected one keeps its last good version.
/// Issues name their object so logs, `moongate check` and the admin API can say which
/// route or upstream is not being served as written.
public struct ConfigObject: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The document as a whole: YAML syntax and the top-level layout. Its problems
        /// are `ConfigLoadError`s, which apply nothing.
        case document
        case proxy
        case admin
        case scripts
        case plugin
        case consumer
        case upstream
        case route
    }

    public var kind: Kind
    /// The object's name (`name:` or a consumer's `username:`); nil for the singleton
    /// sections and for entries whose name could not be read.
    public var name: String?

    public init(kind: Kind, name: String? = nil) {
        self.kind = kind
        self.name = name
    }

    public static let document = ConfigObject(kind: .document)
    public static let proxy = ConfigObject(kind: .proxy)
    public static let admin = ConfigObject(kind: .admin)
    public static let scripts = ConfigObject(kind: .scripts)

    public static func route(_ name: String?) -> ConfigObject { ConfigObject(kind: .route, name: name) }
    public static func upstream(_ name: String?) -> ConfigObject { ConfigObject(kind: .upstream, name: name) }

    /// "route orders-api", "upstream orders", "proxy", "route (unnamed)".
    public var description: String {
        switch (kind, name) {
        case (.document, _), (.proxy, _), (.admin, _), (.scripts, _): kind.rawValue
        case (_, let name?): "\(kind.rawValue) \(name)"
        case (_, nil): "\(kind.rawValue) (unnamed)"
        }
    }
}

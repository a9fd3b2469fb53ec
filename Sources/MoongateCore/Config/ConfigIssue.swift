/// One problem in a configuration document, located and worded so a person can fix it
/// without searching (STYLE #5): `moongate check` prints `description`, reloads log it
/// and the admin API lists its fields.
public struct ConfigIssue: Error, Sendable, Hashable, CustomStringConvertible {
    /// The object rejected because of this problem.
    public var object: ConfigObject
    public var file: String
    public var line: Int?
    /// e.g. `routes[1].match.paths[0]`; "" for the document root.
    public var path: String
    /// What was expected and what was found.
    public var message: String

    public init(object: ConfigObject, source: ConfigSource, message: String) {
        self.object = object
        self.file = source.file
        self.line = source.line
        self.path = source.path
        self.message = message
    }

    public var source: ConfigSource { ConfigSource(file: file, line: line, path: path) }

    /// `FILE:LINE: PATH: MESSAGE` (SPEC §1), leaving out the parts that are unknown.
    public var description: String { "\(source.prefix): \(message)" }
}

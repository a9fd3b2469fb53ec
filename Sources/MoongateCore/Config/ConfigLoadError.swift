/// A document that cannot be read as a Moongate configuration at all: the file is
/// unreadable, the YAML does not parse, or the top-level layout is wrong (an unknown
/// section, `routes` that is not a list). Nothing of such a document applies, because
/// no object in it can be told apart reliably (SPEC §2: a reload whose document does
/// not parse changes nothing).
public struct ConfigLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// At least one; all belong to `ConfigObject.document`.
    public var issues: [ConfigIssue]

    public init(issues: [ConfigIssue]) {
        precondition(!issues.isEmpty, "a load error describes at least one problem")
        self.issues = issues
    }

    init(_ source: ConfigSource, _ message: String) {
        self.init(issues: [ConfigIssue(object: .document, source: source, message: message)])
    }

    /// One `FILE:LINE: PATH: MESSAGE` line per problem.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

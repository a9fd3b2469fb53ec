/// Everything wrong with one plugin instance's config, all reported together so an
/// operator fixes a config in one pass instead of one error per reload.
public struct PluginConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// `plugin.field.path` of the offending value (`key-auth.key_names[2]`).
        public let path: String
        public let message: String

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }

        public var description: String { "\(path): \(message)" }
    }

    /// In a stable order: fields by name, array elements by position.
    public let problems: [Problem]

    public init(problems: [Problem]) {
        self.problems = problems
    }

    /// One `path: message` line per problem.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

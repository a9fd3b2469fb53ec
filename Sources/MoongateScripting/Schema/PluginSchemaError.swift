/// A mistake in a plugin's own `schema` table, found when the plugin loads: the plugin
/// author has to fix the script, not the gateway operator the config.
public struct PluginSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `plugin.field.path` of the faulty definition (`key-auth.key_names.elements`).
    public let path: String
    /// What is wrong and what was expected.
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): invalid schema: \(message)" }
}

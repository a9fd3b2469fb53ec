/// A loaded plugin: what its file's table declares (SPEC §3).
public struct PluginDefinition: Sendable {
    public let name: String
    public let version: String
    /// Higher runs first; equal priorities run by name.
    public let priority: Int
    /// Errors and limit aborts of its hooks are logged and skipped instead of failing the request.
    public let failOpen: Bool
    public let phases: Set<PluginPhase>
    public let schema: PluginSchema
    /// The file it came from, as shown in messages.
    public let path: String

    /// Run order: priority descending, then name ascending.
    static func runsBefore(_ lhs: PluginDefinition, _ rhs: PluginDefinition) -> Bool {
        lhs.priority != rhs.priority ? lhs.priority > rhs.priority : lhs.name < rhs.name
    }
}

/// A plugin instance (SPEC §3): a plugin name and its configuration, global (top-level
/// `plugins:`), per upstream or per route. The configuration is kept as written; the
/// plugin's schema validates it when scripts load, since only the plugin knows it.
public struct PluginInstanceConfig: Sendable, Equatable {
    public var name: String
    public var config: [String: ConfigValue]
    /// A disabled instance still overrides a less specific one of the same name, which
    /// is how a route opts out of a global plugin.
    public var enabled: Bool

    public init(name: String, config: [String: ConfigValue] = [:], enabled: Bool = true) {
        self.name = name
        self.config = config
        self.enabled = enabled
    }
}

extension PluginInstanceConfig {
    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> PluginInstanceConfig? {
        guard let fields = reader.fields(node, allowed: ["name", "config", "enabled"]) else { return nil }
        let name = reader.pluginName(
            reader.required(fields, "name", "a plugin instance names its plugin (the Lua file without '.lua')"))
        let config = reader.valueMap(fields["config"]) ?? [:]
        let enabled = reader.bool(fields["enabled"]) ?? true
        guard let name else { return nil }
        return PluginInstanceConfig(name: name, config: config, enabled: enabled)
    }

    /// The `plugins:` of a route or an upstream: one instance per plugin name, because
    /// one instance of a name applies per request (SPEC §3 "Scope").
    static func decodeList(_ node: ConfigNode?, _ reader: ConfigReader) -> [PluginInstanceConfig] {
        reader.list(node, uniqueBy: \.name) { decode($0, reader) } ?? []
    }
}

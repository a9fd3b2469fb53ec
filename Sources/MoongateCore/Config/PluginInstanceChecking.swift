/// Checks plugin instances against the plugins that are loaded: whether the plugin
/// exists and whether its `config` passes the plugin's schema. Only the scripts know
/// that, so `MoongateScripting` implements it and `ConfigCompiler` asks it, which is
/// how a route with an invalid plugin instance is rejected with it (SPEC §2: an auth
/// plugin cannot silently disappear).
public protocol PluginInstanceChecking: Sendable {
    /// The problems of `instance`, each naming `plugin.field.path`; empty when valid.
    func problems(in instance: PluginInstanceConfig) -> [String]
}

/// A free-form configuration value (a plugin instance's `config`, a consumer's
/// credentials). Moongate does not know these shapes: the plugin's schema validates
/// them when the plugin loads, so the YAML types are kept as written.
public enum ConfigValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ConfigValue])
    case map([String: ConfigValue])
}

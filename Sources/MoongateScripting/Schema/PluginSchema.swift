import LuaKit
import MoongateCore

/// The config contract a plugin declares in its `schema` table (SPEC §3 "Schema
/// types"), checked once when the plugin loads; each plugin instance's config is then
/// validated against it and normalised before any hook sees it.
///
/// Types: `string number integer boolean array map record`, with `required`,
/// `default`, `one_of` (strings and numbers), `between` (inclusive `{min, max}`,
/// numbers only), `elements` (arrays: a type name or a field definition), `values`
/// (maps with string keys: likewise) and `fields` (records; the schema itself is one).
/// A plugin without a schema takes no config: any key is an unknown field.
public struct PluginSchema: Sendable, Equatable {
    /// The plugin name that starts every field path in messages.
    public let plugin: String
    private let root: SchemaRecord

    /// Parses the `schema` value read from the plugin's table (`.nil` when it has none).
    public init(plugin: String, schema: LuaValue) throws(PluginSchemaError) {
        self.plugin = plugin
        root = try SchemaParser(plugin: plugin).parseSchema(schema)
    }

    /// Validates an instance config from YAML and returns it normalised: defaults filled
    /// in (an absent record with defaults inside becomes a record of those defaults),
    /// integral floats as integers where integers are expected. A `null` value counts as
    /// absent. A single scalar where an array is expected is an error, not a one-element
    /// array.
    public func validate(_ config: [String: ConfigValue]) -> Result<LuaValue, PluginConfigErrors> {
        validate(lua: Self.luaValue(from: .map(config)))
    }

    /// Validates a config given as a Lua or JSON value (`moongate plugin test --config`),
    /// by the same rules; `.nil` is an empty config.
    public func validate(lua value: LuaValue) -> Result<LuaValue, PluginConfigErrors> {
        var validator = ConfigValidator()
        let normalised = validator.checkRecord(value == .nil ? .map([:]) : value, root, at: plugin)
        if let normalised, validator.problems.isEmpty { return .success(normalised) }
        return .failure(PluginConfigErrors(problems: validator.problems))
    }

    /// YAML values as Lua will see them. Nulls inside maps are dropped (a Lua table
    /// cannot hold nil); a null list element stays, to be reported at its position.
    private static func luaValue(from config: ConfigValue) -> LuaValue {
        switch config {
        case .null: .nil
        case .bool(let value): .boolean(value)
        case .int(let value): .integer(Int64(value))
        case .double(let value): .number(value)
        case .string(let value): .string(value)
        case .list(let elements): .array(elements.map(luaValue(from:)))
        case .map(let entries):
            .map(
                Dictionary(
                    uniqueKeysWithValues: entries.compactMap { key, value in
                        value == .null ? nil : (LuaValue.string(key), luaValue(from: value))
                    }
                )
            )
        }
    }
}

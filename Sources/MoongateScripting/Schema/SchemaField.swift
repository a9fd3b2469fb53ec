import LuaKit

/// One field of a plugin schema, parsed and checked once when the plugin loads so that
/// validating each instance config is a plain walk with no schema errors left to find.
struct SchemaField: Sendable, Equatable {
    var type: SchemaType
    var required: Bool = false
    /// Already validated against this field and normalised (record defaults filled in).
    var defaultValue: LuaValue?
    /// Allowed values (strings, numbers and integers only).
    var oneOf: [LuaValue]?
    /// Inclusive bounds (numbers and integers only).
    var between: NumericRange?
}

/// The value types a schema field can declare (SPEC §3 "Schema types").
indirect enum SchemaType: Sendable, Equatable {
    case string
    case number
    case integer
    case boolean
    case array(elements: SchemaField)
    case map(values: SchemaField)
    case record(SchemaRecord)

    /// The names plugin authors write in `type = "..."`.
    static let names = ["string", "number", "integer", "boolean", "array", "map", "record"]

    var name: String {
        switch self {
        case .string: "string"
        case .number: "number"
        case .integer: "integer"
        case .boolean: "boolean"
        case .array: "array"
        case .map: "map"
        case .record: "record"
        }
    }

    /// The name with its article, for "expected an integer" messages.
    var description: String {
        switch self {
        case .integer, .array: "an \(name)"
        default: "a \(name)"
        }
    }
}

/// A record's fields. The top level of every plugin schema is a record.
struct SchemaRecord: Sendable, Equatable {
    let fields: [String: SchemaField]
    /// Field names in a stable order, so problems are reported in the same order each run.
    let fieldNames: [String]
    /// Whether some field, at any depth of nested records, has a default. An absent
    /// record with defaults inside is built from them (as Kong does), so a plugin can
    /// read `conf.policy.window` without checking `conf.policy` first.
    let hasDefaults: Bool

    init(fields: [String: SchemaField]) {
        self.fields = fields
        fieldNames = fields.keys.sorted()
        hasDefaults = fields.values.contains { field in
            if field.defaultValue != nil { return true }
            if case .record(let record) = field.type { return record.hasDefaults }
            return false
        }
    }
}

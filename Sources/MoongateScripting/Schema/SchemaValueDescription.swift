import LuaKit

/// How values are named in schema and config messages ("found a string", `"foo"`), the
/// same for a YAML config, a JSON config and a table from Lua.
enum SchemaValueDescription {
    /// The kind of a value with its article: "a string", "an array", "null".
    static func kind(of value: LuaValue) -> String {
        switch value {
        case .nil: "null"
        case .boolean: "a boolean"
        case .integer: "an integer"
        case .number(let number) where number.isNaN: "NaN"
        case .number: "a number"
        case .string: "a string"
        case .array(let elements) where elements.isEmpty: "an empty table"
        case .array: "an array"
        case .map: "a map"
        case .other(let typeName): "a \(typeName)"
        }
    }

    /// A scalar as a person would write it: `"consumer"`, `42`, `1.5`, `true`; tables by kind.
    static func literal(_ value: LuaValue) -> String {
        switch value {
        case .string(let bytes):
            let text = String(decoding: bytes.prefix(longestQuotedString), as: UTF8.self)
            return "\"\(text)\(bytes.count > longestQuotedString ? "…" : "")\""
        case .integer(let integer):
            return String(integer)
        case .number(let number):
            // Lua writes 1e9 as a float; show integral floats the way they were most likely written.
            if let integer = Int64(exactly: number), abs(number) < 1e15 { return String(integer) }
            return String(number)
        case .boolean(let bool):
            return String(bool)
        default:
            return kind(of: value)
        }
    }

    /// Long strings (a pasted certificate) are cut so messages stay one readable line.
    private static let longestQuotedString = 60
}

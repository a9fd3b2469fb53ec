import LuaKit

/// Reads the `schema` table a plugin returns into `SchemaField`s, refusing anything it
/// does not understand: a misspelt `requird = true` silently ignored would make a
/// field optional that the author meant to be mandatory.
///
/// Fields come as a map (`fields = { name = { type = "string" } }`) or, as Kong writes
/// them, as a list of one-entry tables (`fields = { { name = { type = "string" } } }`).
struct SchemaParser {
    let plugin: String

    /// Where a field definition sits, which decides the keys it may use.
    private enum Role {
        /// A named field of a record: may be `required` and have a `default`.
        case field
        /// `elements` of an array or `values` of a map: may also be a bare type name.
        case member(String)
    }

    private static let fieldKeys = ["type", "required", "default", "one_of", "between", "elements", "fields", "values"]

    /// The top-level record of the plugin's schema; `nil` (no schema) has no fields.
    func parseSchema(_ schema: LuaValue) throws(PluginSchemaError) -> SchemaRecord {
        switch schema {
        case .nil:
            return SchemaRecord(fields: [:])
        case .array(let elements) where elements.isEmpty:
            return SchemaRecord(fields: [:])
        case .map(let entries):
            for key in entries.keys where key != .string("fields") {
                throw PluginSchemaError(
                    path: plugin,
                    message: "unknown key \(SchemaValueDescription.literal(key)) in the schema table (expected 'fields')"
                )
            }
            return try parseRecordFields(entries[.string("fields")] ?? .map([:]), at: plugin)
        default:
            throw PluginSchemaError(
                path: plugin,
                message: "expected a schema table ({ fields = { ... } }), found \(SchemaValueDescription.kind(of: schema))"
            )
        }
    }

    private func parseRecordFields(_ value: LuaValue, at path: String) throws(PluginSchemaError) -> SchemaRecord {
        var fields: [String: SchemaField] = [:]
        for (key, definition) in try namedDefinitions(value, at: path) {
            guard case .string = key, let name = key.stringValue else {
                throw PluginSchemaError(
                    path: path, message: "field names must be strings, found \(SchemaValueDescription.literal(key))"
                )
            }
            guard fields[name] == nil else {
                throw PluginSchemaError(path: FieldPath.child(name, of: path), message: "field defined twice")
            }
            fields[name] = try parseField(definition, role: .field, at: FieldPath.child(name, of: path))
        }
        return SchemaRecord(fields: fields)
    }

    /// The (name, definition) pairs of a `fields` table in either accepted form.
    private func namedDefinitions(_ value: LuaValue, at path: String) throws(PluginSchemaError) -> [(LuaValue, LuaValue)] {
        switch value {
        case .map(let entries):
            return entries.sorted { SchemaValueDescription.literal($0.key) < SchemaValueDescription.literal($1.key) }
        case .array(let items):
            var pairs: [(LuaValue, LuaValue)] = []
            for (offset, item) in items.enumerated() {
                guard case .map(let entry) = item, entry.count == 1, let pair = entry.first else {
                    throw PluginSchemaError(
                        path: "\(path).fields[\(offset + 1)]",
                        message: "expected a one-entry table ({ name = { type = ... } }), found \(SchemaValueDescription.kind(of: item))"
                    )
                }
                pairs.append((pair.key, pair.value))
            }
            return pairs
        default:
            throw PluginSchemaError(
                path: path,
                message: "'fields' must be a table of field definitions, found \(SchemaValueDescription.kind(of: value))"
            )
        }
    }

    private func parseField(_ definition: LuaValue, role: Role, at path: String) throws(PluginSchemaError) -> SchemaField {
        let entries: [String: LuaValue]
        switch (definition, role) {
        case (.string, .member):
            entries = ["type": definition]
        case (.map(let map), _):
            entries = try definitionEntries(map, role: role, at: path)
        default:
            throw PluginSchemaError(
                path: path,
                message: "expected a field definition ({ type = ... }), found \(SchemaValueDescription.kind(of: definition))"
            )
        }

        let type = try parseType(entries, at: path)
        var field = SchemaField(type: type)
        if let required = entries["required"] {
            guard let flag = required.boolValue else {
                throw PluginSchemaError(
                    path: path, message: "'required' must be true or false, found \(SchemaValueDescription.kind(of: required))"
                )
            }
            field.required = flag
        }
        if let oneOf = entries["one_of"] { field.oneOf = try parseOneOf(oneOf, type: type, at: path) }
        if let between = entries["between"] { field.between = try parseBetween(between, type: type, at: path) }
        if let defaultValue = entries["default"] { field.defaultValue = try checkDefault(defaultValue, of: field, at: path) }
        return field
    }

    /// The definition's keys as strings, refusing unknown ones and ones the role forbids.
    private func definitionEntries(_ map: [LuaValue: LuaValue], role: Role, at path: String) throws(PluginSchemaError) -> [String: LuaValue] {
        var entries: [String: LuaValue] = [:]
        for (key, value) in map {
            guard case .string = key, let name = key.stringValue, Self.fieldKeys.contains(name) else {
                let hint = key.stringValue.map { FieldNameSuggestion.hint(for: $0, in: Self.fieldKeys) } ?? ""
                throw PluginSchemaError(
                    path: path,
                    message: "unknown key \(SchemaValueDescription.literal(key)) in a field definition\(hint) "
                        + "(expected \(Self.fieldKeys.joined(separator: ", ")))"
                )
            }
            if case .member(let member) = role, name == "required" || name == "default" {
                throw PluginSchemaError(path: path, message: "'\(name)' has no meaning in '\(member)'; put it on the field itself")
            }
            entries[name] = value
        }
        return entries
    }

    private func parseType(_ entries: [String: LuaValue], at path: String) throws(PluginSchemaError) -> SchemaType {
        let expectedNames = SchemaType.names.joined(separator: ", ")
        guard let typeValue = entries["type"] else {
            throw PluginSchemaError(path: path, message: "missing 'type' (one of \(expectedNames))")
        }
        guard let name = typeValue.stringValue, SchemaType.names.contains(name) else {
            let hint = typeValue.stringValue.map { FieldNameSuggestion.hint(for: $0, in: SchemaType.names) } ?? ""
            throw PluginSchemaError(
                path: path,
                message: "unknown type \(SchemaValueDescription.literal(typeValue))\(hint) (expected one of \(expectedNames))"
            )
        }
        let members: [(key: String, owner: String)] = [("elements", "array"), ("values", "map"), ("fields", "record")]
        for (key, owner) in members where entries[key] != nil && name != owner {
            throw PluginSchemaError(path: path, message: "'\(key)' applies only to type '\(owner)', not '\(name)'")
        }
        switch name {
        case "string": return .string
        case "number": return .number
        case "integer": return .integer
        case "boolean": return .boolean
        case "array":
            guard let elements = entries["elements"] else {
                throw PluginSchemaError(path: path, message: "an array needs 'elements' (a type name or a field definition)")
            }
            return .array(elements: try parseField(elements, role: .member("elements"), at: "\(path).elements"))
        case "map":
            guard let values = entries["values"] else {
                throw PluginSchemaError(path: path, message: "a map needs 'values' (a type name or a field definition)")
            }
            return .map(values: try parseField(values, role: .member("values"), at: "\(path).values"))
        default:
            guard let fields = entries["fields"] else {
                throw PluginSchemaError(path: path, message: "a record needs 'fields'")
            }
            return .record(try parseRecordFields(fields, at: path))
        }
    }

    private func parseOneOf(_ value: LuaValue, type: SchemaType, at path: String) throws(PluginSchemaError) -> [LuaValue] {
        switch type {
        case .string, .number, .integer: break
        default:
            throw PluginSchemaError(path: path, message: "'one_of' applies only to strings, numbers and integers, not \(type.description)")
        }
        guard case .array(let allowed) = value, !allowed.isEmpty else {
            throw PluginSchemaError(
                path: path, message: "'one_of' must be a non-empty list of values, found \(SchemaValueDescription.kind(of: value))"
            )
        }
        var validator = ConfigValidator()
        let checked = allowed.enumerated().compactMap { offset, item in
            validator.check(item, against: SchemaField(type: type), at: FieldPath.element(offset + 1, of: "one_of"))
        }
        if let problem = validator.problems.first {
            throw PluginSchemaError(path: path, message: problem.description)
        }
        return checked
    }

    private func parseBetween(_ value: LuaValue, type: SchemaType, at path: String) throws(PluginSchemaError) -> NumericRange {
        switch type {
        case .number, .integer: break
        default:
            throw PluginSchemaError(path: path, message: "'between' applies only to numbers and integers, not \(type.description)")
        }
        guard case .array(let bounds) = value, bounds.count == 2, let order = NumericOrder.compare(bounds[0], bounds[1]) else {
            throw PluginSchemaError(
                path: path, message: "'between' must be a list of two numbers { min, max }, found \(SchemaValueDescription.kind(of: value))"
            )
        }
        guard order <= 0 else {
            throw PluginSchemaError(
                path: path,
                message: "'between' minimum \(SchemaValueDescription.literal(bounds[0])) is above its maximum \(SchemaValueDescription.literal(bounds[1]))"
            )
        }
        return NumericRange(lower: bounds[0], upper: bounds[1])
    }

    /// Validates a default like any config value, so a wrong default is the author's
    /// error at load time instead of every operator's surprise at run time.
    private func checkDefault(_ value: LuaValue, of field: SchemaField, at path: String) throws(PluginSchemaError) -> LuaValue {
        var validator = ConfigValidator()
        if let checked = validator.check(value, against: field, at: "default") { return checked }
        throw PluginSchemaError(path: path, message: validator.problems.map(\.description).joined(separator: "; "))
    }
}

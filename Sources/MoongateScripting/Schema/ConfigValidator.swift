import LuaKit

/// Walks a config value against a schema field, collecting every problem rather than
/// stopping at the first, and builds the normalised value plugins receive: defaults
/// filled in, integral floats turned into integers, maps keyed by strings.
///
/// Lua cannot tell an empty array from an empty map, so an empty table is accepted
/// wherever an array, a map or a record is expected. `nil` (YAML `null`) in a record
/// or a map means the key is absent.
struct ConfigValidator {
    private(set) var problems: [PluginConfigErrors.Problem] = []

    /// The normalised value, or nil when it had problems (they are recorded).
    mutating func check(_ value: LuaValue, against field: SchemaField, at path: String) -> LuaValue? {
        guard let normalised = checkType(value, field.type, at: path) else { return nil }
        if let allowed = field.oneOf, !allowed.contains(where: { Self.isSameValue($0, normalised) }) {
            let list = allowed.map(SchemaValueDescription.literal).joined(separator: ", ")
            report(path, "expected one of: \(list); found \(SchemaValueDescription.literal(normalised))")
            return nil
        }
        if let range = field.between, !range.contains(normalised) {
            report(
                path,
                "expected a value between \(SchemaValueDescription.literal(range.lower)) and "
                    + "\(SchemaValueDescription.literal(range.upper)), found \(SchemaValueDescription.literal(normalised))"
            )
            return nil
        }
        return normalised
    }

    /// Checks a record's entries; the result is always a `.map`, nil only on problems.
    mutating func checkRecord(_ value: LuaValue, _ record: SchemaRecord, at path: String) -> LuaValue? {
        guard let entries = stringKeyedEntries(of: value, expected: "a record", at: path) else { return nil }
        let problemsBefore = problems.count
        var normalised: [LuaValue: LuaValue] = [:]
        for name in Set(entries.keys).union(record.fieldNames).sorted() {
            let fieldPath = FieldPath.child(name, of: path)
            guard let field = record.fields[name] else {
                report(fieldPath, "unknown field" + FieldNameSuggestion.hint(for: name, in: record.fieldNames))
                continue
            }
            if let value = entries[name] {
                if let checked = check(value, against: field, at: fieldPath) { normalised[.string(name)] = checked }
            } else if let defaultValue = field.defaultValue {
                normalised[.string(name)] = defaultValue
            } else if field.required {
                report(fieldPath, "required field missing")
            } else if case .record(let nested) = field.type, nested.hasDefaults {
                if let built = checkRecord(.map([:]), nested, at: fieldPath) { normalised[.string(name)] = built }
            }
        }
        return problems.count == problemsBefore ? .map(normalised) : nil
    }

    private mutating func checkType(_ value: LuaValue, _ type: SchemaType, at path: String) -> LuaValue? {
        switch (type, value) {
        case (.string, .string), (.boolean, .boolean), (.number, .integer), (.integer, .integer):
            return value
        case (.number, .number(let number)) where !number.isNaN:
            return value
        case (.integer, .number(let number)):
            if let integer = Int64(exactly: number) { return .integer(integer) }
            report(path, "expected an integer, found \(SchemaValueDescription.literal(value))")
            return nil
        case (.array(let elements), .array(let items)):
            return checkElements(items, elements, at: path)
        case (.array, .map(let entries)) where entries.isEmpty:
            return .array([])
        case (.map(let values), _):
            return checkMap(value, values, at: path)
        case (.record(let record), _):
            return checkRecord(value, record, at: path)
        default:
            report(path, "expected \(type.description), found \(SchemaValueDescription.kind(of: value))")
            return nil
        }
    }

    private mutating func checkElements(_ items: [LuaValue], _ elements: SchemaField, at path: String) -> LuaValue? {
        let problemsBefore = problems.count
        var normalised: [LuaValue] = []
        normalised.reserveCapacity(items.count)
        for (offset, item) in items.enumerated() {
            if let checked = check(item, against: elements, at: FieldPath.element(offset + 1, of: path)) {
                normalised.append(checked)
            }
        }
        return problems.count == problemsBefore ? .array(normalised) : nil
    }

    private mutating func checkMap(_ value: LuaValue, _ values: SchemaField, at path: String) -> LuaValue? {
        guard let entries = stringKeyedEntries(of: value, expected: "a map", at: path) else { return nil }
        let problemsBefore = problems.count
        var normalised: [LuaValue: LuaValue] = [:]
        for (key, entry) in entries.sorted(by: { $0.key < $1.key }) {
            if let checked = check(entry, against: values, at: FieldPath.child(key, of: path)) {
                normalised[.string(key)] = checked
            }
        }
        return problems.count == problemsBefore ? .map(normalised) : nil
    }

    /// The entries of a table whose keys must all be strings; nil entries are dropped.
    private mutating func stringKeyedEntries(of value: LuaValue, expected: String, at path: String) -> [String: LuaValue]? {
        switch value {
        case .array(let elements) where elements.isEmpty:
            return [:]
        case .map(let entries):
            var result: [String: LuaValue] = [:]
            var badKeys: [LuaValue] = []
            for (key, entry) in entries {
                guard let name = key.stringValue else {
                    badKeys.append(key)
                    continue
                }
                if entry != .nil { result[name] = entry }
            }
            if let firstBadKey = badKeys.map(SchemaValueDescription.literal).sorted().first {
                report(path, "expected \(expected) with string keys, found the key \(firstBadKey)")
                return nil
            }
            return result
        default:
            report(path, "expected \(expected), found \(SchemaValueDescription.kind(of: value))")
            return nil
        }
    }

    private mutating func report(_ path: String, _ message: String) {
        problems.append(PluginConfigErrors.Problem(path: path, message: message))
    }

    /// Equality for `one_of`: numbers compare by value, so `1` matches `1.0`.
    private static func isSameValue(_ allowed: LuaValue, _ value: LuaValue) -> Bool {
        if let order = NumericOrder.compare(allowed, value) { return order == 0 }
        return allowed == value
    }
}

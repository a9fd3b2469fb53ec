import LuaKit
import MoongateCore
import MoongateScripting
import Testing

// MARK: - Helpers

/// A schema from a `fields` table, as a plugin file would return it.
private func schema(_ plugin: String = "p", _ fields: LuaValue) throws -> PluginSchema {
    try PluginSchema(plugin: plugin, schema: ["fields": fields])
}

private func problems(_ result: Result<LuaValue, PluginConfigErrors>) -> [String] {
    guard case .failure(let errors) = result else { return [] }
    return errors.problems.map(\.description)
}

private func normalised(_ result: Result<LuaValue, PluginConfigErrors>) -> LuaValue? {
    try? result.get()
}

private func schemaError(_ plugin: String = "p", _ fields: LuaValue) -> PluginSchemaError? {
    do {
        _ = try schema(plugin, fields)
        return nil
    } catch let error as PluginSchemaError {
        return error
    } catch {
        return nil
    }
}

// MARK: - Scalar types

@Test func stringFieldAcceptsStringsOnly() throws {
    let s = try schema("correlation-id", ["header_name": ["type": "string"]])
    #expect(normalised(s.validate(["header_name": .string("X-Id")])) == ["header_name": "X-Id"])
    #expect(problems(s.validate(["header_name": .int(3)])) == ["correlation-id.header_name: expected a string, found an integer"])
}

@Test func numberFieldAcceptsIntegersAndFloats() throws {
    let s = try schema("rate-limiting", ["second": ["type": "number"]])
    #expect(normalised(s.validate(["second": .double(0.5)])) == ["second": 0.5])
    #expect(normalised(s.validate(["second": .int(5)])) == ["second": 5])
    #expect(problems(s.validate(["second": .string("5")])) == ["rate-limiting.second: expected a number, found a string"])
    #expect(problems(s.validate(["second": .double(.nan)])) == ["rate-limiting.second: expected a number, found NaN"])
}

@Test func integerFieldAcceptsIntegralFloatsAsIntegers() throws {
    let s = try schema("p", ["retries": ["type": "integer"]])
    #expect(normalised(s.validate(["retries": .int(3)])) == ["retries": .integer(3)])
    #expect(normalised(s.validate(["retries": .double(3.0)])) == ["retries": .integer(3)])
    #expect(problems(s.validate(["retries": .double(1.5)])) == ["p.retries: expected an integer, found 1.5"])
    #expect(problems(s.validate(["retries": .string("3")])) == ["p.retries: expected an integer, found a string"])
}

@Test func booleanFieldAcceptsBooleansOnly() throws {
    let s = try schema("key-auth", ["hide_credentials": ["type": "boolean"]])
    #expect(normalised(s.validate(["hide_credentials": .bool(true)])) == ["hide_credentials": true])
    #expect(
        problems(s.validate(["hide_credentials": .string("yes")]))
            == ["key-auth.hide_credentials: expected a boolean, found a string"]
    )
}

// MARK: - Arrays, maps, records

@Test func arrayElementsGivenAsTypeName() throws {
    let s = try schema("key-auth", ["key_names": ["type": "array", "elements": "string"]])
    #expect(normalised(s.validate(["key_names": .list([.string("apikey"), .string("x-key")])])) == ["key_names": ["apikey", "x-key"]])
    #expect(
        problems(s.validate(["key_names": .list([.string("apikey"), .int(7)])]))
            == ["key-auth.key_names[2]: expected a string, found an integer"]
    )
}

@Test func arrayElementsGivenAsFieldTable() throws {
    let s = try schema("p", ["codes": ["type": "array", "elements": ["type": "integer", "between": [100, 599]]]])
    #expect(normalised(s.validate(["codes": .list([.int(200), .double(404)])])) == ["codes": [200, 404]])
    #expect(problems(s.validate(["codes": .list([.int(200), .int(700)])])) == ["p.codes[2]: expected a value between 100 and 599, found 700"])
}

@Test func arrayGivenAsSingleScalarIsAnError() throws {
    let s = try schema("key-auth", ["key_names": ["type": "array", "elements": "string"]])
    #expect(problems(s.validate(["key_names": .string("apikey")])) == ["key-auth.key_names: expected an array, found a string"])
    #expect(problems(s.validate(["key_names": .map(["a": .string("b")])])) == ["key-auth.key_names: expected an array, found a map"])
}

@Test func mapValuesAreCheckedPerKey() throws {
    let s = try schema("p", ["tags": ["type": "map", "values": "string"]])
    #expect(normalised(s.validate(["tags": .map(["foo": .string("bar")])])) == ["tags": ["foo": "bar"]])
    #expect(problems(s.validate(["tags": .map(["foo": .int(1)])])) == ["p.tags.foo: expected a string, found an integer"])
    #expect(problems(s.validate(["tags": .map(["x.y": .bool(true)])])) == ["p.tags[\"x.y\"]: expected a string, found a boolean"])
    #expect(problems(s.validate(["tags": .list([.string("a")])])) == ["p.tags: expected a map, found an array"])
}

@Test func mapValuesGivenAsFieldTable() throws {
    let s = try schema("p", ["limits": ["type": "map", "values": ["type": "integer", "between": [1, 10]]]])
    #expect(normalised(s.validate(["limits": .map(["a": .int(2)])])) == ["limits": ["a": 2]])
    #expect(problems(s.validate(["limits": .map(["a": .int(20)])])) == ["p.limits.a: expected a value between 1 and 10, found 20"])
}

@Test func recordFieldsAreCheckedWithTheirPath() throws {
    let s = try schema(
        "rate-limiting",
        ["policy": ["type": "record", "fields": ["name": ["type": "string", "required": true], "window": ["type": "integer"]]]]
    )
    #expect(normalised(s.validate(["policy": .map(["name": .string("local")])])) == ["policy": ["name": "local"]])
    #expect(problems(s.validate(["policy": .map([:])])) == ["rate-limiting.policy.name: required field missing"])
    #expect(problems(s.validate(["policy": .string("local")])) == ["rate-limiting.policy: expected a record, found a string"])
    #expect(
        problems(s.validate(["policy": .map(["name": .string("x"), "windw": .int(1)])]))
            == ["rate-limiting.policy.windw: unknown field (did you mean 'window'?)"]
    )
}

@Test func absentRecordWithoutDefaultsStaysAbsent() throws {
    let s = try schema("rate-limiting", ["policy": ["type": "record", "fields": ["name": ["type": "string", "required": true]]]])
    #expect(normalised(s.validate([:])) == .map([:]))
}

// MARK: - required, default, one_of, between

@Test func requiredFieldMissingIsAnError() throws {
    let s = try schema("jwt", ["secret": ["type": "string", "required": true]])
    #expect(problems(s.validate([:])) == ["jwt.secret: required field missing"])
    #expect(problems(s.validate(["secret": .null])) == ["jwt.secret: required field missing"])
}

@Test func defaultsFillAbsentFields() throws {
    let s = try schema(
        "key-auth",
        [
            "key_names": ["type": "array", "elements": "string", "default": ["apikey"]],
            "hide_credentials": ["type": "boolean", "default": false],
        ]
    )
    #expect(normalised(s.validate([:])) == ["key_names": ["apikey"], "hide_credentials": false])
    #expect(normalised(s.validate(["hide_credentials": .bool(true)])) == ["key_names": ["apikey"], "hide_credentials": true])
}

@Test func absentRecordWithNestedDefaultsIsBuiltFromThem() throws {
    let s = try schema(
        "request-transformer",
        [
            "add": [
                "type": "record",
                "fields": [
                    "headers": ["type": "array", "elements": ["type": "string"], "default": []],
                    "limits": ["type": "record", "fields": ["count": ["type": "integer", "default": 5]]],
                ],
            ]
        ]
    )
    #expect(normalised(s.validate([:])) == ["add": ["headers": .array([]), "limits": ["count": 5]]])
    #expect(
        normalised(s.validate(["add": .map(["headers": .list([.string("x")])])]))
            == ["add": ["headers": ["x"], "limits": ["count": 5]]]
    )
}

@Test func absentRecordWithDefaultsStillReportsItsRequiredFields() throws {
    let s = try schema(
        "p", ["policy": ["type": "record", "fields": ["name": ["type": "string", "required": true], "window": ["type": "integer", "default": 60]]]]
    )
    #expect(problems(s.validate([:])) == ["p.policy.name: required field missing"])
}

@Test func oneOfRestrictsValues() throws {
    let s = try schema(
        "rate-limiting", ["limit_by": ["type": "string", "one_of": ["consumer", "ip", "header"], "default": "consumer"]]
    )
    #expect(normalised(s.validate(["limit_by": .string("ip")])) == ["limit_by": "ip"])
    #expect(normalised(s.validate([:])) == ["limit_by": "consumer"])
    #expect(
        problems(s.validate(["limit_by": .string("route")]))
            == ["rate-limiting.limit_by: expected one of: \"consumer\", \"ip\", \"header\"; found \"route\""]
    )
}

@Test func oneOfComparesNumbersByValue() throws {
    let s = try schema("p", ["ratio": ["type": "number", "one_of": [1, 2.5]]])
    #expect(normalised(s.validate(["ratio": .double(1.0)])) == ["ratio": 1.0])
    #expect(problems(s.validate(["ratio": .int(2)])) == ["p.ratio: expected one of: 1, 2.5; found 2"])
}

@Test func betweenIsInclusive() throws {
    let s = try schema("rate-limiting", ["second": ["type": "number", "between": [0, 1e9]]])
    #expect(normalised(s.validate(["second": .int(0)])) == ["second": 0])
    #expect(normalised(s.validate(["second": .int(1_000_000_000)])) == ["second": 1_000_000_000])
    #expect(
        problems(s.validate(["second": .int(1_000_000_001)]))
            == ["rate-limiting.second: expected a value between 0 and 1000000000, found 1000000001"]
    )
    #expect(problems(s.validate(["second": .double(-0.5)])) == ["rate-limiting.second: expected a value between 0 and 1000000000, found -0.5"])
}

// MARK: - Unknown fields, several problems, no schema

@Test func unknownFieldSuggestsTheClosestKnownOne() throws {
    let s = try schema("key-auth", ["key_names": ["type": "array", "elements": "string"], "hide_credentials": ["type": "boolean"]])
    #expect(problems(s.validate(["key_name": .list([])])) == ["key-auth.key_name: unknown field (did you mean 'key_names'?)"])
    #expect(problems(s.validate(["colour": .string("red")])) == ["key-auth.colour: unknown field"])
}

@Test func allProblemsAreReportedTogether() throws {
    let s = try schema(
        "rate-limiting",
        [
            "second": ["type": "number"],
            "limit_by": ["type": "string", "one_of": ["consumer", "ip"]],
            "policy": ["type": "record", "fields": ["name": ["type": "string", "required": true]]],
        ]
    )
    let result = s.validate([
        "second": .string("fast"), "limit_by": .string("moon"), "policy": .map([:]), "extra": .bool(true),
    ])
    #expect(
        problems(result) == [
            "rate-limiting.extra: unknown field",
            "rate-limiting.limit_by: expected one of: \"consumer\", \"ip\"; found \"moon\"",
            "rate-limiting.policy.name: required field missing",
            "rate-limiting.second: expected a number, found a string",
        ]
    )
    guard case .failure(let errors) = result else { return }
    #expect(errors.description == problems(result).joined(separator: "\n"))
}

@Test func pluginWithoutSchemaAcceptsOnlyAnEmptyConfig() throws {
    let s = try PluginSchema(plugin: "hello", schema: .nil)
    #expect(normalised(s.validate([:])) == .map([:]))
    #expect(problems(s.validate(["anything": .int(1)])) == ["hello.anything: unknown field"])
}

// MARK: - Configs given as Lua/JSON values

@Test func luaConfigFollowsTheSameRules() throws {
    let s = try schema(
        "p",
        [
            "tags": ["type": "map", "values": "string"],
            "policy": ["type": "record", "fields": ["window": ["type": "integer", "default": 60]]],
            "names": ["type": "array", "elements": "string"],
        ]
    )
    #expect(normalised(s.validate(lua: .nil)) == ["policy": ["window": 60]])
    #expect(
        normalised(s.validate(lua: ["tags": .array([]), "policy": .array([]), "names": .map([:])]))
            == ["tags": .map([:]), "policy": ["window": 60], "names": .array([])]
    )
    #expect(problems(s.validate(lua: ["tags": [1: "a"]])) == ["p.tags: expected a map with string keys, found the key 1"])
    #expect(problems(s.validate(lua: .string("x"))) == ["p: expected a record, found a string"])
    #expect(problems(s.validate(lua: ["names": ["a", 2]])) == ["p.names[2]: expected a string, found an integer"])
}

@Test func kongStyleOrderedFieldListIsAccepted() throws {
    let s = try PluginSchema(plugin: "p", schema: ["fields": [["a": ["type": "string", "default": "x"]], ["b": ["type": "integer"]]]])
    #expect(normalised(s.validate(["b": .int(1)])) == ["a": "x", "b": 1])
}

// MARK: - Errors in the schema itself

@Test func schemaWithUnknownTypeIsRefused() {
    let error = schemaError("key-auth", ["key_names": ["type": "arry", "elements": "string"]])
    #expect(error?.path == "key-auth.key_names")
    #expect(
        error?.description
            == "key-auth.key_names: invalid schema: unknown type \"arry\" (did you mean 'array'?) "
            + "(expected one of string, number, integer, boolean, array, map, record)"
    )
    #expect(schemaError("p", ["a": ["required": true]])?.message == "missing 'type' (one of string, number, integer, boolean, array, map, record)")
    #expect(schemaError("p", ["a": ["type": "array", "elements": "strng"]])?.path == "p.a.elements")
}

@Test func schemaWithWrongDefaultIsRefused() {
    let error = schemaError("key-auth", ["hide_credentials": ["type": "boolean", "default": "no"]])
    #expect(error?.path == "key-auth.hide_credentials")
    #expect(error?.message == "default: expected a boolean, found a string")
    #expect(
        schemaError("p", ["names": ["type": "array", "elements": "string", "default": ["a", 1]]])?.message
            == "default[2]: expected a string, found an integer"
    )
    #expect(
        schemaError("p", ["mode": ["type": "string", "one_of": ["a", "b"], "default": "c"]])?.message
            == "default: expected one of: \"a\", \"b\"; found \"c\""
    )
}

@Test func schemaWithBadOneOfIsRefused() {
    #expect(schemaError("p", ["mode": ["type": "string", "one_of": "a"]])?.message == "'one_of' must be a non-empty list of values, found a string")
    #expect(schemaError("p", ["mode": ["type": "string", "one_of": ["a", 1]]])?.message == "one_of[2]: expected a string, found an integer")
    #expect(
        schemaError("p", ["flag": ["type": "boolean", "one_of": [true]]])?.message
            == "'one_of' applies only to strings, numbers and integers, not a boolean"
    )
}

@Test func schemaWithBadBetweenIsRefused() {
    #expect(schemaError("p", ["n": ["type": "number", "between": [1]]])?.message == "'between' must be a list of two numbers { min, max }, found an array")
    #expect(schemaError("p", ["n": ["type": "integer", "between": [5, 1]]])?.message == "'between' minimum 5 is above its maximum 1")
    #expect(schemaError("p", ["s": ["type": "string", "between": [1, 5]]])?.message == "'between' applies only to numbers and integers, not a string")
}

@Test func schemaWithUnknownDefinitionKeyIsRefused() {
    let error = schemaError("p", ["a": ["type": "string", "requird": true]])
    #expect(error?.path == "p.a")
    #expect(
        error?.message
            == "unknown key \"requird\" in a field definition (did you mean 'required'?) "
            + "(expected type, required, default, one_of, between, elements, fields, values)"
    )
    #expect(schemaError("p", ["a": ["type": "string", "elements": "string"]])?.message == "'elements' applies only to type 'array', not 'string'")
    #expect(schemaError("p", ["a": ["type": "array"]])?.message == "an array needs 'elements' (a type name or a field definition)")
    #expect(
        schemaError("p", ["a": ["type": "array", "elements": ["type": "string", "default": "x"]]])?.message
            == "'default' has no meaning in 'elements'; put it on the field itself"
    )
    #expect(schemaError("p", ["a": "string"])?.message == "expected a field definition ({ type = ... }), found a string")
}

@Test func schemaTableItselfIsChecked() {
    #expect(throws: PluginSchemaError(path: "p", message: "expected a schema table ({ fields = { ... } }), found a string")) {
        try PluginSchema(plugin: "p", schema: "fields")
    }
    #expect(throws: PluginSchemaError(path: "p", message: "unknown key \"feilds\" in the schema table (expected 'fields')")) {
        try PluginSchema(plugin: "p", schema: ["feilds": [:]])
    }
}

@Test func nestedRecordSchemaErrorsNameTheFullPath() {
    let error = schemaError("p", ["policy": ["type": "record", "fields": ["limit": ["type": "integer", "default": 1.5]]]])
    #expect(error?.path == "p.policy.limit")
    #expect(error?.message == "default: expected an integer, found 1.5")
}

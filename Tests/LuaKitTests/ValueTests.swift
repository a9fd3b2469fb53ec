import Testing

@testable import LuaKit

@Suite("Values")
struct ValueTests {
    @Test(
        "values round-trip through Lua",
        arguments: [
            LuaValue.nil, true, false, 0, -7, .integer(Int64.max), .integer(Int64.min), 1.5, -0.25, .number(1e300),
            "", "hello", .string([0, 255, 254, 0x80, 10]), [1, 2, 3], ["a", ["nested", true]],
            ["key": "value", "n": 42], [1: "one", 3: "three"], ["list": [1.5, 2.5], "map": ["x": false]],
        ])
    func roundTrip(value: LuaValue) throws {
        let vm = try LuaVM()
        let identity = try vm.load("return ...", name: "identity")
        #expect(try vm.call(identity, [value]) == [value])
    }

    @Test("Lua types read as expected")
    func readTypes() throws {
        let vm = try LuaVM()
        let result = try vm.call(
            try vm.load(
                "return 3, 3.0, 2^53, 'a\\0b', {}, {10, 20}, {x = 1}, print, coroutine.create(print)",
                name: "types"))
        #expect(result[0] == .integer(3))
        #expect(result[1] == .number(3.0))
        #expect(result[2] == .number(9_007_199_254_740_992))
        #expect(result[3] == .string([97, 0, 98]))
        #expect(result[4] == .array([]))
        #expect(result[5] == [10, 20])
        #expect(result[6] == ["x": 1])
        #expect(result[7] == .other(typeName: "function"))
        #expect(result[8] == .other(typeName: "thread"))
    }

    @Test("a cyclic table is refused, not followed forever")
    func cycle() throws {
        let vm = try LuaVM()
        #expect(throws: LuaError.self) {
            _ = try vm.call(try vm.load("local t = {} t.self = t return t", name: "cycle"))
        }
        #expect(try vm.call(try vm.load("return 1", name: "after")) == [1])
    }

    @Test("globals and dotted paths")
    func globals() throws {
        let vm = try LuaVM()
        vm.setGlobal("gate.node.id", "node-1")
        #expect(try vm.global("gate.node.id") == "node-1")
        #expect(try vm.call(try vm.load("return gate.node.id", name: "g")) == ["node-1"])
        #expect(try vm.global("missing.path") == .nil)
    }
}

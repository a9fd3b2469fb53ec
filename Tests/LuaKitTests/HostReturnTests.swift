import Testing

@testable import LuaKit

/// The ways a host function answers: one value, a Swift string pushed directly, and a
/// table of fields grouped by lowercase name (the shape of `gate.request.get_headers`).
@Suite("Host function results")
struct HostReturnTests {
    @Test("one value, a string and nil come back as Lua values")
    func singleValues() throws {
        let vm = try LuaVM()
        vm.register("one") { call in call.return(.integer(7)) }
        vm.register("text") { call in call.return(string: "héllo, \(call.argumentCount) args") }
        vm.register("none") { call in call.return(string: nil) }
        let results = try vm.call(try vm.load("return one(), text(1, 2), none(), select('#', none())", name: "returns"))
        #expect(results == [.integer(7), .string("héllo, 2 args"), .nil, .integer(1)])
    }

    @Test("fields are grouped by lowercase name, repeated names into an array in order")
    func groupedTable() throws {
        let vm = try LuaVM()
        let fields: [(name: String, value: String)] = [
            ("Host", "example.test"), ("X-Key", "one"), ("accept", "*/*"), ("x-key", "two"), ("X-KEY", "three"),
            ("Via", "1.1 a"), ("VIA", "1.1 b"),
        ]
        vm.register("fields") { call in call.returnTable(groupingLowercased: fields) }
        let results = try vm.call(
            try vm.load(
                """
                local t = fields()
                local count = 0
                for _ in pairs(t) do count = count + 1 end
                return t.host, t["x-key"], t.accept, t.via, count, t.Host
                """, name: "grouped"))
        #expect(results[0] == .string("example.test"))
        #expect(results[1] == ["one", "two", "three"])
        #expect(results[2] == .string("*/*"))
        #expect(results[3] == ["1.1 a", "1.1 b"])
        #expect(results[4] == .integer(4))
        #expect(results[5] == .nil)
    }

    @Test("no fields give an empty table")
    func emptyTable() throws {
        let vm = try LuaVM()
        vm.register("fields") { call in call.returnTable(groupingLowercased: [] as [(name: String, value: String)]) }
        let results = try vm.call(try vm.load("local t = fields(); return type(t), next(t)", name: "empty"))
        #expect(results == [.string("table"), .nil])
    }
}

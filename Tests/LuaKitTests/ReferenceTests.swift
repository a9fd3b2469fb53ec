import Testing

@testable import LuaKit

/// Lua values Swift holds as they are (`LuaReference`), and runs that receive one.
@Suite("References")
struct ReferenceTests {
    @Test("results are anchored as functions, other values or nil")
    func kinds() throws {
        let vm = try LuaVM()
        let make = try vm.load("return function() end, { 1 }, nil, 'text'", name: "make")
        let references = try vm.references(from: make)
        #expect(references.count == 4)
        #expect(references[0] is LuaFunction)
        #expect(references[1] != nil && !(references[1] is LuaFunction))
        #expect(references[2] == nil)
        #expect(references[3] != nil)
    }

    @Test("a leading reference reaches the function as the same table, before the arguments")
    func leadingTable() throws {
        let vm = try LuaVM()
        let make = try vm.load(
            """
            local conf = { seen = 0 }
            local function hook(c, extra)
              c.seen = c.seen + extra
              return c == conf, c.seen
            end
            return hook, conf
            """, name: "make")
        let references = try vm.references(from: make)
        let hook = try #require(references[0] as? LuaFunction)
        let conf = try #require(references[1])
        var results: [[LuaValue]] = []
        for extra in [2, 3] {
            vm.start(hook, leading: conf, [.integer(Int64(extra))], requeue: nil) { result in
                if case .success(let values) = result { results.append(values) }
            }
        }
        #expect(results == [[true, 2], [true, 5]])
    }
}

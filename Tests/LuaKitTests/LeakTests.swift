import Testing

@testable import LuaKit

/// Counts its live instances. Only touched from the test's own thread.
final class Tracked {
    nonisolated(unsafe) static var live = 0
    let payload: [UInt8]
    init() {
        payload = [UInt8](repeating: 1, count: 32)
        Tracked.live += 1
    }
    deinit { Tracked.live -= 1 }
}

@Suite("No leaks across the boundary", .serialized)
struct LeakTests {
    @Test("100 000 host calls that raise errors leave no live Swift objects")
    func raisingHostCalls() throws {
        let vm = try LuaVM()
        vm.register("boom") { call in
            let tracked = Tracked()
            let message = "boom \(tracked.payload.count) \(call.argumentCount)"
            return .error(message)
        }
        let function = try vm.load(
            """
            local failures = 0
            for i = 1, 100000 do
              local ok = pcall(boom, i, 'x')
              if not ok then failures = failures + 1 end
            end
            return failures
            """, name: "leak.lua")
        #expect(try vm.run(function) == [100_000])
        #expect(Tracked.live == 0)
    }

    @Test("aborted runs release what their host calls created")
    func abortedRuns() throws {
        let vm = try LuaVM(limits: LuaLimits(deadline: .milliseconds(20)))
        vm.register("touch") { call in
            let tracked = Tracked()
            return call.return(.integer(Int64(tracked.payload.count)))
        }
        let function = try vm.load("while true do touch() end", name: "abort.lua")
        for _ in 0..<3 {
            #expect(throws: LuaError.self) { _ = try vm.run(function) }
        }
        #expect(Tracked.live == 0)
    }
}

import Testing

@testable import LuaKit

@Suite("Limits")
struct LimitTests {
    static let limits = LuaLimits(memoryBytes: 16 << 20, slice: .milliseconds(2), deadline: .milliseconds(200))

    /// The VM answers a normal function correctly after an abort.
    func expectHealthy(_ vm: LuaVM) throws {
        let function = try vm.load("local s = 0 for i = 1, 100 do s = s + i end return s", name: "healthy.lua")
        #expect(try vm.call(function) == [5050])
        #expect(try vm.run(function) == [5050])
    }

    func abortKind(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as LuaError {
            return error.kind
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test(
        "runaway loops are aborted at the deadline, on the main thread and in coroutines",
        arguments: [
            "while true do end",
            "while true do pcall(function() while true do end end) end",
            "while true do pcall(error, 'x') end",
            "local function f() return f() end while true do pcall(f) end",
            "coroutine.wrap(function() while true do end end)()",
            "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
            "while true do xpcall(function() while true do end end, function() while true do end end) end",
        ])
    func deadline(source: String) throws {
        let vm = try LuaVM(limits: Self.limits)
        let function = try vm.load(source, name: "runaway.lua")
        #expect(abortKind { _ = try vm.call(function) } == "timeout")
        #expect(abortKind { _ = try vm.run(function) } == "timeout")
        try expectHealthy(vm)
    }

    @Test("a memory bomb is aborted with memoryLimit, even under pcall")
    func memoryBomb() throws {
        let vm = try LuaVM(limits: Self.limits)
        for source in [
            #"local t = {} while true do t[#t+1] = string.rep("x", 1e6) end"#,
            #"while true do pcall(function() local t = {} while true do t[#t+1] = string.rep("x", 1e6) end end) end"#,
            #"local t = {} for i = 1, 1e9 do t[i] = i end"#,
        ] {
            let function = try vm.load(source, name: "bomb.lua")
            #expect(abortKind { _ = try vm.call(function) } == "memory", "\(source)")
            #expect(abortKind { _ = try vm.run(function) } == "memory", "\(source)")
            try expectHealthy(vm)
        }
        #expect(vm.memoryInUse < (16 << 20) + (1 << 20))
    }

    @Test("an instruction budget aborts with instructionLimit")
    func instructionBudget() throws {
        var limits = Self.limits
        limits.instructions = 100_000
        let vm = try LuaVM(limits: limits)
        let function = try vm.load("local i = 0 while true do i = i + 1 end", name: "count.lua")
        #expect(abortKind { _ = try vm.call(function) } == "instructions")
        #expect(abortKind { _ = try vm.run(function) } == "instructions")
        try expectHealthy(vm)
    }

    @Test("a host function that allocates past the cap fails the run with memoryLimit")
    func hostAllocationPastCap() throws {
        let vm = try LuaVM(limits: LuaLimits(memoryBytes: 1 << 20))
        vm.register("big") { call in call.return(.string([UInt8](repeating: 65, count: 2 << 20))) }
        let function = try vm.load("local s = big() return #s", name: "big.lua")
        #expect(abortKind { _ = try vm.run(function) } == "memory")
        try expectHealthy(vm)
    }

    @Test("a run is preempted slice by slice and the abort names the line")
    func abortTraceback() throws {
        let vm = try LuaVM(limits: Self.limits)
        let function = try vm.load("local x = 0\nwhile true do\n  x = x + 1\nend", name: "spin.lua")
        var preemptions = 0
        var outcome: Result<[LuaValue], LuaError>?
        var queue: [() -> Void] = []
        vm.start(function, requeue: { step in
            preemptions += 1
            queue.append(step)
        }) { outcome = $0 }
        while outcome == nil, !queue.isEmpty { queue.removeFirst()() }
        guard case .failure(.timeout(let traceback)) = outcome else {
            Issue.record("expected a timeout, got \(String(describing: outcome))")
            return
        }
        #expect(traceback.contains("spin.lua:"))
        #expect(preemptions >= 10, "a 200 ms run with 2 ms slices is preempted many times")
    }
}

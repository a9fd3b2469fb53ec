import Testing

@testable import LuaKit

@Suite("Errors")
struct ErrorTests {
    @Test("a runtime error gives chunk:line and a traceback")
    func runtimeError() throws {
        let vm = try LuaVM()
        let function = try vm.load("local t = nil\n\nreturn t.x", name: "plugins/auth.lua")
        for attempt in [{ try vm.call(function) }, { try vm.run(function) }] {
            #expect {
                _ = try attempt()
            } throws: { error in
                guard case .runtime(let message, let traceback) = error as? LuaError else { return false }
                return message.hasPrefix("plugins/auth.lua:3:") && message.contains("index a nil value")
                    && traceback.contains("stack traceback") && traceback.contains("plugins/auth.lua:3")
            }
        }
    }

    @Test("error() with a table or a level keeps working")
    func errorValues() throws {
        let vm = try LuaVM()
        #expect {
            _ = try vm.call(try vm.load("error({ code = 1 })", name: "x.lua"))
        } throws: { error in
            guard case .runtime(let message, _) = error as? LuaError else { return false }
            return message.contains("table value")
        }
        #expect {
            _ = try vm.call(try vm.load("local function f() error('boom', 2) end\nf()", name: "x.lua"))
        } throws: { error in
            guard case .runtime(let message, _) = error as? LuaError else { return false }
            return message == "x.lua:2: boom"
        }
    }

    @Test("a syntax error at load gives chunk:line")
    func syntaxError() throws {
        let vm = try LuaVM()
        #expect(throws: LuaError.syntax(message: "plugins/bad.lua:2: unexpected symbol near '='")) {
            _ = try vm.load("local x = 1\n= 2", name: "plugins/bad.lua")
        }
    }

    @Test("a host function error carries the caller's position")
    func hostError() throws {
        let vm = try LuaVM()
        vm.register("gate.fail") { _ in .error("not allowed in this phase") }
        #expect {
            _ = try vm.call(try vm.load("\ngate.fail()", name: "p.lua"))
        } throws: { error in
            guard case .runtime(let message, _) = error as? LuaError else { return false }
            return message == "p.lua:2: not allowed in this phase"
        }
    }
}

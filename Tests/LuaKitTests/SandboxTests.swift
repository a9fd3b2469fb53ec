import Testing

@testable import LuaKit

@Suite("Sandbox")
struct SandboxTests {
    func evaluate(_ vm: LuaVM, _ source: String) throws -> [LuaValue] {
        try vm.call(try vm.load(source, name: "test.lua"))
    }

    @Test(
        "forbidden functions are absent",
        arguments: [
            "io", "debug", "dofile", "loadfile", "package.loadlib", "package.cpath", "package.path",
            "package.searchers", "os.exit", "os.execute", "os.remove", "os.rename", "os.getenv", "os.tmpname",
            "os.setlocale",
        ])
    func forbiddenIsNil(name: String) throws {
        let vm = try LuaVM()
        let parts = name.split(separator: ".")
        let expression = parts.count == 1 ? name : "(\(parts[0]) or {}).\(parts[1])"
        let result = try evaluate(vm, "return \(expression) == nil")
        #expect(result == [true], "\(name) should not be reachable")
    }

    @Test("kept os functions work")
    func keptOSFunctions() throws {
        let vm = try LuaVM()
        let result = try evaluate(vm, "return type(os.time()), type(os.clock()), type(os.date('%Y'))")
        #expect(result == ["number", "number", "string"])
    }

    @Test("collectgarbage answers only count")
    func collectGarbage() throws {
        let vm = try LuaVM()
        #expect(try evaluate(vm, "return type(collectgarbage('count'))") == ["number"])
        for option in ["", "'collect'", "'stop'", "'step'", "'incremental'"] {
            #expect(throws: LuaError.self, "collectgarbage(\(option)) must raise") {
                _ = try evaluate(vm, "collectgarbage(\(option))")
            }
        }
    }

    @Test("bytecode is refused by load")
    func bytecodeRefused() throws {
        let vm = try LuaVM()
        let result = try evaluate(
            vm,
            """
            local f, err = load(string.dump(function() return 1 end))
            return f == nil, err
            """)
        #expect(result.first == true)
        #expect(result.last?.stringValue?.contains("binary chunk") == true)
        // Text chunks still load, with an environment.
        #expect(try evaluate(vm, "return load('return x', 'c', 'bt', {x = 5})()") == [5])
    }

    @Test("a bytecode chunk given to LuaVM.load is refused")
    func bytecodeRefusedByHost() throws {
        let vm = try LuaVM()
        let dumped = try evaluate(vm, "return string.dump(function() return 1 end)")
        guard case .string(let bytes) = dumped.first else {
            Issue.record("string.dump returned \(dumped)")
            return
        }
        #expect(throws: LuaError.self) { _ = try vm.load(bytes, name: "dumped") }
    }

    @Test("__gc metamethods are refused")
    func gcRefused() throws {
        let vm = try LuaVM()
        #expect(throws: LuaError.self) {
            _ = try evaluate(vm, "setmetatable({}, { __gc = function() while true do end end })")
        }
        #expect(try evaluate(vm, "return getmetatable(setmetatable({}, { __index = {a = 1} })).__index.a") == [1])
    }

    @Test("scripts cannot resume or close the host's coroutines")
    func hostCoroutinesProtected() throws {
        let vm = try LuaVM()
        let function = try vm.load(
            """
            local me = coroutine.running()
            local ok1, err1 = pcall(coroutine.close, me)
            local ok2, err2 = coroutine.resume(me)
            return ok1, err1, ok2, err2
            """, name: "steal.lua")
        let result = try vm.run(function)
        #expect(result[0] == false)
        #expect(result[1].stringValue?.contains("driven by the gateway") == true)
        #expect(result[2] == false)
    }
}

@Suite("require")
struct RequireTests {
    let root: TemporaryDirectory

    init() throws {
        root = try TemporaryDirectory()
        try root.write("flat.mod.lua", "return { name = 'flat' }")
        try root.write("nested/mod.lua", "return { name = 'nested' }")
        try root.write("broken.lua", "return {\n  = }")
        try root.write("failing.lua", "local x = nil\nreturn x.field")
    }

    func vm() throws -> LuaVM { try LuaVM(moduleRoots: [root.path]) }

    @Test("dotted names resolve flat first, then as directories")
    func resolves() throws {
        let vm = try vm()
        let result = try vm.call(
            try vm.load(
                "return require('flat.mod').name, require('nested.mod').name, require('flat.mod') == require('flat.mod')",
                name: "main.lua"))
        #expect(result == ["flat", "nested", true])
    }

    @Test(
        "names outside the roots are refused",
        arguments: ["../etc/passwd", "/etc/passwd", "..", "a..b", "a/b", ".hidden", "a.", ""])
    func refused(name: String) throws {
        let vm = try vm()
        let result = try vm.call(
            try vm.load("local ok, err = pcall(require, ...) return ok, err", name: "main.lua"), [.string(name)])
        #expect(result.first == false)
        #expect(result.last?.stringValue?.contains("invalid module name") == true)
    }

    @Test("a missing module names the files tried")
    func missing() throws {
        let vm = try vm()
        #expect {
            _ = try vm.call(try vm.load("\n\nrequire('nope')", name: "main.lua"))
        } throws: { error in
            guard case .runtime(let message, _) = error as? LuaError else { return false }
            return message.hasPrefix("main.lua:3:") && message.contains("\(root.path)/nope.lua")
        }
    }

    @Test("errors inside modules name the module file and line")
    func moduleErrors() throws {
        let vm = try vm()
        #expect {
            _ = try vm.call(try vm.load("require('broken')", name: "main.lua"))
        } throws: { error in
            guard case .runtime(let message, _) = error as? LuaError else { return false }
            return message.contains("broken.lua:2:")
        }
        #expect {
            _ = try vm.call(try vm.load("require('failing')", name: "main.lua"))
        } throws: { error in
            guard case .runtime(let message, _) = error as? LuaError else { return false }
            return message.contains("failing.lua:2:")
        }
    }

    @Test("package.path changes have no effect")
    func packagePathIgnored() throws {
        let vm = try vm()
        let result = try vm.call(
            try vm.load("package.path = '/etc/?' local ok = pcall(require, 'passwd') return ok", name: "main.lua"))
        #expect(result == [false])
    }
}

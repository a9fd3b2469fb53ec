import CLua
import CLuaShim

/// One Lua 5.4 state with the sandboxed library, a memory cap, time slicing and a
/// deadline (see `LuaLimits`), Swift host functions and pooled coroutines.
///
/// A VM is confined to one thread (in Moongate: one event loop). Create it, use it
/// and let it go on that thread; nothing here locks.
public final class LuaVM {
    let raw: UnsafeMutablePointer<mg_vm>
    /// The main thread of the state.
    var state: OpaquePointer { raw.pointee.main }
    public let limits: LuaLimits
    let moduleLoader: LuaModuleLoader

    private var hostFunctions: [LuaHostFunction] = []
    var idleCoroutines: [LuaCoroutine] = []
    /// The coroutine being resumed now (host functions suspend it). Not retained:
    /// it is set only for the duration of a resume, while its caller holds it.
    unowned(unsafe) var currentRun: LuaCoroutine?
    var isRunning = false

    /// Receives what scripts `print` (default: standard error).
    public var printHandler: (String) -> Void = { line in
        var standardError = StandardErrorStream()
        print(line, to: &standardError)
    }

    /// - Parameters:
    ///   - limits: memory cap, slice, deadline and instruction budget of every run.
    ///   - moduleRoots: directories `require` may load from (`a.b` -> `a.b.lua`, or
    ///     `a/b.lua`); nothing outside them is reachable.
    ///   - modules: modules held in memory (module name -> source), found before the roots.
    public init(limits: LuaLimits = LuaLimits(), moduleRoots: [String] = [], modules: [String: LuaModuleFile] = [:])
        throws(LuaError)
    {
        self.limits = limits
        self.moduleLoader = LuaModuleLoader(roots: moduleRoots, modules: modules)
        // The dispatch context is filled in below, once `self` exists.
        guard let raw = mg_vm_new(0, luaDispatch, nil) else { throw .stateCreationFailed }
        self.raw = raw
        raw.pointee.dispatch_context = Unmanaged.passUnretained(self).toOpaque()
        mg_vm_set_limits(
            raw, LuaLimits.ticks(limits.slice), LuaLimits.ticks(limits.deadline), limits.instructions)
        installPrint()
        try installRequire()
        // The cap applies from here: the standard library is not charged to scripts.
        raw.pointee.mem_cap = limits.memoryBytes > 0 ? limits.memoryBytes + raw.pointee.mem_used : 0
    }

    deinit {
        mg_vm_close(raw)
    }

    /// Bytes allocated by the state now.
    public var memoryInUse: Int { raw.pointee.mem_used }

    // MARK: Loading and calling

    /// Compiles a text chunk (binary chunks are refused). Errors read `name:line: ...`.
    public func load(_ source: some Collection<UInt8>, name: String) throws(LuaError) -> LuaFunction {
        let bytes = Array(source)
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                mg_load(raw, chars.baseAddress, chars.count, "@" + name)
            }
        }
        if status != LUA_OK {
            let message = popMessage(from: state)
            if status == LUA_ERRMEM { throw .memoryLimit(traceback: "") }
            throw .syntax(message: message)
        }
        return LuaFunction(vm: self, ref: luaL_ref(state, mg_registryindex()))
    }

    public func load(_ source: String, name: String) throws(LuaError) -> LuaFunction {
        try load(Array(source.utf8), name: name)
    }

    /// Calls `function` on the main thread and returns its results. The deadline,
    /// memory cap and instruction budget apply; there is no slicing (the main thread
    /// cannot yield) and host functions cannot wait. For hook runs use `start`.
    public func call(_ function: LuaFunction, _ arguments: [LuaValue] = []) throws(LuaError) -> [LuaValue] {
        try callOnMainThread(function, arguments) { L, count throws(LuaError) in try readResults(from: L, count: count) }
    }

    /// Calls `function` as `call` does and keeps its results as they are in Lua: each
    /// anchored as a `LuaReference` (a `LuaFunction` when it is a function), nil for a
    /// nil result.
    public func references(from function: LuaFunction, _ arguments: [LuaValue] = []) throws(LuaError) -> [LuaReference?] {
        try callOnMainThread(function, arguments) { L, count in
            var references: [LuaReference?] = Array(repeating: nil, count: Int(count))
            // luaL_ref pops the top value: anchor from the last result down.
            for offset in stride(from: Int(count) - 1, through: 0, by: -1) {
                switch lua_type(L, -1) {
                case LUA_TNIL:
                    mg_pop(L, 1)
                case LUA_TFUNCTION:
                    references[offset] = LuaFunction(vm: self, ref: luaL_ref(L, mg_registryindex()))
                default:
                    references[offset] = LuaReference(vm: self, ref: luaL_ref(L, mg_registryindex()))
                }
            }
            return references
        }
    }

    /// The protected call behind `call` and `references`: `read` takes the `count`
    /// results on top of the stack, which is restored afterwards.
    private func callOnMainThread<Results>(
        _ function: LuaFunction, _ arguments: [LuaValue], read: (OpaquePointer, Int32) throws(LuaError) -> Results
    ) throws(LuaError) -> Results {
        try beginRun()
        defer { isRunning = false }
        let L = state
        let base = lua_gettop(L)
        guard lua_checkstack(L, Int32(arguments.count) + 2) != 0 else {
            throw .conversion(message: "too many arguments")
        }
        function.push(onto: L)
        for argument in arguments { argument.push(onto: L) }
        let status = mg_pcall(raw, Int32(arguments.count), LUA_MULTRET)
        if status != LUA_OK {
            let message = popMessage(from: L)
            throw error(forAbortOr: message, traceback: message)
        }
        defer { lua_settop(L, base) }
        return try read(L, lua_gettop(L) - base)
    }

    func beginRun() throws(LuaError) {
        guard !isRunning else {
            throw .runtime(message: "a Lua run cannot start inside another run on the same VM", traceback: "")
        }
        isRunning = true
    }

    /// The error for a failed run: the pending abort, or a runtime error.
    func error(forAbortOr message: String, traceback: String) -> LuaError {
        switch Int(raw.pointee.aborting) {
        case MG_ABORT_TIMEOUT: return .timeout(traceback: traceback)
        case MG_ABORT_INSTRUCTIONS: return .instructionLimit(traceback: traceback)
        case MG_ABORT_MEMORY: return .memoryLimit(traceback: traceback)
        default:
            // A buffer growth the cap refused (string.rep, table.concat...) raises a plain
            // "not enough memory" error without Lua's retry: still the memory cap.
            if raw.pointee.cap_refused != 0 && message.contains("not enough memory") {
                return .memoryLimit(traceback: traceback)
            }
            // The message handler appends the traceback; keep the first line apart.
            return .runtime(message: Self.firstPart(of: message), traceback: traceback)
        }
    }

    /// The message without the traceback the message handler appended.
    static func firstPart(of message: String) -> String {
        let marker = Array("\nstack traceback:".utf8)
        let bytes = Array(message.utf8)
        guard bytes.count >= marker.count else { return message }
        for start in 0...(bytes.count - marker.count) where bytes[start..<(start + marker.count)].elementsEqual(marker) {
            return String(decoding: bytes[..<start], as: UTF8.self)
        }
        return message
    }

    func readResults(from L: OpaquePointer, count: Int32) throws(LuaError) -> [LuaValue] {
        if count == 0 { return [] }
        var results: [LuaValue] = []
        results.reserveCapacity(Int(count))
        let first = lua_gettop(L) - count + 1
        for index in first..<(first + count) {
            results.append(try LuaValue.read(from: L, at: index))
        }
        return results
    }

    func popMessage(from L: OpaquePointer) -> String {
        let message: String
        if lua_type(L, -1) == LUA_TSTRING {
            message = String(decoding: LuaValue.readBytes(from: L, at: -1), as: UTF8.self)
        } else {
            message = "(error object is a \(String(cString: lua_typename(L, lua_type(L, -1)))) value)"
        }
        mg_pop(L, 1)
        return message
    }

    // MARK: Globals and host functions

    /// Sets a global (or a dotted path such as `gate.log.info`, creating tables).
    public func setGlobal(_ path: String, _ value: LuaValue) {
        withTable(containing: path) { L, key in
            lua_pushstring(L, key)
            value.push(onto: L)
            lua_rawset(L, -3)
        }
    }

    /// Reads a global (or a dotted path) with raw accesses.
    public func global(_ path: String) throws(LuaError) -> LuaValue {
        let L = state
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        mg_pushglobaltable(L)
        for part in path.split(separator: ".") {
            guard lua_type(L, -1) == LUA_TTABLE else { return .nil }
            lua_pushstring(L, String(part))
            lua_rawget(L, -2)
        }
        return try LuaValue.read(from: L, at: -1)
    }

    /// The function stored at the global `path` (dotted paths allowed), anchored so
    /// Swift can run it later even after the global is removed.
    public func globalFunction(_ path: String) throws(LuaError) -> LuaFunction {
        let L = state
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        mg_pushglobaltable(L)
        for part in path.split(separator: ".") {
            guard lua_type(L, -1) == LUA_TTABLE else { throw .conversion(message: "'\(path)' is not a function") }
            lua_pushstring(L, String(part))
            lua_rawget(L, -2)
        }
        guard lua_type(L, -1) == LUA_TFUNCTION else { throw .conversion(message: "'\(path)' is not a function") }
        return LuaFunction(vm: self, ref: luaL_ref(L, mg_registryindex()))
    }

    /// Makes `function` callable from Lua as the global `path` (dotted paths create
    /// intermediate tables: `register("gate.sleep") { ... }`).
    public func register(_ path: String, _ function: @escaping LuaHostFunction) {
        let id = hostFunctions.count
        hostFunctions.append(function)
        withTable(containing: path) { L, key in
            lua_pushstring(L, key)
            mg_push_host_function(L, Int32(id))
            lua_rawset(L, -3)
        }
    }

    /// Pushes the table that holds the last component of `path` and calls `body`
    /// with that component; tables along the way are created when missing. Uses raw
    /// gets and plain sets on tables made here, so no metamethod can run.
    private func withTable(containing path: String, _ body: (OpaquePointer, String) -> Void) {
        let L = state
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        var parts = path.split(separator: ".").map(String.init)
        guard let last = parts.popLast() else { return }
        mg_pushglobaltable(L)
        for part in parts {
            lua_pushstring(L, part)
            if lua_rawget(L, -2) != LUA_TTABLE {
                mg_pop(L, 1)
                mg_newtable(L)
                lua_pushstring(L, part)
                lua_pushvalue(L, -2)
                lua_rawset(L, -4)
            }
        }
        body(L, last)
    }

    func dispatchHostFunction(_ id: Int, state L: OpaquePointer) -> Int32 {
        guard id >= 0, id < hostFunctions.count else {
            lua_pushstring(L, "unknown host function")
            return Int32(MG_HOST_ERROR)
        }
        switch hostFunctions[id](LuaCall(state: L, vm: self)) {
        case .results(let count):
            return count
        case .error(let message):
            luaL_where(L, 1)
            lua_pushstring(L, message)
            lua_concat(L, 2)
            return Int32(MG_HOST_ERROR)
        case .errorForCaller(let message):
            luaL_where(L, 2)
            lua_pushstring(L, message)
            lua_concat(L, 2)
            return Int32(MG_HOST_ERROR)
        case .yield:
            raw.pointee.host_yield_count = 0
            return Int32(MG_HOST_YIELD)
        }
    }

    private func installPrint() {
        register("print") { call in
            var pieces: [String] = []
            for position in 1...max(1, call.argumentCount) where position <= call.argumentCount {
                pieces.append(LuaVM.displayString(call.state, Int32(position)))
            }
            call.vm.printHandler(pieces.joined(separator: "\t"))
            return .results(0)
        }
    }

    /// tostring() without metamethods (Swift must not run Lua code).
    static func displayString(_ L: OpaquePointer, _ index: Int32) -> String {
        switch lua_type(L, index) {
        case LUA_TSTRING: return String(decoding: LuaValue.readBytes(from: L, at: index), as: UTF8.self)
        case LUA_TNUMBER:
            if let value = try? LuaValue.read(from: L, at: index) {
                switch value {
                case .integer(let integer): return String(integer)
                case .number(let number): return number.description
                default: break
                }
            }
            return "number"
        case LUA_TBOOLEAN: return lua_toboolean(L, index) != 0 ? "true" : "false"
        case LUA_TNIL: return "nil"
        case let type:
            let pointer = lua_topointer(L, index).map { String(UInt(bitPattern: $0), radix: 16) } ?? "0"
            return "\(String(cString: lua_typename(L, type))): 0x\(pointer)"
        }
    }
}

struct StandardErrorStream: TextOutputStream {
    mutating func write(_ string: String) {
        mg_write_stderr(string)
    }
}

import CLua
import CLuaShim

/// A Swift function callable from Lua. It reads its arguments from `call`, and
/// answers with `call.return(...)`, `.error(message)` or, to wait, `.yield` after
/// taking `call.suspend()` (see `LuaResumeHandle`).
public typealias LuaHostFunction = (LuaCall) -> LuaHostResult

/// What a host function tells the C trampoline to do. Swift never raises or yields
/// itself: the trampoline does, after Swift has returned.
public enum LuaHostResult {
    /// Return the top `count` values of the stack (pushed by `LuaCall.return`).
    case results(Int32)
    /// Raise a Lua error with this message, prefixed with the caller's `chunk:line:`.
    case error(String)
    /// The same, prefixed with the `chunk:line:` of the caller's caller: for host
    /// functions called through a Lua wrapper, whose user is the wrapper's caller.
    case errorForCaller(String)
    /// Suspend the running coroutine until `LuaResumeHandle.resume(with:)`.
    case yield
}

/// The arguments and context of one call from Lua into Swift.
public struct LuaCall {
    /// The calling thread (valid only during the call).
    public let state: OpaquePointer
    /// The VM that made the call (alive for the duration of the call).
    public unowned(unsafe) let vm: LuaVM

    /// Number of arguments passed by the script.
    public var argumentCount: Int { Int(lua_gettop(state)) }

    /// The argument at `position` (1-based) as a Swift value.
    public func argument(_ position: Int) throws(LuaError) -> LuaValue {
        try LuaValue.read(from: state, at: Int32(position))
    }

    /// The argument at `position` when it is a string (numbers are not converted).
    public func bytes(_ position: Int) -> [UInt8]? {
        guard lua_type(state, Int32(position)) == LUA_TSTRING else { return nil }
        return LuaValue.readBytes(from: state, at: Int32(position))
    }

    /// The argument when it is a string, decoded straight from Lua's bytes (invalid
    /// UTF-8 is repaired).
    public func string(_ position: Int) -> String? {
        guard lua_type(state, Int32(position)) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = lua_tolstring(state, Int32(position), &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// The argument when it is an integer, or a float with an exact integer value.
    public func integer(_ position: Int) -> Int64? {
        guard lua_type(state, Int32(position)) == LUA_TNUMBER else { return nil }
        var isInteger: Int32 = 0
        let value = lua_tointegerx(state, Int32(position), &isInteger)
        return isInteger != 0 ? Int64(value) : nil
    }

    public func number(_ position: Int) -> Double? {
        guard lua_type(state, Int32(position)) == LUA_TNUMBER else { return nil }
        return lua_tonumberx(state, Int32(position), nil)
    }

    /// Lua type name of the argument (`"no value"` when absent).
    public func typeName(_ position: Int) -> String {
        String(cString: lua_typename(state, lua_type(state, Int32(position))))
    }

    /// Pushes `values` and answers with them.
    public func `return`(_ values: LuaValue...) -> LuaHostResult {
        `return`(values)
    }

    public func `return`(_ values: [LuaValue]) -> LuaHostResult {
        guard lua_checkstack(state, Int32(clamping: values.count)) != 0 else {
            return .error("too many results")
        }
        for value in values { value.push(onto: state) }
        return .results(Int32(values.count))
    }

    /// Answers with one Lua array of `strings`, pushed straight from the Swift strings
    /// (a `LuaValue.array` of `.string`s would first copy each into a byte array).
    public func returnArray(ofStrings strings: [String]) -> LuaHostResult {
        guard lua_checkstack(state, 3) != 0 else { return .error("too many results") }
        lua_createtable(state, Int32(clamping: strings.count), 0)
        for (offset, string) in strings.enumerated() {
            var string = string
            string.withUTF8 { bytes in
                _ = lua_pushlstring(state, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self), bytes.count)
            }
            lua_rawseti(state, -2, lua_Integer(offset + 1))
        }
        return .results(1)
    }

    /// True when the call may answer `.yield`: it runs in a coroutine driven by
    /// `LuaVM.start` and not across a C-call boundary (metamethod, sort comparator...).
    public var canYield: Bool { vm.currentRun?.allowsWaiting == true && lua_isyieldable(state) != 0 }

    /// What the driver of the running coroutine attached to it (`LuaVM.start(context:)`);
    /// nil on the main thread.
    public var runContext: AnyObject? { vm.currentRun?.context }

    /// Prepares a wait: returns the handle that resumes the run later, or nil when the
    /// call cannot yield (then answer with an error instead of `.yield`).
    public func suspend() -> LuaResumeHandle? {
        guard canYield, let run = vm.currentRun else { return nil }
        return LuaResumeHandle(coroutine: run, generation: run.generation)
    }
}

/// The trampoline's way into Swift: finds the VM and calls the registered function.
let luaDispatch: mg_dispatch_fn = { context, state, functionID in
    guard let context, let state else { return Int32(MG_HOST_ERROR) }
    // The VM outlives every call into it: no retain/release around the dispatch.
    return Unmanaged<LuaVM>.fromOpaque(context)._withUnsafeGuaranteedRef {
        $0.dispatchHostFunction(Int(functionID), state: state)
    }
}

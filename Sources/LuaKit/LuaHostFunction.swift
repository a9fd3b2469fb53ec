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

    /// Pushes `value` and answers with it (the variadic form makes an array per call:
    /// most host functions return one value).
    public func `return`(_ value: LuaValue) -> LuaHostResult {
        // Lua guarantees LUA_MINSTACK (20) free slots to a C function.
        value.push(onto: state)
        return .results(1)
    }

    /// Answers with `text` as a Lua string, pushed straight from the Swift string (a
    /// `LuaValue.string` would first copy it into a byte array); nil answers nil.
    public func `return`(string text: String?) -> LuaHostResult {
        push(string: text)
        return .results(1)
    }

    /// Pushes one result (for a function answering with several: push each, then
    /// answer `.results(count)`). A host function has room for LUA_MINSTACK (20) values.
    public func push(_ value: LuaValue) {
        value.push(onto: state)
    }

    /// Pushes `text` as a Lua string straight from the Swift string; nil pushes nil.
    public func push(string text: String?) {
        guard let text else { return lua_pushnil(state) }
        LuaCall.push(text, onto: state)
    }

    static func push(_ text: String, onto state: OpaquePointer) {
        var text = text
        text.withUTF8 { bytes in
            _ = lua_pushlstring(state, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
    }

    public func `return`(_ values: [LuaValue]) -> LuaHostResult {
        guard lua_checkstack(state, Int32(clamping: values.count)) != 0 else {
            return .error("too many results")
        }
        for value in values { value.push(onto: state) }
        return .results(Int32(values.count))
    }

    /// Answers with a table of `fields` in the shape of Kong's `get_headers`: lowercase
    /// name -> value, and a name that comes more than once -> the array of its values
    /// in order. Built straight from the Swift strings with Lua's C API (no flat list
    /// for Lua to regroup, no byte-array copies).
    public func returnTable<Fields: Sequence>(groupingLowercased fields: Fields) -> LuaHostResult
    where Fields.Element == (name: String, value: String) {
        guard lua_checkstack(state, 6) != 0 else { return .error("too many results") }
        lua_createtable(state, 0, Int32(clamping: fields.underestimatedCount))
        let table = lua_gettop(state)
        for (name, value) in fields {
            LuaCall.pushLowercased(name, onto: state)
            lua_pushvalue(state, -1)
            switch lua_rawget(state, table) {
            case LUA_TNIL:
                mg_pop(state, 1)
                LuaCall.push(value, onto: state)
                lua_rawset(state, table)
            case LUA_TTABLE:
                // [name, values]: append, then drop both.
                LuaCall.push(value, onto: state)
                lua_rawseti(state, -2, lua_Integer(lua_rawlen(state, -2) + 1))
                mg_pop(state, 2)
            default:
                // [name, first]: name -> { first, value }.
                lua_createtable(state, 2, 0)
                lua_rotate(state, -2, 1)
                lua_rawseti(state, -2, 1)
                LuaCall.push(value, onto: state)
                lua_rawseti(state, -2, 2)
                lua_rawset(state, table)
            }
        }
        return .results(1)
    }

    /// Pushes `name` in ASCII lowercase (field names are tokens: ASCII).
    static func pushLowercased(_ name: String, onto state: OpaquePointer) {
        var name = name
        name.withUTF8 { bytes in
            guard bytes.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else {
                _ = lua_pushlstring(state, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self), bytes.count)
                return
            }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) { lower in
                for (index, byte) in bytes.enumerated() { lower[index] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
                _ = lua_pushlstring(state, UnsafeRawPointer(lower.baseAddress)?.assumingMemoryBound(to: CChar.self), bytes.count)
            }
        }
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

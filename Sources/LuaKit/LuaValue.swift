import CLua
import CLuaShim

/// A Lua value copied into Swift (or to be copied into Lua).
///
/// Strings are byte strings: Lua strings may hold any bytes, not only UTF-8. A Lua
/// table reads as `.array` when its keys are exactly 1...n, else as `.map`. Values
/// Swift cannot hold (functions, coroutines, userdata) read as `.other(typeName)` and
/// push as nil.
public enum LuaValue: Hashable, Sendable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string([UInt8])
    case array([LuaValue])
    case map([LuaValue: LuaValue])
    case other(typeName: String)

    /// A string value from Swift text (UTF-8).
    public static func string(_ text: String) -> LuaValue { .string(Array(text.utf8)) }

    /// The value as Swift text when it is a string (invalid UTF-8 is repaired).
    public var stringValue: String? {
        if case .string(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    public var integerValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .number(let value): return Int64(exactly: value)
        default: return nil
        }
    }

    public var numberValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .boolean(let value) = self { return value }
        return nil
    }

    /// Field of a map (string key), or nil.
    public subscript(key: String) -> LuaValue? {
        if case .map(let entries) = self { return entries[.string(key)] }
        return nil
    }
}

extension LuaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(Array(value.utf8)) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(nilLiteral: ()) { self = .nil }
    public init(arrayLiteral elements: LuaValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (LuaValue, LuaValue)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// Nesting deeper than this is refused (it also stops reading cyclic tables).
let luaValueMaxDepth = 64

extension LuaValue {
    /// Pushes the value onto `L`. Only raw operations are used, so nothing here can
    /// raise a Lua error: map entries whose key is nil or NaN (not valid Lua keys) are
    /// skipped, and nesting beyond `luaValueMaxDepth` pushes nil.
    func push(onto L: OpaquePointer, depth: Int = 0) {
        switch self {
        case .nil, .other:
            lua_pushnil(L)
        case .boolean(let value):
            lua_pushboolean(L, value ? 1 : 0)
        case .integer(let value):
            lua_pushinteger(L, lua_Integer(value))
        case .number(let value):
            lua_pushnumber(L, value)
        case .string(let bytes):
            bytes.withUnsafeBufferPointer { buffer in
                _ = lua_pushlstring(L, UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self), buffer.count)
            }
        case .array(let elements):
            guard depth < luaValueMaxDepth, lua_checkstack(L, 3) != 0 else { return lua_pushnil(L) }
            lua_createtable(L, Int32(clamping: elements.count), 0)
            for (offset, element) in elements.enumerated() {
                element.push(onto: L, depth: depth + 1)
                lua_rawseti(L, -2, lua_Integer(offset + 1))
            }
        case .map(let entries):
            guard depth < luaValueMaxDepth, lua_checkstack(L, 4) != 0 else { return lua_pushnil(L) }
            lua_createtable(L, 0, Int32(clamping: entries.count))
            for (key, value) in entries {
                switch key {
                case .nil, .other: continue
                case .number(let number) where number.isNaN: continue
                default: break
                }
                key.push(onto: L, depth: depth + 1)
                value.push(onto: L, depth: depth + 1)
                lua_rawset(L, -3)
            }
        }
    }

    /// Reads the value at `index` of `L` with raw accessors only (no metamethods run).
    static func read(from L: OpaquePointer, at index: Int32, depth: Int = 0) throws(LuaError) -> LuaValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE:
            return .nil
        case LUA_TBOOLEAN:
            return .boolean(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .integer(Int64(lua_tointegerx(L, index, nil))) }
            return .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING:
            return .string(readBytes(from: L, at: index))
        case LUA_TTABLE:
            return try readTable(from: L, at: lua_absindex(L, index), depth: depth)
        case let type:
            return .other(typeName: String(cString: lua_typename(L, type)))
        }
    }

    /// The bytes of the string at `index` (the value must be a string).
    static func readBytes(from L: OpaquePointer, at index: Int32) -> [UInt8] {
        var length = 0
        guard let pointer = lua_tolstring(L, index, &length) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    private static func readTable(from L: OpaquePointer, at index: Int32, depth: Int) throws(LuaError) -> LuaValue {
        guard depth < luaValueMaxDepth else {
            throw .conversion(message: "table nesting deeper than \(luaValueMaxDepth) levels (or a cycle)")
        }
        guard lua_checkstack(L, 3) != 0 else { throw .conversion(message: "Lua stack overflow while reading a table") }
        var entries: [(LuaValue, LuaValue)] = []
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            let key: LuaValue
            let value: LuaValue
            do {
                key = try read(from: L, at: -2, depth: depth + 1)
                value = try read(from: L, at: -1, depth: depth + 1)
            } catch {
                mg_pop(L, 2)
                throw error
            }
            mg_pop(L, 1)
            entries.append((key, value))
        }
        // Lua keys are unique, so n integer keys all within 1...n are exactly 1...n.
        let count = entries.count
        var elements = [LuaValue](repeating: .nil, count: count)
        var isSequence = true
        for (key, value) in entries {
            guard case .integer(let position) = key, position >= 1, position <= Int64(count) else {
                isSequence = false
                break
            }
            elements[Int(position) - 1] = value
        }
        if isSequence { return .array(elements) }
        return .map(Dictionary(entries, uniquingKeysWith: { _, last in last }))
    }
}

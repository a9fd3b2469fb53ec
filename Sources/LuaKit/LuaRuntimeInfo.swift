import CLuaShim

/// Facts about the linked Lua runtime, for `moongate version`.
public enum LuaRuntimeInfo {
    /// The release of the headers LuaKit was compiled against, e.g. "Lua 5.4.4".
    public static var release: String { String(cString: mg_lua_release()) }
}

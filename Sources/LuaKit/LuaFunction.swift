import CLua
import CLuaShim

/// A Lua value held by Swift (anchored in the registry) and handed back to Lua as it
/// is, without converting it: a plugin instance's config table, say. It keeps its VM
/// alive.
public class LuaReference {
    let vm: LuaVM
    let ref: Int32

    init(vm: LuaVM, ref: Int32) {
        self.vm = vm
        self.ref = ref
    }

    /// Pushes the value onto `L` (a thread of the same VM).
    func push(onto L: OpaquePointer) {
        lua_rawgeti(L, mg_registryindex(), lua_Integer(ref))
    }

    deinit {
        luaL_unref(vm.state, mg_registryindex(), ref)
    }
}

/// A Lua function held by Swift.
public final class LuaFunction: LuaReference {}

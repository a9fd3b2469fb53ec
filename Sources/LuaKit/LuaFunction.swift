import CLua
import CLuaShim

/// A Lua function held by Swift (anchored in the registry). It keeps its VM alive.
public final class LuaFunction {
    let vm: LuaVM
    let ref: Int32

    init(vm: LuaVM, ref: Int32) {
        self.vm = vm
        self.ref = ref
    }

    deinit {
        luaL_unref(vm.state, mg_registryindex(), ref)
    }
}

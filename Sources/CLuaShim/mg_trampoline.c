// The one C function through which Lua calls Swift. Swift never raises or yields
// itself: it answers with a status and this frame does the longjmp, so no Swift
// frame is ever unwound.
#include "mg_internal.h"

static int mg_trampoline(lua_State *L) {
    mg_vm *vm = mg_vm_of(L);
    int function_id = (int)lua_tointegerx(L, lua_upvalueindex(1), NULL);
    int allow_fail = vm->allow_fail;
    vm->allow_fail = 0;  // Swift is on the stack: the allocator must not fail now
    int result = vm->dispatch(vm->dispatch_context, L, function_id);
    vm->allow_fail = allow_fail;
    if (vm->aborting != MG_ABORT_NONE) return mg_raise_abort(L, vm);
    if (vm->over_cap && allow_fail) {
        vm->over_cap = 0;
        vm->aborting = MG_ABORT_MEMORY;
        return mg_raise_abort(L, vm);
    }
    if (result == MG_HOST_ERROR) return lua_error(L);
    if (result == MG_HOST_YIELD) {
        if (!lua_isyieldable(L)) {
            lua_pushliteral(L, "attempt to wait outside a yieldable coroutine");
            return lua_error(L);
        }
        vm->yield_kind = MG_YIELD_HOST;
        // No continuation: when resumed, the values passed to resume become this
        // function's results.
        return lua_yield(L, vm->host_yield_count);
    }
    return result;
}

void mg_push_host_function(lua_State *L, int function_id) {
    lua_pushinteger(L, function_id);
    lua_pushcclosure(L, mg_trampoline, 1);
}

// coroutine.resume / coroutine.wrap / coroutine.close for scripts.
//
// The standard versions would let a system yield (a host function waiting for I/O,
// or the hook ending a time slice) inside a script's own coroutine land in the
// script's resume call. These versions pass such yields up to the host's driver
// and, when the driver resumes, carry the values back down (lua_yieldk with a
// continuation). They also keep `running` pointing at the innermost thread, so the
// watchdog arms the hook where the code runs, and they refuse to touch threads the
// host drives.
#include "mg_internal.h"

static int mg_resume_loop(lua_State *L, int is_wrap, int nargs);

static int mg_resume_continue(lua_State *L, int status, lua_KContext is_wrap) {
    (void)status;
    // Stack: [co, values passed by the driver's resume...]
    return mg_resume_loop(L, (int)is_wrap, lua_gettop(L) - 1);
}

static int mg_resume_loop(lua_State *L, int is_wrap, int nargs) {
    mg_vm *vm = mg_vm_of(L);
    lua_State *co = lua_tothread(L, 1);
    for (;;) {
        if (!lua_checkstack(co, nargs)) {
            lua_pushliteral(L, "too many arguments to resume");
            return lua_error(L);
        }
        lua_xmove(L, co, nargs);
        mg_prepare_thread(vm, co);
        atomic_store_explicit(&vm->running, co, memory_order_release);
        vm->yield_kind = MG_YIELD_USER;
        int nresults = 0;
        int status = lua_resume(co, L, nargs, &nresults);
        atomic_store_explicit(&vm->running, L, memory_order_release);
        if (vm->aborting != MG_ABORT_NONE) return mg_raise_abort(L, vm);

        if (status == LUA_YIELD && vm->yield_kind != MG_YIELD_USER) {
            if (lua_isyieldable(L)) {
                // Pass the system yield up; yield_kind stays set for the outer level.
                if (!lua_checkstack(L, nresults + 1)) return luaL_error(L, "too many results to yield");
                lua_xmove(co, L, nresults);
                return lua_yieldk(L, nresults, (lua_KContext)is_wrap, mg_resume_continue);
            }
            lua_pop(co, nresults);
            if (vm->yield_kind == MG_YIELD_SLICE) {
                nargs = 0;  // cannot preempt here: keep running
                continue;
            }
            lua_pushliteral(L, "attempt to wait inside a coroutine that cannot yield to the gateway");
            return lua_error(L);
        }

        if (status == LUA_OK || status == LUA_YIELD) {
            if (!lua_checkstack(L, nresults + 1)) return luaL_error(L, "too many results to resume");
            if (!is_wrap) lua_pushboolean(L, 1);
            lua_xmove(co, L, nresults);
            return is_wrap ? nresults : nresults + 1;
        }
        lua_xmove(co, L, 1);  // the error object
        if (!is_wrap) {
            lua_pushboolean(L, 0);
            lua_insert(L, -2);
            return 2;
        }
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
}

// Why the thread at index 1 may not be resumed by a script, or NULL when it may.
static const char *mg_resume_refusal(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    if (mg_is_owned_thread(L, 1)) return "cannot resume a coroutine driven by the gateway";
    if (co == L) return "cannot resume non-suspended coroutine";
    int status = lua_status(co);
    if (status == LUA_YIELD) return NULL;
    if (status == LUA_OK) {
        lua_Debug ar;
        if (lua_getstack(co, 0, &ar)) return "cannot resume non-suspended coroutine";
        if (lua_gettop(co) == 0) return "cannot resume dead coroutine";
        return NULL;
    }
    return "cannot resume dead coroutine";
}

static int mg_co_resume(lua_State *L) {
    if (lua_tothread(L, 1) == NULL) return luaL_typeerror(L, 1, "coroutine");
    const char *refusal = mg_resume_refusal(L);
    if (refusal != NULL) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, refusal);
        return 2;
    }
    return mg_resume_loop(L, 0, lua_gettop(L) - 1);
}

static int mg_co_wrapped(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    const char *refusal = mg_resume_refusal(L);
    if (refusal != NULL) return luaL_error(L, "%s", refusal);
    return mg_resume_loop(L, 1, lua_gettop(L) - 1);
}

static int mg_co_wrap(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, mg_co_wrapped, 1);
    return 1;
}

static int mg_co_close(lua_State *L) {
    if (lua_type(L, 1) == LUA_TTHREAD && mg_is_owned_thread(L, 1))
        return luaL_error(L, "cannot close a coroutine driven by the gateway");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

// Replaces resume, wrap and close in the `coroutine` table on top of the stack.
void mg_install_coroutine_wrappers(lua_State *L) {
    lua_pushcfunction(L, mg_co_resume);
    lua_setfield(L, -2, "resume");
    lua_pushcfunction(L, mg_co_wrap);
    lua_setfield(L, -2, "wrap");
    lua_getfield(L, -1, "close");
    lua_pushcclosure(L, mg_co_close, 1);
    lua_setfield(L, -2, "close");
}

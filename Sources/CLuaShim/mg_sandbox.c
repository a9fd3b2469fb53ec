// The sandboxed standard library (SPEC §3 Safety).
//
// Opened: base (without dofile, loadfile, print; collectgarbage answers only
// "count"; load takes text chunks only; setmetatable refuses __gc, because finalizers
// run with hooks disabled and a looping one could not be stopped), string, table,
// math, utf8, coroutine (resume/wrap/close wrapped, see mg_coroutine.c), and os with
// time, clock and date only; xpcall is wrapped too (see mg_xpcall_handler). Not opened: io, debug, package (require is provided by
// LuaKit and sees only the configured roots).
#include "mg_internal.h"

#include <string.h>

static int mg_collectgarbage(lua_State *L) {
    const char *option = luaL_optstring(L, 1, "collect");
    if (strcmp(option, "count") != 0)
        return luaL_error(L, "collectgarbage: only \"count\" is available in the sandbox (got \"%s\")", option);
    int kb = lua_gc(L, LUA_GCCOUNT, 0);
    int bytes = lua_gc(L, LUA_GCCOUNTB, 0);
    lua_pushnumber(L, (lua_Number)kb + ((lua_Number)bytes / 1024));
    return 1;
}

// load(chunk [, chunkname [, mode [, env]]]) with mode forced to "t".
static int mg_load_text(lua_State *L) {
    int nargs = lua_gettop(L);
    if (nargs < 3) {
        lua_settop(L, 3);
        nargs = 3;
    }
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L);
}

static int mg_setmetatable(lua_State *L) {
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int has_gc = lua_rawget(L, 2) != LUA_TNIL;
        lua_pop(L, 1);
        if (has_gc) return luaL_error(L, "setmetatable: __gc metamethods are not allowed in the sandbox");
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

// xpcall's message handler runs before the stack unwinds. When the error was raised
// by the hook (an abort), Lua is still inside the hook call, where hooks are disabled:
// a looping handler could never be stopped. So during an abort the script's handler
// is skipped and the abort passes through unchanged.
static int mg_xpcall_handler(lua_State *L) {
    if (mg_vm_of(L)->aborting != MG_ABORT_NONE) return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int mg_xpcall_finish(lua_State *L, int status, lua_KContext extra) {
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - (int)extra;
}

// xpcall(f, handler, ...) with the handler wrapped; a continuation keeps it yieldable.
static int mg_xpcall(lua_State *L) {
    int nargs = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, mg_xpcall_handler, 1);
    lua_replace(L, 2);
    // Stack: f, handler, args... -> f, handler, true, f, args...
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2);
    int status = lua_pcallk(L, nargs - 2, LUA_MULTRET, 2, 2, mg_xpcall_finish);
    return mg_xpcall_finish(L, status, 2);
}

static void mg_wrap_global(lua_State *L, const char *name, lua_CFunction wrapper) {
    lua_getglobal(L, name);
    lua_pushcclosure(L, wrapper, 1);
    lua_setglobal(L, name);
}

static void mg_remove_global(lua_State *L, const char *name) {
    lua_pushnil(L);
    lua_setglobal(L, name);
}

void mg_open_sandbox(lua_State *L) {
    static const luaL_Reg libraries[] = {
        {LUA_GNAME, luaopen_base},
        {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table},
        {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},
        {LUA_COLIBNAME, luaopen_coroutine},
        {NULL, NULL},
    };
    for (const luaL_Reg *lib = libraries; lib->func != NULL; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }

    mg_remove_global(L, "dofile");
    mg_remove_global(L, "loadfile");
    mg_remove_global(L, "print");
    lua_pushcfunction(L, mg_collectgarbage);
    lua_setglobal(L, "collectgarbage");
    mg_wrap_global(L, "load", mg_load_text);
    mg_wrap_global(L, "setmetatable", mg_setmetatable);
    lua_pushcfunction(L, mg_xpcall);
    lua_setglobal(L, "xpcall");

    lua_getglobal(L, LUA_COLIBNAME);
    mg_install_coroutine_wrappers(L);
    lua_pop(L, 1);

    // os: only time, clock and date. The full library is opened into a temporary
    // table and never stored anywhere a script can reach.
    luaopen_os(L);
    lua_createtable(L, 0, 3);
    static const char *const os_kept[] = {"time", "clock", "date", NULL};
    for (const char *const *name = os_kept; *name != NULL; name++) {
        lua_getfield(L, -2, *name);
        lua_setfield(L, -2, *name);
    }
    lua_setglobal(L, LUA_OSLIBNAME);
    lua_pop(L, 1);
}

// VM lifetime, the tracking allocator, and the C entry points that run Lua code.
#include "mg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Extra room a run that is being aborted for memory may still allocate, so that the
// error message and traceback can be built while the stack unwinds.
#define MG_ABORT_SLACK (1u << 20)
// A refused request this large aborts the run at once (see mg_alloc).
#define MG_ABORT_BLOCK (64u << 10)

// Lua's allocator contract: nsize == 0 frees; otherwise (re)allocate. Returning NULL
// makes Lua raise LUA_ERRMEM (after one emergency collection and retry), which is a
// longjmp: so NULL is returned only while Lua runs under C control (allow_fail).
// While Swift is on the stack the cap is only recorded, and the trampoline raises
// the memory error once Swift has returned.
static void *mg_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    mg_vm *vm = (mg_vm *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        vm->mem_used -= old;
        return NULL;
    }
    if (vm->mem_cap != 0 && nsize > old) {
        size_t after = vm->mem_used - old + nsize;
        if (after > vm->mem_cap) {
            if (vm->allow_fail) {
                vm->cap_refused = 1;
                if (vm->aborting != MG_ABORT_MEMORY) {
                    // Lua retries a refused request once, after a full collection. The
                    // second refusal of the same request means the run is out of memory.
                    // Buffers (string.rep, table.concat, ...) are allocated without that
                    // retry and their refusal is a plain, catchable error: a refused block
                    // of MG_ABORT_BLOCK or more is taken as the bomb it almost surely is.
                    if (vm->last_refused == nsize || nsize >= MG_ABORT_BLOCK) {
                        vm->aborting = MG_ABORT_MEMORY;
                        mg_arm_running(vm);
                    }
                    vm->last_refused = nsize;
                    return NULL;
                }
                if (after > vm->mem_cap + MG_ABORT_SLACK) return NULL;
            } else {
                vm->over_cap = 1;
            }
        }
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL) return NULL;
    vm->mem_used = vm->mem_used - old + nsize;
    vm->last_refused = 0;
    return block;
}

static int mg_panic(lua_State *L) {
    const char *message = lua_tostring(L, -1);
    fprintf(stderr, "moongate: unprotected Lua error: %s\n", message ? message : "(not a string)");
    fflush(stderr);
    abort();
    return 0;
}

// Lua's warn(): off until a script sends "@on". Pieces are joined until the last one.
typedef struct { int on; char line[1024]; size_t used; } mg_warn_state;
static _Thread_local mg_warn_state mg_warnings;

static void mg_warn(void *ud, const char *message, int tocont) {
    (void)ud;
    mg_warn_state *w = &mg_warnings;
    if (w->used == 0 && !tocont && message[0] == '@') {
        if (strcmp(message, "@on") == 0) w->on = 1;
        if (strcmp(message, "@off") == 0) w->on = 0;
        return;
    }
    size_t len = strlen(message);
    size_t room = sizeof(w->line) - 1 - w->used;
    if (len > room) len = room;
    memcpy(w->line + w->used, message, len);
    w->used += len;
    if (!tocont) {
        w->line[w->used] = 0;
        if (w->on) fprintf(stderr, "moongate: Lua warning: %s\n", w->line);
        w->used = 0;
    }
}

mg_vm *mg_vm_new(size_t mem_cap, mg_dispatch_fn dispatch, void *dispatch_context) {
    mg_vm *vm = calloc(1, sizeof(mg_vm));
    if (vm == NULL) return NULL;
    vm->mem_cap = mem_cap;
    vm->dispatch = dispatch;
    vm->dispatch_context = dispatch_context;
    vm->loop_thread = pthread_self();
    atomic_init(&vm->running, NULL);
    atomic_init(&vm->serial, 0);
    atomic_init(&vm->run_ticks, 0);
    atomic_init(&vm->pending, 0);
    lua_State *L = lua_newstate(mg_alloc, vm);
    if (L == NULL) {
        free(vm);
        return NULL;
    }
    vm->main = L;
    *(mg_vm **)lua_getextraspace(L) = vm;
    lua_atpanic(L, mg_panic);
    lua_setwarnf(L, mg_warn, vm);
    mg_open_sandbox(L);
    // Threads driven by the host, weak-keyed so that pooled threads can still be dropped.
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    vm->owned_threads_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return vm;
}

void mg_vm_close(mg_vm *vm) {
    if (vm == NULL) return;
    mg_watchdog_unregister(vm);
    vm->allow_fail = 0;
    lua_close(vm->main);
    free(vm);
}

void mg_vm_set_limits(mg_vm *vm, uint32_t slice_ticks, uint32_t deadline_ticks, int64_t instructions) {
    vm->slice_ticks = slice_ticks;
    vm->deadline_ticks = deadline_ticks;
    // The count hook fires every `instruction_chunk` instructions; smaller chunks are
    // more precise and cost more. 1000 keeps the overhead near the hook's fixed cost.
    vm->instruction_budget = instructions > 0 ? instructions : 0;
    vm->instruction_chunk = instructions > 0 ? (instructions < 1000 ? (int)instructions : 1000) : 0;
    if (slice_ticks != 0 || deadline_ticks != 0) mg_watchdog_register(vm);
    else mg_watchdog_unregister(vm);
}

// Everything that starts a piece of Lua execution under C control goes through here.
static void mg_begin(mg_vm *vm, lua_State *L, uint32_t ticks, int64_t instructions_left) {
    mg_watchdog_note_running_thread(vm);
    vm->aborting = MG_ABORT_NONE;
    vm->over_cap = 0;
    vm->last_refused = 0;
    vm->cap_refused = 0;
    vm->instructions_left = instructions_left;
    vm->yield_kind = MG_YIELD_USER;
    atomic_store_explicit(&vm->pending, 0, memory_order_relaxed);
    atomic_store_explicit(&vm->run_ticks, ticks, memory_order_relaxed);
    atomic_store_explicit(&vm->serial, atomic_load_explicit(&vm->serial, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&vm->running, L, memory_order_release);
    vm->allow_fail = 1;
}

static uint32_t mg_end(mg_vm *vm) {
    vm->allow_fail = 0;
    atomic_store_explicit(&vm->running, NULL, memory_order_release);
    return atomic_load_explicit(&vm->run_ticks, memory_order_relaxed);
}

int mg_resume(mg_vm *vm, lua_State *co, int nargs, int *nresults, uint32_t *ticks,
              int64_t *instructions_left, int *yield_kind) {
    mg_prepare_thread(vm, co);
    mg_begin(vm, co, *ticks, *instructions_left);
    int status = lua_resume(co, NULL, nargs, nresults);
    *ticks = mg_end(vm);
    *instructions_left = vm->instructions_left;
    *yield_kind = vm->yield_kind;
    return status;
}

// Message handler for mg_pcall: "message\nstack traceback:\n...".
static int mg_message_handler(lua_State *L) {
    const char *message = lua_tostring(L, 1);
    if (message == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, message, 1);
    return 1;
}

int mg_pcall(mg_vm *vm, int nargs, int nresults) {
    lua_State *L = vm->main;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, mg_message_handler);
    lua_insert(L, base);
    mg_prepare_thread(vm, L);
    mg_begin(vm, L, 0, vm->instruction_budget);
    int status = lua_pcall(L, nargs, nresults, base);
    mg_end(vm);
    // New threads copy the hook of the thread that creates them: leave none behind.
    lua_sethook(L, NULL, 0, 0);
    lua_remove(L, base);
    return status;
}

int mg_load(mg_vm *vm, const char *buffer, size_t size, const char *chunkname) {
    vm->last_refused = 0;
    vm->allow_fail = 1;
    int status = luaL_loadbufferx(vm->main, buffer, size, chunkname, "t");
    vm->allow_fail = 0;
    return status;
}

void mg_push_traceback(lua_State *L, lua_State *co, const char *message) {
    luaL_traceback(L, co, message, 0);
}

lua_State *mg_new_owned_thread(mg_vm *vm, int *ref) {
    lua_State *L = vm->main;
    lua_State *co = lua_newthread(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->owned_threads_ref);
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return co;
}

int mg_is_owned_thread(lua_State *L, int index) {
    mg_vm *vm = mg_vm_of(L);
    index = lua_absindex(L, index);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->owned_threads_ref);
    lua_pushvalue(L, index);
    int owned = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return owned;
}

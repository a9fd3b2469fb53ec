// CLuaShim: the C side of the Swift <-> Lua boundary.
//
// Debian's Lua raises errors and yields with longjmp. A longjmp must never cross a
// Swift frame, so every place where Lua may unwind is C code in this target:
//  - Swift functions are reached through one C trampoline (mg_push_host_function);
//    Swift answers with a status and the trampoline raises or yields for it.
//  - The allocator never fails while Swift is on the stack: it records "over the cap"
//    and the trampoline raises the memory error once Swift has returned.
//  - Time slicing and deadlines are enforced by a C hook that a watchdog thread arms
//    only when a run overstays, so a run that finishes in time pays nothing.
// Swift cannot import Lua's function-like macros or its variadic functions; the
// static inline wrappers at the end of this header stand in for them.
#ifndef MG_LUA_H
#define MG_LUA_H

#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lualib.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>

// Why a run is being aborted. Sticky for the rest of the run: once set, every hook
// call and every trampoline return raises again, so a script's pcall cannot swallow it.
enum {
    MG_ABORT_NONE = 0,
    MG_ABORT_TIMEOUT = 1,
    MG_ABORT_INSTRUCTIONS = 2,
    MG_ABORT_MEMORY = 3,
};

// Why a coroutine yielded to its driver.
enum {
    MG_YIELD_USER = 0,   // the script called coroutine.yield itself
    MG_YIELD_HOST = 1,   // a host function asked to wait (I/O, sleep, ...)
    MG_YIELD_SLICE = 2,  // the hook preempted a run that used up its time slice
};

// What a Swift host function answers the trampoline.
enum {
    MG_HOST_ERROR = -1,  // the error value is on top of the stack: raise it
    MG_HOST_YIELD = -2,  // suspend the coroutine (values to yield: mg_vm.host_yield_count)
};

// Called by the trampoline with the host function's id. Returns a result count >= 0
// (the results are the top values of the stack) or one of MG_HOST_*.
typedef int (*mg_dispatch_fn)(void *context, lua_State *L, int function_id);

typedef struct mg_vm {
    lua_State *main;

    // Memory accounting: touched only by the VM's own thread.
    size_t mem_used;
    size_t mem_cap;            // 0 = unlimited
    int allow_fail;            // 1 while Lua runs under C control; 0 when Swift is on the stack
    int over_cap;              // an allocation passed the cap while failing was not allowed
    size_t last_refused;       // size of the last refused request (Lua retries once after a full GC)
    int cap_refused;           // the cap refused a request during the current run

    // Run control: VM thread only.
    int aborting;              // MG_ABORT_*, reset by mg_run_reset
    int yield_kind;            // MG_YIELD_*, set just before a system yield
    int host_yield_count;      // values yielded by a host function
    int instruction_chunk;     // count-hook period when an instruction budget is set, else 0
    int64_t instruction_budget; // per run; 0 = none
    int64_t instructions_left; // budget left to the current run
    mg_dispatch_fn dispatch;
    void *dispatch_context;
    int owned_threads_ref;     // registry ref of a weak-keyed table: threads the host drives

    // Shared with the watchdog thread.
    _Atomic(lua_State *) running;  // the thread executing now (innermost coroutine), or NULL
    _Atomic uint64_t serial;       // incremented at every resume: identifies one slice
    _Atomic uint32_t run_ticks;    // watchdog ticks used by the current run (all its slices)
    _Atomic uint64_t pending;      // (serial << 2) | kind: what the watchdog asks the hook to do
    uint32_t slice_ticks;          // 0 = no slicing
    uint32_t deadline_ticks;       // 0 = no deadline
    pthread_t loop_thread;         // the thread the VM runs on (signal target)

    // Watchdog-private bookkeeping.
    uint64_t wd_seen_serial;
    uint32_t wd_seen_count;
    struct mg_vm *wd_next;
    int wd_registered;
} mg_vm;

enum { MG_PENDING_SLICE = 1, MG_PENDING_DEADLINE = 2 };

// --- VM lifetime --------------------------------------------------------------------

// Creates a VM state with the tracking allocator, panic and warn handlers, and the
// sandboxed standard library. Returns NULL when the state cannot be created.
mg_vm *mg_vm_new(size_t mem_cap, mg_dispatch_fn dispatch, void *dispatch_context);
void mg_vm_close(mg_vm *vm);
static inline mg_vm *mg_vm_of(lua_State *L) { return *(mg_vm **)lua_getextraspace(L); }

// Sets the limits counted in watchdog ticks (see mg_watchdog_tick_ns) and the
// instruction budget (0 = none). Registers the VM with the watchdog when needed.
void mg_vm_set_limits(mg_vm *vm, uint32_t slice_ticks, uint32_t deadline_ticks, int64_t instructions);

// --- Runs ------------------------------------------------------------------------------

// Resumes `co` with `nargs` values on its stack. Updates *ticks and *instructions_left
// (the run's usage, carried across slices by the caller). Returns lua_resume's status;
// *yield_kind tells why a LUA_YIELD happened.
int mg_resume(mg_vm *vm, lua_State *co, int nargs, int *nresults, uint32_t *ticks,
              int64_t *instructions_left, int *yield_kind);

// Protected call on the main thread (no slicing: the main thread cannot yield; the
// deadline and the other limits still apply). The function and its arguments are on
// the stack. On error, the message with a traceback is left on the stack.
int mg_pcall(mg_vm *vm, int nargs, int nresults);

// Loads a text chunk (binary chunks are refused). Pushes the function, or the message.
int mg_load(mg_vm *vm, const char *buffer, size_t size, const char *chunkname);

// Pushes "message\nstack traceback:..." for the dead coroutine `co` onto L.
void mg_push_traceback(lua_State *L, lua_State *co, const char *message);

// New thread anchored in the registry (returned ref) and marked as host-driven, so
// scripts cannot resume or close it. The thread is pushed nowhere.
lua_State *mg_new_owned_thread(mg_vm *vm, int *ref);

// --- Host functions -------------------------------------------------------------------

// Pushes a C closure that calls the VM's dispatch function with `function_id`.
void mg_push_host_function(lua_State *L, int function_id);

// --- Watchdog ---------------------------------------------------------------------------

// Period of the watchdog tick (1 ms). Slices and deadlines are rounded up to ticks.
uint64_t mg_watchdog_tick_ns(void);

// --- Sandbox helpers -------------------------------------------------------------------

// Opens the sandboxed libraries into the global table (see mg_sandbox.c for the list).
void mg_open_sandbox(lua_State *L);

// --- Wrappers for macros and variadic functions ---------------------------------------

static inline int mg_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline void mg_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void mg_newtable(lua_State *L) { lua_newtable(L); }
static inline void mg_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
static inline void mg_insert(lua_State *L, int i) { lua_insert(L, i); }
static inline const char *mg_lua_release(void) { return LUA_RELEASE; }
static inline void mg_write_stderr(const char *text) { fputs(text, stderr); fflush(stderr); }

#endif

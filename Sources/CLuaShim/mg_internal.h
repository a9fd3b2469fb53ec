// Declarations shared by the C files of CLuaShim; not part of the module's interface.
#ifndef MG_INTERNAL_H
#define MG_INTERNAL_H

#include "mg_lua.h"

// The count hook: instruction budget, watchdog requests (slice yield, deadline abort)
// and sticky aborts.
void mg_hook(lua_State *L, lua_Debug *ar);

// Raises the current abort (vm->aborting) in L and keeps the hook armed at every
// instruction, so that a script's pcall cannot swallow it. Does not return.
int mg_raise_abort(lua_State *L, mg_vm *vm);

// Arms the hook at every instruction on the thread running now (VM thread only).
void mg_arm_running(mg_vm *vm);

// Gives `co` the hook state of a run that is starting or resuming: the instruction
// budget's count hook, or no hook.
void mg_prepare_thread(mg_vm *vm, lua_State *co);

// Remembers which VM the calling thread runs, for the watchdog's signal handler.
void mg_watchdog_note_running_thread(mg_vm *vm);
void mg_watchdog_register(mg_vm *vm);
void mg_watchdog_unregister(mg_vm *vm);

// 1 when `co` is a thread driven by the host (scripts may not resume or close it).
int mg_is_owned_thread(lua_State *L, int index);

// Replaces resume, wrap and close in the `coroutine` table on top of the stack.
void mg_install_coroutine_wrappers(lua_State *L);

#endif

// The count hook and the watchdog that arms it.
//
// In Lua 5.4 any count hook makes the VM check every instruction (a tight loop goes
// from ~6 ns to ~15 ns per iteration), so no hook is set while runs finish in time.
// A watchdog thread ticks every millisecond; when it sees one slice last longer than
// `slice_ticks`, or a run use more than `deadline_ticks`, it records a request in
// `pending` and signals the VM's thread, whose signal handler arms the hook on the
// running coroutine (the way lua.c handles Ctrl-C: touching a lua_State from its own
// thread, never from the watchdog's). The hook then yields (slice) or aborts (deadline).
#include "mg_internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#define MG_TICK_NS 1000000ull
#define MG_SIGNAL SIGURG

uint64_t mg_watchdog_tick_ns(void) { return MG_TICK_NS; }

static const char *mg_abort_message(int aborting) {
    switch (aborting) {
    case MG_ABORT_TIMEOUT: return "moongate: run aborted: time limit exceeded";
    case MG_ABORT_INSTRUCTIONS: return "moongate: run aborted: instruction limit exceeded";
    case MG_ABORT_MEMORY: return "moongate: run aborted: memory limit exceeded";
    default: return "moongate: run aborted";
    }
}

int mg_raise_abort(lua_State *L, mg_vm *vm) {
    lua_sethook(L, mg_hook, LUA_MASKCOUNT, 1);
    lua_pushstring(L, mg_abort_message(vm->aborting));
    return lua_error(L);
}

void mg_arm_running(mg_vm *vm) {
    lua_State *running = atomic_load_explicit(&vm->running, memory_order_relaxed);
    if (running != NULL) lua_sethook(running, mg_hook, LUA_MASKCOUNT, 1);
}

void mg_prepare_thread(mg_vm *vm, lua_State *co) {
    if (vm->instruction_chunk != 0) lua_sethook(co, mg_hook, LUA_MASKCOUNT, vm->instruction_chunk);
    else if (lua_gethook(co) != NULL) lua_sethook(co, NULL, 0, 0);
}

void mg_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    mg_vm *vm = mg_vm_of(L);
    if (vm->aborting != MG_ABORT_NONE) mg_raise_abort(L, vm);
    if (vm->instruction_chunk != 0) {
        vm->instructions_left -= lua_gethookcount(L);
        if (vm->instructions_left <= 0) {
            vm->aborting = MG_ABORT_INSTRUCTIONS;
            mg_raise_abort(L, vm);
        }
    }
    uint64_t pending = atomic_exchange_explicit(&vm->pending, 0, memory_order_relaxed);
    mg_prepare_thread(vm, L);
    if (pending == 0) return;
    // A request made for an earlier slice (the run it targeted has ended) is stale.
    uint64_t serial = atomic_load_explicit(&vm->serial, memory_order_relaxed);
    if ((pending >> 2) != serial) return;
    if ((pending & 3) == MG_PENDING_DEADLINE) {
        vm->aborting = MG_ABORT_TIMEOUT;
        mg_raise_abort(L, vm);
    }
    // Where the thread cannot yield (main thread, inside a metamethod or a C call
    // boundary) the slice is skipped; the watchdog asks again at the next tick.
    if ((pending & 3) == MG_PENDING_SLICE && lua_isyieldable(L)) {
        vm->yield_kind = MG_YIELD_SLICE;
        lua_yield(L, 0);
    }
}

// --- the watchdog thread ------------------------------------------------------------

static pthread_mutex_t mg_wd_lock = PTHREAD_MUTEX_INITIALIZER;
// Signalled when a VM registers: with none registered the watchdog sleeps on it
// instead of ticking (a gateway without plugins pays no wake-ups).
static pthread_cond_t mg_wd_registered = PTHREAD_COND_INITIALIZER;
static mg_vm *mg_wd_head = NULL;
static int mg_wd_started = 0;
// initial-exec: the shim is linked into the executable, and the default model for
// position-independent code calls __tls_get_addr on every access (seen in profiles).
#define MG_TLS _Thread_local __attribute__((tls_model("initial-exec")))
static MG_TLS mg_vm *mg_wd_thread_vm = NULL;
static MG_TLS int mg_wd_thread_unblocked = 0;

void mg_watchdog_note_running_thread(mg_vm *vm) {
    mg_wd_thread_vm = vm;
    vm->loop_thread = pthread_self();
    // Thread pools (libdispatch, Swift concurrency, threads they start) block most
    // signals; the watchdog's signal must reach every thread that runs Lua. Once per
    // thread: a pthread_sigmask call per run would cost more than the run.
    if (!mg_wd_thread_unblocked) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, MG_SIGNAL);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        mg_wd_thread_unblocked = 1;
    }
}

static void mg_on_signal(int signo) {
    (void)signo;
    int saved_errno = errno;
    mg_vm *vm = mg_wd_thread_vm;
    if (vm != NULL && atomic_load_explicit(&vm->pending, memory_order_relaxed) != 0) mg_arm_running(vm);
    errno = saved_errno;
}

static void mg_watchdog_check(mg_vm *vm) {
    lua_State *running = atomic_load_explicit(&vm->running, memory_order_acquire);
    if (running == NULL) return;
    uint64_t serial = atomic_load_explicit(&vm->serial, memory_order_relaxed);
    if (serial != vm->wd_seen_serial) {
        vm->wd_seen_serial = serial;
        vm->wd_seen_count = 0;
    }
    vm->wd_seen_count++;
    uint32_t ticks = atomic_fetch_add_explicit(&vm->run_ticks, 1, memory_order_relaxed) + 1;
    // Seen on n consecutive ticks means it has run for at least n - 1 full ticks.
    uint64_t kind = 0;
    if (vm->deadline_ticks != 0 && ticks > vm->deadline_ticks) kind = MG_PENDING_DEADLINE;
    else if (vm->slice_ticks != 0 && vm->wd_seen_count > vm->slice_ticks) kind = MG_PENDING_SLICE;
    if (kind == 0) return;
    atomic_store_explicit(&vm->pending, (serial << 2) | kind, memory_order_relaxed);
    pthread_kill(vm->loop_thread, MG_SIGNAL);
}

static void *mg_watchdog_main(void *unused) {
    (void)unused;
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, MG_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &blocked, NULL);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;;) {
        next.tv_nsec += (long)MG_TICK_NS;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec += 1;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {}
        // After a stall (machine suspended, heavy steal) do not replay missed ticks.
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec + 1) next = now;
        pthread_mutex_lock(&mg_wd_lock);
        if (mg_wd_head == NULL) {
            while (mg_wd_head == NULL) pthread_cond_wait(&mg_wd_registered, &mg_wd_lock);
            clock_gettime(CLOCK_MONOTONIC, &next);
        }
        for (mg_vm *vm = mg_wd_head; vm != NULL; vm = vm->wd_next) mg_watchdog_check(vm);
        pthread_mutex_unlock(&mg_wd_lock);
    }
    return NULL;
}

void mg_watchdog_register(mg_vm *vm) {
    pthread_mutex_lock(&mg_wd_lock);
    if (!mg_wd_started) {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_handler = mg_on_signal;
        action.sa_flags = SA_RESTART;
        sigemptyset(&action.sa_mask);
        sigaction(MG_SIGNAL, &action, NULL);
        pthread_t thread;
        if (pthread_create(&thread, NULL, mg_watchdog_main, NULL) == 0) {
            pthread_detach(thread);
            mg_wd_started = 1;
        }
    }
    if (!vm->wd_registered) {
        vm->wd_next = mg_wd_head;
        mg_wd_head = vm;
        vm->wd_registered = 1;
        pthread_cond_signal(&mg_wd_registered);
    }
    pthread_mutex_unlock(&mg_wd_lock);
}

void mg_watchdog_unregister(mg_vm *vm) {
    pthread_mutex_lock(&mg_wd_lock);
    if (vm->wd_registered) {
        for (mg_vm **link = &mg_wd_head; *link != NULL; link = &(*link)->wd_next) {
            if (*link == vm) {
                *link = vm->wd_next;
                break;
            }
        }
        vm->wd_registered = 0;
    }
    pthread_mutex_unlock(&mg_wd_lock);
}

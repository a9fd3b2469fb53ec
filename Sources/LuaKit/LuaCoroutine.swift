import CLua
import CLuaShim

/// Where a preempted run goes to wait for its next slice: the driver calls
/// `requeue` with the step to run later (an event loop: `loop.execute(step)`), so
/// that the work queued behind it runs first.
public typealias LuaRequeue = (@escaping () -> Void) -> Void

/// One run of a Lua function as a coroutine, driven by Swift.
///
/// Threads are pooled: a thread whose run finished is reused for the next run (a
/// reused thread resumes in tens of nanoseconds, a new one costs about half a
/// microsecond). A thread whose run failed is dropped, since its stack is dead.
final class LuaCoroutine {
    /// Unowned without checks: the VM owns its pooled coroutines, and `activeVM`
    /// keeps it alive while a run is in progress. (A checked `unowned` costs a
    /// retain/release pair per access, which showed up in the run benchmark.)
    unowned(unsafe) let vm: LuaVM
    let thread: OpaquePointer
    let ref: Int32

    /// Incremented for each run, so a stale `LuaResumeHandle` cannot resume a later run.
    private(set) var generation: UInt64 = 0
    private var ticks: UInt32 = 0
    private var instructionsLeft: Int64 = 0
    private(set) var state: State = .idle
    private var requeue: LuaRequeue?
    private var completion: ((Result<[LuaValue], LuaError>) -> Void)?
    /// Keeps the VM alive while a run is in progress (a parked run may be all that
    /// references it); nil while pooled, so the pool does not form a cycle.
    private var activeVM: LuaVM?
    /// What the driver attached to this run (a request, a timer): host functions read
    /// it through `LuaCall.runContext`. Released when the run ends.
    var context: AnyObject?
    /// Values of a resume that came before the run had yielded (see `drive`).
    private var earlyResume: [LuaValue]?

    enum State { case idle, running, preempted, waiting }

    init(vm: LuaVM) {
        self.vm = vm
        var ref: Int32 = 0
        self.thread = mg_new_owned_thread(vm.raw, &ref)
        self.ref = ref
    }

    /// Puts `function`, `leading` (when given) and `arguments` on the thread for a new run.
    func prepare(_ function: LuaFunction, leading: LuaReference? = nil, _ arguments: [LuaValue], holdingVM: Bool) throws(LuaError) {
        // An idle thread's stack is empty and Lua guarantees LUA_MINSTACK (20) free
        // slots, so small argument lists need no check.
        if arguments.count >= 16, lua_checkstack(thread, Int32(arguments.count) + 1) == 0 {
            throw .conversion(message: "too many arguments")
        }
        generation &+= 1
        earlyResume = nil
        if holdingVM { activeVM = vm }
        ticks = 0
        instructionsLeft = vm.limits.instructions
        function.push(onto: thread)
        leading?.push(onto: thread)
        for argument in arguments { argument.push(onto: thread) }
    }

    /// The outcome of one resume.
    enum Step {
        case finished([LuaValue])
        case preempted
        case waiting
        case failed(LuaError)
    }

    /// Resumes the thread once with the `argumentCount` values on top of its stack.
    func resume(argumentCount: Int32) -> Step {
        let vm = self.vm
        let previousRun = vm.currentRun
        vm.currentRun = self
        state = .running
        var resultCount: Int32 = 0
        var yieldKind: Int32 = 0
        let status = mg_resume(vm.raw, thread, argumentCount, &resultCount, &ticks, &instructionsLeft, &yieldKind)
        vm.currentRun = previousRun
        switch status {
        case LUA_OK:
            if resultCount == 0 { return .finished([]) }
            do {
                let results = try vm.readResults(from: thread, count: resultCount)
                lua_settop(thread, 0)
                return .finished(results)
            } catch {
                lua_settop(thread, 0)
                return .failed(error)
            }
        case LUA_YIELD where Int(yieldKind) == MG_YIELD_SLICE:
            state = .preempted
            return .preempted
        case LUA_YIELD where Int(yieldKind) == MG_YIELD_HOST:
            state = .waiting
            return .waiting
        case LUA_YIELD:
            return .failed(
                .runtime(
                    message: "coroutine.yield called outside a coroutine created by the script",
                    traceback: traceback("coroutine.yield outside a coroutine")))
        default:
            let message = vm.popMessage(from: thread)
            return .failed(vm.error(forAbortOr: message, traceback: traceback(message)))
        }
    }

    private func traceback(_ message: String) -> String {
        let L = vm.state
        mg_push_traceback(L, thread, message)
        return vm.popMessage(from: L)
    }

    // MARK: Driving a run to completion

    func start(requeue: LuaRequeue?, completion: @escaping (Result<[LuaValue], LuaError>) -> Void, argumentCount: Int32) {
        self.requeue = requeue
        self.completion = completion
        drive(argumentCount: argumentCount)
    }

    /// Resumes until the run finishes, fails, waits for the host, or (with a requeue)
    /// is preempted; without a requeue a preempted run continues at once.
    func drive(argumentCount: Int32) {
        var count = argumentCount
        while true {
            switch resume(argumentCount: count) {
            case .finished(let results):
                finish(.success(results))
                return
            case .failed(let error):
                finish(.failure(error))
                return
            case .waiting:
                if requeue == nil {
                    finish(.failure(.runtime(message: "a host function waited in a synchronous run", traceback: "")))
                    return
                }
                // The wait was over before the host function returned (a future that was
                // already complete): continue at once with its values.
                if let values = earlyResume {
                    earlyResume = nil
                    for value in values { value.push(onto: thread) }
                    count = Int32(values.count)
                    continue
                }
                return
            case .preempted:
                if let requeue {
                    let expected = generation
                    requeue { [self] in
                        guard generation == expected, state == .preempted else { return }
                        vm.isRunning = true
                        drive(argumentCount: 0)
                        if state != .idle { vm.isRunning = false }
                    }
                    return
                }
                count = 0
            }
        }
    }

    /// Continues a run parked by a host function, passing it `values`.
    func resumeFromHost(generation expected: UInt64, values: [LuaValue]) -> Bool {
        guard generation == expected else { return false }
        if values.count >= 16, lua_checkstack(thread, Int32(values.count)) == 0 { return false }
        if state == .running && earlyResume == nil {
            // Called from inside the host function that is about to answer `.yield`.
            earlyResume = values
            return true
        }
        guard state == .waiting else { return false }
        for value in values { value.push(onto: thread) }
        vm.isRunning = true
        drive(argumentCount: Int32(values.count))
        // A finished run cleared `isRunning` itself and may have released the VM;
        // an unfinished one still holds it (`activeVM`).
        if state != .idle { vm.isRunning = false }
        return true
    }

    /// Host functions may wait only in runs whose driver can wait (`start` with a requeue).
    var allowsWaiting: Bool { requeue != nil }

    /// Marks the run over (the caller returns the coroutine to the pool or drops it).
    func end() {
        state = .idle
        activeVM = nil
        context = nil
    }

    private func finish(_ result: Result<[LuaValue], LuaError>) {
        // Moved out, not copied: keeps the VM alive to the end of this function.
        let hold = activeVM.take()
        let vm = hold ?? self.vm
        state = .idle
        let completion = self.completion
        self.completion = nil
        self.requeue = nil
        self.context = nil
        if case .success = result {
            vm.release(self, reusable: true)
        } else {
            vm.release(self, reusable: false)
        }
        // Lua has returned: the completion may start other runs.
        vm.isRunning = false
        completion?(result)
    }
}

/// Resumes a run that a host function suspended (`LuaCall.suspend()`).
/// Call it on the VM's thread, once.
public struct LuaResumeHandle {
    let coroutine: LuaCoroutine
    let generation: UInt64

    /// Continues the run; `values` become the results of the host function call.
    /// Returns false when the run is no longer waiting (already resumed or ended).
    @discardableResult
    public func resume(with values: [LuaValue] = []) -> Bool {
        coroutine.resumeFromHost(generation: generation, values: values)
    }
}

extension LuaVM {
    /// Runs `function` as a pooled coroutine to completion.
    ///
    /// With `requeue`, a run that uses up its slice is handed to `requeue` and
    /// continues when the queue gets to it, and host functions may wait (the run
    /// continues when they resume it). `completion` is called exactly once, on this
    /// VM's thread.
    ///
    /// `context` is handed to the host functions the run calls (`LuaCall.runContext`).
    /// `leading`, when given, is the first argument, passed as the Lua value it is (a
    /// plugin's config table), before `arguments`.
    public func start(
        _ function: LuaFunction, leading: LuaReference? = nil, _ arguments: [LuaValue] = [], context: AnyObject? = nil,
        requeue: LuaRequeue?, completion: @escaping (Result<[LuaValue], LuaError>) -> Void
    ) {
        do throws(LuaError) {
            try beginRun()
            let coroutine = acquireCoroutine()
            try coroutine.prepare(function, leading: leading, arguments, holdingVM: true)
            coroutine.context = context
            let count = arguments.count + (leading == nil ? 0 : 1)
            coroutine.start(requeue: requeue, completion: completion, argumentCount: Int32(count))
            isRunning = false
        } catch {
            isRunning = false
            completion(.failure(error))
        }
    }

    /// Runs `function` as a pooled coroutine and returns its results; preemptions
    /// continue at once, and host functions cannot wait.
    public func run(_ function: LuaFunction, _ arguments: [LuaValue] = [], context: AnyObject? = nil) throws(LuaError)
        -> [LuaValue]
    {
        try beginRun()
        defer { isRunning = false }
        let coroutine = acquireCoroutine()
        coroutine.context = context
        do {
            // No hold on the VM: `self` is alive for the whole synchronous run.
            try coroutine.prepare(function, arguments, holdingVM: false)
        } catch {
            release(coroutine, reusable: false)
            throw error
        }
        var argumentCount = Int32(arguments.count)
        while true {
            switch coroutine.resume(argumentCount: argumentCount) {
            case .finished(let results):
                coroutine.end()
                release(coroutine, reusable: true)
                return results
            case .preempted:
                argumentCount = 0
            case .waiting:
                coroutine.end()
                release(coroutine, reusable: false)
                throw .runtime(message: "a host function waited in a synchronous run", traceback: "")
            case .failed(let error):
                coroutine.end()
                release(coroutine, reusable: false)
                throw error
            }
        }
    }

    func acquireCoroutine() -> LuaCoroutine {
        idleCoroutines.popLast() ?? LuaCoroutine(vm: self)
    }

    /// Returns a finished coroutine to the pool, or drops a failed one.
    func release(_ coroutine: LuaCoroutine, reusable: Bool) {
        if reusable && idleCoroutines.count < 1024 {
            idleCoroutines.append(coroutine)
        } else {
            luaL_unref(state, mg_registryindex(), coroutine.ref)
        }
    }
}

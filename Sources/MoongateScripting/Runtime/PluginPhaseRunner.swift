import LuaKit

/// A hook that failed: its plugin, phase and error (runtime error with chunk:line, or
/// a limit abort).
public struct PluginHookFailure: Error, Sendable {
    public let plugin: String
    public let phase: PluginPhase
    public let error: LuaError
}

/// How a phase ended for a request.
public enum PluginPhaseOutcome: Sendable {
    /// Every hook ran (fail-open failures were logged and skipped).
    case proceed
    /// A hook called `gate.response.exit`: the remaining hooks of the phase were skipped.
    case exited
    /// A hook failed: the request gets a 500.
    case failed(PluginHookFailure)
}

extension PluginVM {
    /// Runs the `phase` hooks of `chain` for `request`, one after the other, each as its
    /// own coroutine run (so each has its own slice, deadline and error). `completion`
    /// runs on the event loop, synchronously when no hook waited or was preempted.
    public func runPhase(
        _ phase: PluginPhase, chain: PluginChain, plan: PluginPlan, request: PluginRequest,
        completion: @escaping (PluginPhaseOutcome) -> Void
    ) {
        let hooks = chain.hooks(phase)
        guard !hooks.isEmpty else { return completion(.proceed) }
        runHooks(hooks, from: 0, phase: phase, plan: plan, request: request, completion: completion)
    }

    private func runHooks(
        _ hooks: [Int], from position: Int, phase: PluginPhase, plan: PluginPlan, request: PluginRequest,
        completion: @escaping (PluginPhaseOutcome) -> Void
    ) {
        guard position < hooks.count else { return completion(.proceed) }
        let index = hooks[position]
        request.phase = phase
        request.pluginName = plan.instances[index].plugin.name
        // The plugin's definition is looked up again on failure rather than copied
        // into the closure (a copy of the whole struct per run).
        start(plan: plan.id, instance: index, phase: phase, context: request, arguments: []) { [self] result in
            switch result {
            case .success:
                if request.exit != nil && (phase == .rewrite || phase == .access) { return completion(.exited) }
            case .failure(let error):
                let plugin = plan.instances[index].plugin
                let failure = PluginHookFailure(plugin: plugin.name, phase: phase, error: error)
                report(failure, failOpen: plugin.failOpen)
                if !plugin.failOpen { return completion(.failed(failure)) }
            }
            runHooks(hooks, from: position + 1, phase: phase, plan: plan, request: request, completion: completion)
        }
    }

    /// Runs the body_filter hooks over one chunk: each gets the previous one's output
    /// (`nil` returned keeps the chunk). On failure the response cannot be completed.
    public func runBodyFilter(
        chain: PluginChain, plan: PluginPlan, request: PluginRequest, chunk: [UInt8], eof: Bool,
        completion: @escaping (Result<[UInt8], PluginHookFailure>) -> Void
    ) {
        filterChunk(chain.hooks(.bodyFilter), from: 0, plan: plan, request: request, chunk: chunk, eof: eof, completion: completion)
    }

    private func filterChunk(
        _ hooks: [Int], from position: Int, plan: PluginPlan, request: PluginRequest, chunk: [UInt8], eof: Bool,
        completion: @escaping (Result<[UInt8], PluginHookFailure>) -> Void
    ) {
        guard position < hooks.count else { return completion(.success(chunk)) }
        let index = hooks[position]
        let plugin = plan.instances[index].plugin
        request.phase = .bodyFilter
        request.pluginName = plugin.name
        start(plan: plan.id, instance: index, phase: .bodyFilter, context: request, arguments: [.string(chunk), .boolean(eof)]) {
            [self] result in
            var output = chunk
            switch result {
            case .success(let values):
                switch values.first ?? .nil {
                case .nil: break
                case .string(let bytes): output = bytes
                case let other:
                    let failure = PluginHookFailure(
                        plugin: plugin.name, phase: .bodyFilter,
                        error: .runtime(message: "body_filter must return a string or nil, not \(PDKLog.describe(other))", traceback: ""))
                    report(failure, failOpen: plugin.failOpen)
                    if !plugin.failOpen { return completion(.failure(failure)) }
                }
            case .failure(let error):
                let failure = PluginHookFailure(plugin: plugin.name, phase: .bodyFilter, error: error)
                report(failure, failOpen: plugin.failOpen)
                if !plugin.failOpen { return completion(.failure(failure)) }
            }
            filterChunk(hooks, from: position + 1, plan: plan, request: request, chunk: output, eof: eof, completion: completion)
        }
    }

    /// Logs and counts a failed hook (SPEC §3: plugin, phase and chunk:line).
    func report(_ failure: PluginHookFailure, failOpen: Bool) {
        environment.services.errors.record(plugin: failure.plugin, phase: failure.phase.rawValue, kind: failure.error.kind)
        let message: String
        switch failure.error {
        case .runtime(let text, _): message = generation.withFullPaths(text)
        default: message = failure.error.description
        }
        environment.logSink?(PluginLogRecord(level: "err", plugin: failure.plugin, message: "\(failure.phase.rawValue): \(message)"))
        environment.services.logger.error(
            "plugin hook failed\(failOpen ? " (fail_open: request continues)" : "")",
            metadata: [
                "plugin": "\(failure.plugin)", "phase": "\(failure.phase.rawValue)", "kind": "\(failure.error.kind)",
                "error": "\(message)",
            ])
    }
}

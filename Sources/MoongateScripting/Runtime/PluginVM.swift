import LuaKit
import NIOCore

/// One event loop's Lua VM for one script generation (ARCHITECTURE: one VM per event
/// loop). It has the `gate` API, the generation's modules (from the generation's
/// snapshot, never from disk), and the plugin instances of the plans that used it.
///
/// Requests in flight keep the VM they started on; when a new script generation is
/// published the loop builds a new VM, and this one goes away with its last request
/// or timer. Confined to its event loop.
public final class PluginVM {
    public let generation: ScriptGeneration
    let vm: LuaVM
    let environment: PluginVMEnvironment
    /// The `gate` functions registered, with their phases (the docs are checked against it).
    public let functions: [(name: String, phases: PDKPhases)]

    private let hooksFunction: LuaFunction
    private let installFunction: LuaFunction
    private let uninstallFunction: LuaFunction
    private let dropContextFunction: LuaFunction
    private let timerFunction: LuaFunction
    /// Installed plans by id; the current one (the latest prepared) is also kept apart,
    /// so that a request on it finds it without hashing.
    private var installed: [Int: InstalledPlan] = [:]
    private var current: InstalledPlan?
    private var contextsToDrop: [LuaValue] = []
    static let contextDropBatch = 32

    public init(generation: ScriptGeneration, environment: PluginVMEnvironment) throws(LuaError) {
        self.generation = generation
        self.environment = environment
        vm = try LuaVM(limits: generation.limits, modules: generation.modules)
        let pdk = PDKRegistrar(vm: vm, environment: environment)
        for table in ["gate.ctx", "gate.timer", "gate.shared", "gate.consumers"] { vm.setGlobal(table, .map([:])) }
        PDKRequest.register(pdk)
        PDKClient.register(pdk)
        PDKService.register(pdk)
        PDKResponse.register(pdk)
        PDKRouting.register(pdk)
        PDKUtilities.register(pdk)
        PDKLog.register(pdk)
        PDKShared.register(pdk)
        // Timers need the VM: the closure resolves it weakly, when the timer is due.
        var schedule: (Int64, TimeAmount) -> Void = { _, _ in }
        PDKAsync.register(pdk) { id, delay in schedule(id, delay) }
        pdk.register("__moongate_host.ctx_ids", .request, shownAs: "gate.ctx") { [contextIDs = pdk.contextIDs] call, context in
            guard let request = context as? PluginRequest else { return .error("gate.ctx is only available during a request") }
            // ctx_ids(true) only looks: nil when the request has no context yet.
            if !request.usedContext, call.argumentCount >= 1, (try? call.argument(1)) == .boolean(true) {
                return call.return(.nil)
            }
            return call.return(.integer(contextIDs.id(of: request)), .string(request.pluginName))
        }
        vm.printHandler = { [environment] line in
            environment.logSink?(PluginLogRecord(level: "info", plugin: "", message: line))
            environment.services.logger.info("\(line)", metadata: ["source": "print"])
        }
        _ = try vm.call(try vm.load(PluginPrelude.source, name: "moongate/prelude"))
        hooksFunction = try vm.globalFunction("__moongate_runtime.hooks")
        installFunction = try vm.globalFunction("__moongate_runtime.install")
        uninstallFunction = try vm.globalFunction("__moongate_runtime.uninstall")
        dropContextFunction = try vm.globalFunction("__moongate_runtime.drop_contexts")
        timerFunction = try vm.globalFunction("__moongate_runtime.run_timer")
        vm.setGlobal("__moongate_runtime", .nil)
        functions =
            pdk.functions.filter { !$0.name.hasPrefix("__") }
            + [
                ("gate.ctx.shared", .request), ("gate.ctx.plugin", .request), ("gate.timer.at", .anywhere),
                ("gate.request.get_query", .request),
                ("gate.client.authenticate", [.rewrite, .access]), ("gate.client.get_consumer", .request),
                ("gate.client.get_credential", .request), ("gate.consumers.find", .request),
                ("gate.shared.dict", .anywhere), ("dict:get", .anywhere), ("dict:set", .anywhere), ("dict:add", .anywhere),
                ("dict:incr", .anywhere), ("dict:delete", .anywhere),
            ]
        schedule = { [weak self] id, delay in
            guard let self else { return }
            environment.eventLoop.scheduleTask(in: delay) { self.runTimer(id) }
        }
    }

    /// Bytes the VM holds now.
    public var memoryInUse: Int { vm.memoryInUse }

    // MARK: Plans

    /// Makes `plan`'s instances callable here (requiring their plugins and running
    /// their `init` hooks) the first time a request uses it.
    public func prepare(_ plan: PluginPlan) throws(LuaError) {
        guard installed[plan.id] == nil else { return }
        let list = LuaValue.array(
            plan.instances.map { instance in .map(["name": .string(instance.plugin.name), "conf": instance.conf]) })
        _ = try vm.call(installFunction, [.integer(Int64(plan.id)), list])
        var instances: [InstalledInstance] = []
        for index in plan.instances.indices {
            let values = try vm.references(from: hooksFunction, [.integer(Int64(plan.id)), .integer(Int64(index + 1))])
            instances.append(InstalledInstance(conf: values.first ?? nil, hooks: values.dropFirst().map { $0 as? LuaFunction }))
        }
        let entry = InstalledPlan(id: plan.id, instances: instances)
        installed[plan.id] = entry
        // The previous plan stays while requests use it.
        if let previous = current, previous.requests == 0 { uninstall(previous.id) }
        current = entry
        for (index, instance) in plan.instances.enumerated() where instance.plugin.phases.contains(.initialize) {
            let context = PluginRunContext(phase: .initialize, pluginName: instance.plugin.name)
            start(plan: plan.id, instance: index, phase: .initialize, context: context, arguments: []) { [environment] result in
                if case .failure(let error) = result {
                    environment.services.errors.record(plugin: instance.plugin.name, phase: "init", kind: error.kind)
                    environment.services.logger.error(
                        "plugin init hook failed", metadata: ["plugin": "\(instance.plugin.name)", "error": "\(error)"])
                }
            }
        }
    }

    /// A request started using `plan` (it stays installed until the request ends).
    public func retain(_ plan: PluginPlan) {
        installedPlan(plan.id)?.requests += 1
    }

    private func installedPlan(_ id: Int) -> InstalledPlan? {
        if let current, current.id == id { return current }
        return installed[id]
    }

    /// The request is over: its plan may go, and its `gate.ctx` tables do (in
    /// batches: one call into Lua per `contextDropBatch` requests).
    public func release(_ plan: PluginPlan, request: PluginRequest) {
        if request.usedContext {
            request.usedContext = false
            contextsToDrop.append(.integer(request.contextID))
            if contextsToDrop.count >= PluginVM.contextDropBatch {
                _ = try? vm.call(dropContextFunction, [.array(contextsToDrop)])
                contextsToDrop.removeAll(keepingCapacity: true)
            }
        }
        guard let entry = installedPlan(plan.id) else { return }
        entry.requests -= 1
        if entry.requests == 0, entry !== current { uninstall(entry.id) }
    }

    private func uninstall(_ id: Int) {
        installed[id] = nil
        _ = try? vm.call(uninstallFunction, [.integer(Int64(id))])
    }

    // MARK: Hook runs

    /// Runs one hook (instance `index` of `plan`, 0-based) as a pooled coroutine. A hook
    /// that uses up its slice is requeued behind the loop's other work; `completion`
    /// runs on the loop when it finishes or fails.
    public func start(
        plan: Int, instance index: Int, phase: PluginPhase, context: PluginRunContext, arguments: [LuaValue],
        completion: @escaping (Result<[LuaValue], LuaError>) -> Void
    ) {
        let instances = installedPlan(plan)?.instances ?? []
        guard index < instances.count, let hook = instances[index].hooks[phase.ordinal] else {
            return completion(.failure(.runtime(message: "plugin instance \(index + 1) of plan \(plan) is not installed", traceback: "")))
        }
        vm.start(hook, leading: instances[index].conf, arguments, context: context, requeue: requeue, completion: completion)
    }

    /// Where preempted runs wait (made once: a closure per run showed in the profile).
    private lazy var requeue: LuaRequeue = {
        if let requeue = environment.requeue { return requeue }
        let loop = environment.eventLoop
        return { step in loop.execute(step) }
    }()

    private func runTimer(_ id: Int64) {
        let context = PluginRunContext(phase: nil, pluginName: "timer")
        vm.start(timerFunction, [.integer(id)], context: context, requeue: requeue) {
            [environment] result in
            if case .failure(let error) = result {
                environment.services.errors.record(plugin: "timer", phase: "timer", kind: error.kind)
                environment.services.logger.error("gate.timer.at callback failed", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// A plan installed in the VM: its instances, and how many requests use it.
private final class InstalledPlan {
    let id: Int
    let instances: [InstalledInstance]
    var requests = 0

    init(id: Int, instances: [InstalledInstance]) {
        self.id = id
        self.instances = instances
    }
}

/// A plugin instance as the VM calls it: its config table and its phase functions (by
/// `PluginPhase.ordinal`; nil where the plugin has none), held as Lua values.
private struct InstalledInstance {
    let conf: LuaReference?
    let hooks: [LuaFunction?]
}

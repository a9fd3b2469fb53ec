import Logging
import LuaKit
import MoongateCore
import MoongateScripting
import NIOCore

/// State owned by one event loop: its upstream connection pool, its balancers and
/// its plugin VM. Touched only from that loop, so nothing here locks (but the
/// directory, read once per generation).
final class LoopContext {
    let pool: UpstreamPool
    let flushes: TickFlushes
    private let upstreams: UpstreamDirectory
    /// The upstreams of generation `upstreamsGeneration`: the directory's runtimes
    /// (reloads apply to the directory before they publish, so a generation's
    /// upstreams are all there) with their specs.
    private var upstreamEntries: [String: UpstreamEntry] = [:]
    private var upstreamsGeneration = -1
    private var balancers: [String: LoopBalancer] = [:]
    private var splits: [String: (generation: Int, balancer: SmoothWeightedRoundRobin)] = [:]
    private let pluginEnvironment: PluginVMEnvironment
    /// The VM of the newest script generation seen here. Requests keep the VM they
    /// started with, so a replaced VM lives until its last request ends.
    private var pluginVM: PluginVM?

    private let sliceRequeue: SliceRequeue

    init(eventLoop: EventLoop, plugins: PluginServices, upstreams: UpstreamDirectory) {
        flushes = TickFlushes(eventLoop: eventLoop)
        pool = UpstreamPool(eventLoop: eventLoop, flushes: flushes)
        self.upstreams = upstreams
        pluginEnvironment = PluginVMEnvironment(eventLoop: eventLoop, services: plugins, http: PDKHTTPClient())
        let requeue = SliceRequeue(eventLoop: eventLoop)
        sliceRequeue = requeue
        pluginEnvironment.requeue = { step in requeue.enqueue(step) }
        if eventLoop.inEventLoop {
            requeue.start()
        } else {
            eventLoop.execute { requeue.start() }
        }
    }

    /// This loop's VM for `plan`'s script generation, with `plan` installed; nil (and
    /// logged) when the VM cannot be built.
    func pluginVM(for plan: PluginPlan) -> PluginVM? {
        do throws(LuaError) {
            let vm: PluginVM
            if let current = pluginVM, current.generation === plan.generation {
                vm = current
            } else {
                vm = try PluginVM(generation: plan.generation, environment: pluginEnvironment)
                pluginVM = vm
            }
            try vm.prepare(plan)
            return vm
        } catch {
            pluginEnvironment.services.logger.error(
                "cannot prepare the plugin VM", metadata: ["generation": "\(plan.generation.number)", "error": "\(error)"])
            return nil
        }
    }

    /// The upstream `name` of `config`'s generation: its spec and live state, in one
    /// lookup (and without copying the spec, a struct of many fields, per request).
    func upstream(named name: String, in config: ServingConfig) -> UpstreamEntry? {
        if upstreamsGeneration != config.generation {
            let runtimes = upstreams.runtimes
            upstreamEntries = [:]
            for (name, spec) in config.runtime.upstreams {
                if let runtime = runtimes[name] { upstreamEntries[name] = UpstreamEntry(spec: spec, runtime: runtime) }
            }
            upstreamsGeneration = config.generation
        }
        return upstreamEntries[name]
    }

    /// This loop's balancer for `runtime` over `snapshot`'s targets, rebuilt when the
    /// targets or the algorithm changed.
    func balancer(for runtime: UpstreamRuntime, algorithm: LoadBalancingAlgorithm, snapshot: UpstreamMembersSnapshot, now: UInt64)
        -> LoopBalancer
    {
        if let cached = balancers[runtime.name], cached.isCurrent(for: runtime, algorithm: algorithm, snapshot: snapshot) {
            return cached
        }
        let rebuilt = LoopBalancer(
            runtime: runtime, algorithm: algorithm, snapshot: snapshot, previous: balancers[runtime.name], now: now)
        balancers[runtime.name] = rebuilt
        return rebuilt
    }

    /// The upstream a route sends this request to (weighted split, smooth round-robin).
    func upstreamName(for route: CompiledRoute, generation: Int) -> String? {
        if route.upstreams.count == 1 { return route.upstreams[0].name }
        let balancer: SmoothWeightedRoundRobin
        if let cached = splits[route.name], cached.generation == generation {
            balancer = cached.balancer
        } else {
            balancer = SmoothWeightedRoundRobin(
                targets: route.upstreams.map { BalancerTarget(address: $0.name, weight: $0.weight) }, previous: nil, now: 0)
            splits[route.name] = (generation, balancer)
        }
        var selection = balancer.selection(hashKey: 0, now: 0)
        return selection.next().map { route.upstreams[$0].name }
    }
}

/// An upstream as one generation configures it, with its live state.
final class UpstreamEntry {
    let spec: UpstreamSpec
    let runtime: UpstreamRuntime

    init(spec: UpstreamSpec, runtime: UpstreamRuntime) {
        self.spec = spec
        self.runtime = runtime
    }
}

/// The LoopContext of every event loop of the group, built once at start-up.
final class LoopContexts: @unchecked Sendable {
    // Written only in init; each context is then used only from its own loop.
    private let contexts: [ObjectIdentifier: LoopContext]

    init(group: EventLoopGroup, plugins: PluginServices, upstreams: UpstreamDirectory) {
        var contexts: [ObjectIdentifier: LoopContext] = [:]
        for loop in group.makeIterator() {
            contexts[ObjectIdentifier(loop)] = LoopContext(eventLoop: loop, plugins: plugins, upstreams: upstreams)
        }
        self.contexts = contexts
        for context in contexts.values {
            let loop = context.pool.eventLoop
            context.pool.askOtherLoopsForRoom = { [unowned self] upstream in askForRoom(upstream, wakingWaitersOn: loop) }
        }
    }

    /// A waiter on `waiting` needs a connection of `upstream` and its loop has no idle
    /// one to close: each other loop closes one idle connection of it (the slots are
    /// shared), then `waiting` serves its waiters again.
    private func askForRoom(_ upstream: String, wakingWaitersOn waiting: EventLoop) {
        for (id, context) in contexts where id != ObjectIdentifier(waiting) {
            let loop = context.pool.eventLoop
            loop.execute {
                guard self.context(for: loop).pool.closeOneIdle(of: upstream) else { return }
                // The close completes a tick later on `loop`; the slot is free after it.
                loop.execute { waiting.execute { self.context(for: waiting).pool.serveWaiters(of: upstream) } }
            }
        }
    }

    /// Runs `body` with each loop's context, on that loop.
    func forEachOnItsLoop(_ body: @escaping @Sendable (LoopContext) -> Void) {
        for (_, context) in contexts {
            let loop = context.pool.eventLoop
            loop.execute { body(self.context(for: loop)) }
        }
    }

    func context(for loop: EventLoop) -> LoopContext {
        loop.preconditionInEventLoop()
        return contexts[ObjectIdentifier(loop)]!
    }
}

import MoongateCore
import NIOCore

/// State owned by one event loop: its upstream connection pool and its balancers.
/// Touched only from that loop, so nothing here locks.
final class LoopContext {
    let pool: UpstreamPool
    private var balancers: [String: (generation: Int, balancer: SmoothWeightedRoundRobin)] = [:]
    private var splits: [String: (generation: Int, balancer: SmoothWeightedRoundRobin)] = [:]

    init(eventLoop: EventLoop) {
        pool = UpstreamPool(eventLoop: eventLoop)
    }

    /// The target choices for `upstream`: first choice, then fallbacks.
    func targetSelection(for upstream: UpstreamSpec, generation: Int) -> BalancerSelection {
        if let cached = balancers[upstream.name], cached.generation == generation {
            return cached.balancer.selection(hashKey: nil)
        }
        let balancer = SmoothWeightedRoundRobin(targets: upstream.targets)
        balancers[upstream.name] = (generation, balancer)
        return balancer.selection(hashKey: nil)
    }

    /// The upstream a route sends this request to (weighted split, smooth round-robin).
    func upstreamName(for route: CompiledRoute, generation: Int) -> String? {
        if route.upstreams.count == 1 { return route.upstreams[0].name }
        let balancer: SmoothWeightedRoundRobin
        if let cached = splits[route.name], cached.generation == generation {
            balancer = cached.balancer
        } else {
            balancer = SmoothWeightedRoundRobin(
                targets: route.upstreams.map { BalancerTarget(address: $0.name, weight: $0.weight) })
            splits[route.name] = (generation, balancer)
        }
        var selection = balancer.selection(hashKey: nil)
        return selection.next().map { route.upstreams[$0].name }
    }
}

/// The LoopContext of every event loop of the group, built once at start-up.
final class LoopContexts: @unchecked Sendable {
    // Written only in init; each context is then used only from its own loop.
    private let contexts: [ObjectIdentifier: LoopContext]

    init(group: EventLoopGroup) {
        var contexts: [ObjectIdentifier: LoopContext] = [:]
        for loop in group.makeIterator() {
            contexts[ObjectIdentifier(loop)] = LoopContext(eventLoop: loop)
        }
        self.contexts = contexts
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

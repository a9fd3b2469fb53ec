import MoongateCore
import MoongateScripting
import NIOHTTP1

/// The plugin side of one request in `ProxyHandler`: the VM and plan it started
/// with, its `PluginRequest`, the chain chosen at routing, and the response parts
/// waiting while a header_filter or body_filter hook runs (they are processed in
/// order, one at a time, because a hook may wait or be preempted).
final class PluginExchange {
    let vm: PluginVM
    let plan: PluginPlan
    let request: PluginRequest
    /// The request as it came, and the configuration generation it started with.
    let incoming: IncomingRequest
    let config: ServingConfig
    /// The global chain until the request is routed.
    var chain: PluginChain
    /// Set once the request is routed (after the rewrite phase).
    var routed: (match: RouteMatch, route: CompiledRoute, upstreamName: String)?
    /// A plugin asked for the body (`gate.request.get_body`): it is buffered whole.
    var collectingBody = false
    /// A response hook is running: later response parts wait in `pending`.
    var busy = false
    var pending: [UpstreamResponseParser.Event] = []
    /// The upstream's response may carry a body (not HEAD, 204 or 304).
    var responseHasBody = true
    private(set) var finished = false

    init(vm: PluginVM, plan: PluginPlan, request: PluginRequest, incoming: IncomingRequest, config: ServingConfig) {
        self.vm = vm
        self.plan = plan
        self.request = request
        self.incoming = incoming
        self.config = config
        chain = plan.globalChain
        vm.retain(plan)
    }

    /// The response goes through hooks (header changes asked for earlier count too).
    var filtersResponse: Bool {
        chain.has(.headerFilter) || chain.has(.bodyFilter) || !request.pendingResponseEdits.isEmpty
            || request.pendingResponseStatus != nil
    }

    var filtersBody: Bool { chain.has(.bodyFilter) && responseHasBody }

    /// Runs the log hooks (the response is complete and cannot change), then lets
    /// the VM drop the request's state. Once.
    func finish() {
        guard !finished else { return }
        finished = true
        request.pendingResponseEdits = []
        // Without log hooks no closure is made.
        guard chain.has(.log) else { return vm.release(plan, request: request) }
        vm.runPhase(.log, chain: chain, plan: plan, request: request) { [self] _ in
            vm.release(plan, request: request)
        }
    }
}

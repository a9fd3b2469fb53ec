import MoongateCore
import MoongateScripting
import NIOCore
import NIOPosix
import Testing

/// A VM keeps a plan's instances while requests use it: the current plan stays, a
/// replaced plan goes with its last request (not before, not never). A request's
/// `gate.ctx` tables and consumer go when it ends.
@Suite struct PluginVMPlanTests {
    static let plugin = """
        local plugin = { priority = 1, schema = { fields = { tag = { type = "string", default = "" } } } }
        function plugin.access(conf)
          gate.service.request.set_header("X-Tag", conf.tag)
          if conf.tag == "keeper" then
            -- 1 KB per request held by the request's context and consumer.
            gate.ctx.shared.pad = string.rep("c", 1024)
            gate.client.authenticate({ username = "u", pad = string.rep("u", 1024) }, { key = "k" })
            assert(gate.client.get_consumer().pad and gate.client.get_credential().key == "k")
          end
        end
        return plugin
        """

    /// A slice and deadline no run here reaches even on a stalled machine: every phase
    /// then completes before `runPhase` returns (a preempted run would finish later,
    /// on the loop these tests occupy).
    static let unhurried = ScriptLimitsConfig(hookTimeout: .seconds(60), slice: .seconds(30))

    /// Plans A and B of two configurations that differ in the instance's config.
    static func plans() throws -> (generation: ScriptGeneration, a: PluginPlan, b: PluginPlan) {
        let scripts = try TemporaryScripts(["tagger.lua": plugin])
        let generation = try ScriptGeneration.compile(try scripts.scriptSet(), limits: Self.unhurried, number: 1, services: PluginServices())
            .get()
        func plan(_ tag: String) throws -> PluginPlan {
            let runtime = RuntimeConfig(
                proxy: ProxySettings(), routeSpecs: [RouteSpec(name: "r", paths: ["/"])],
                routes: [
                    CompiledRoute(
                        name: "r", upstreams: [WeightedUpstream(name: "u", weight: 1)],
                        plugins: [PluginInstanceConfig(name: "tagger", config: ["tag": .string(tag)])])
                ],
                upstreams: ["u": UpstreamSpec(name: "u", targets: [BalancerTarget(address: "127.0.0.1:1")])], globalPlugins: [])
            return try PluginPlan.build(runtime, generation: generation).get()
        }
        return (generation, try plan("a"), try plan("b"))
    }

    @Test func aRequestsContextAndConsumerGoWhenItEnds() throws {
        let scripts = try TemporaryScripts(["tagger.lua": Self.plugin])
        let generation = try ScriptGeneration.compile(try scripts.scriptSet(), limits: Self.unhurried, number: 1, services: PluginServices())
            .get()
        let runtime = RuntimeConfig(
            proxy: ProxySettings(), routeSpecs: [RouteSpec(name: "r", paths: ["/"])],
            routes: [
                CompiledRoute(
                    name: "r", upstreams: [WeightedUpstream(name: "u", weight: 1)],
                    plugins: [PluginInstanceConfig(name: "tagger", config: ["tag": .string("keeper")])])
            ],
            upstreams: ["u": UpstreamSpec(name: "u", targets: [BalancerTarget(address: "127.0.0.1:1")])], globalPlugins: [])
        let plan = try PluginPlan.build(runtime, generation: generation).get()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let memory = try loop.submit {
            let vm = try PluginVM(
                generation: generation, environment: PluginVMEnvironment(eventLoop: loop, services: PluginServices(), http: PDKHTTPClient()))
            try vm.prepare(plan)
            for _ in 0..<20_000 {
                let request = Self.request()
                vm.retain(plan)
                var outcome: PluginPhaseOutcome?
                vm.runPhase(.access, chain: plan.chain(routeIndex: 0, upstream: "u"), plan: plan, request: request) { outcome = $0 }
                guard case .proceed? = outcome else { throw PluginVMTestFailure(outcome: "\(String(describing: outcome))") }
                vm.release(plan, request: request)
            }
            return vm.memoryInUse
        }.wait()
        // Kept, the 20 000 requests would hold ~40 MB; dropped, the collector keeps
        // the VM near its usual size.
        #expect(memory < 8 << 20, "the VM holds \(memory) bytes")
    }

    static func request() -> PluginRequest {
        PluginRequest(
            method: "GET", scheme: "http", host: "example.test", port: 8000, path: "/", rawQuery: "", headers: [:],
            httpVersion: .http1_1, clientIP: "127.0.0.1", clientPort: 40000, forwardedIP: "127.0.0.1")
    }

    /// Runs plan's access hook for a new request; the outcome and the X-Tag it set.
    static func access(_ vm: PluginVM, _ plan: PluginPlan) -> (outcome: PluginPhaseOutcome?, tag: String?) {
        let request = request()
        var outcome: PluginPhaseOutcome?
        vm.runPhase(.access, chain: plan.chain(routeIndex: 0, upstream: "u"), plan: plan, request: request) { outcome = $0 }
        let tag = request.upstreamHeaderEdits.compactMap { edit -> String? in
            if case .set("X-Tag", let value) = edit { return value }
            return nil
        }.first
        return (outcome, tag)
    }

    @Test func aReplacedPlanStaysUntilItsLastRequestEnds() throws {
        let (generation, a, b) = try Self.plans()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        try loop.submit {
            let vm = try PluginVM(
                generation: generation, environment: PluginVMEnvironment(eventLoop: loop, services: PluginServices(), http: PDKHTTPClient()))
            try vm.prepare(a)
            let first = Self.request()
            let second = Self.request()
            vm.retain(a)
            vm.retain(a)
            // B replaces A as the current plan while two of A's requests are in flight.
            try vm.prepare(b)
            vm.retain(b)
            #expect(Self.access(vm, b).tag == "b")
            #expect(Self.access(vm, a).tag == "a")
            vm.release(a, request: first)
            #expect(Self.access(vm, a).tag == "a", "A is still used by one request")
            vm.release(a, request: second)
            // A's last request ended: its instances are gone from the VM.
            guard case .failed? = Self.access(vm, a).outcome else {
                Issue.record("plan A still ran after its last request ended")
                return
            }
            #expect(Self.access(vm, b).tag == "b", "the current plan stays")
            vm.release(b, request: Self.request())
            #expect(Self.access(vm, b).tag == "b", "the current plan stays even with no request using it")
        }.wait()
    }
}

struct PluginVMTestFailure: Error {
    let outcome: String
}

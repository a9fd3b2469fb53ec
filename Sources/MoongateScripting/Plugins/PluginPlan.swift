import LuaKit
import MoongateCore
import NIOConcurrencyHelpers

/// A configured plugin instance with its validated config (schema defaults applied).
public struct PluginInstance: Sendable {
    public enum Scope: Sendable, Equatable {
        case global
        case upstream(String)
        case route(String)
    }

    public let plugin: PluginDefinition
    public let conf: LuaValue
    public let scope: Scope
}

/// The hooks of one request's plugins, phase by phase, in run order (indices into
/// `PluginPlan.instances`).
public struct PluginChain: Sendable {
    private let byPhase: [[Int]]
    /// Bit `ordinal` set when the phase has hooks: `has` is asked several times per
    /// request, and answers without touching the arrays.
    private let phasesWithHooks: UInt16
    public let isEmpty: Bool

    init(_ instances: [Int], of all: [PluginInstance]) {
        let ordered = instances.sorted { PluginDefinition.runsBefore(all[$0].plugin, all[$1].plugin) }
        let byPhase = PluginPhase.allCases.map { phase in ordered.filter { all[$0].plugin.phases.contains(phase) } }
        self.byPhase = byPhase
        phasesWithHooks = PluginPhase.allCases.reduce(0) { bits, phase in
            byPhase[phase.ordinal].isEmpty ? bits : bits | 1 << phase.ordinal
        }
        isEmpty = phasesWithHooks == 0
    }

    public func hooks(_ phase: PluginPhase) -> [Int] {
        byPhase[phase.ordinal]
    }

    public func has(_ phase: PluginPhase) -> Bool { phasesWithHooks & 1 << phase.ordinal != 0 }

    static let empty = PluginChain([], of: [])
}

/// What plugins run for which request, for one configuration generation and one
/// script generation: every instance with its validated config, the chain of each
/// route (route > upstream > global, one instance per plugin name), and the consumer
/// index. Built off the event loops on each reload; immutable.
public final class PluginPlan: Sendable {
    private static let lastID = NIOLockedValueBox(0)

    public let id: Int
    public let generation: ScriptGeneration
    public let instances: [PluginInstance]
    public let consumers: ConsumerIndex
    public let upstreamNames: Set<String>
    /// Global instances with a rewrite hook (they run before routing).
    public let rewriteChain: PluginChain
    /// Every global instance: the chain of a request that ends before routing.
    public let globalChain: PluginChain
    /// Route index -> upstream name -> chain.
    private let chains: [[String: PluginChain]]
    /// No plugin runs for any request: the proxy skips the plugin machinery entirely.
    public let isEmpty: Bool

    public static func build(_ runtime: RuntimeConfig, generation: ScriptGeneration) -> Result<PluginPlan, ScriptGenerationError> {
        var instances: [PluginInstance] = []
        var problems: [String] = []

        func add(_ configs: [PluginInstanceConfig], _ scope: PluginInstance.Scope, at path: String) -> [String: Int?] {
            var byName: [String: Int?] = [:]
            for config in configs {
                guard config.enabled else {
                    byName[config.name] = .some(nil)
                    continue
                }
                guard let plugin = generation.plugins[config.name] else {
                    problems.append("\(path): unknown plugin '\(config.name)'")
                    continue
                }
                switch plugin.schema.validate(config.config) {
                case .success(let conf):
                    byName[config.name] = instances.count
                    instances.append(PluginInstance(plugin: plugin, conf: conf, scope: scope))
                case .failure(let errors):
                    problems += errors.problems.map { "\(path): \($0)" }
                }
            }
            return byName
        }

        let global = add(runtime.globalPlugins, .global, at: "plugins")
        var upstreamInstances: [String: [String: Int?]] = [:]
        for (name, upstream) in runtime.upstreams.sorted(by: { $0.key < $1.key }) {
            upstreamInstances[name] = add(upstream.plugins, .upstream(name), at: "upstream '\(name)'")
        }
        var chains: [[String: PluginChain]] = []
        var memo: [[Int]: PluginChain] = [:]
        for route in runtime.routes {
            let own = add(route.plugins, .route(route.name), at: "route '\(route.name)'")
            var perUpstream: [String: PluginChain] = [:]
            for upstream in route.upstreams {
                // The most specific instance of each name wins (a disabled one removes the name).
                var merged = global
                for (name, index) in upstreamInstances[upstream.name] ?? [:] { merged[name] = index }
                for (name, index) in own { merged[name] = index }
                let chosen = merged.values.compactMap { $0 }.sorted()
                if let known = memo[chosen] {
                    perUpstream[upstream.name] = known
                } else {
                    let chain = PluginChain(chosen, of: instances)
                    memo[chosen] = chain
                    perUpstream[upstream.name] = chain
                }
            }
            chains.append(perUpstream)
        }
        guard problems.isEmpty else { return .failure(ScriptGenerationError(problems: problems)) }
        let globalIndices = global.values.compactMap { $0 }
        let rewrite = PluginChain(globalIndices.filter { instances[$0].plugin.phases.contains(.rewrite) }, of: instances)
        let id = lastID.withLockedValue { value in
            value += 1
            return value
        }
        return .success(
            PluginPlan(
                id: id, generation: generation, instances: instances, consumers: ConsumerIndex(runtime.consumers),
                upstreamNames: Set(runtime.upstreams.keys), rewriteChain: rewrite,
                globalChain: PluginChain(globalIndices, of: instances), chains: chains))
    }

    private init(
        id: Int, generation: ScriptGeneration, instances: [PluginInstance], consumers: ConsumerIndex, upstreamNames: Set<String>,
        rewriteChain: PluginChain, globalChain: PluginChain, chains: [[String: PluginChain]]
    ) {
        self.id = id
        self.generation = generation
        self.instances = instances
        self.consumers = consumers
        self.upstreamNames = upstreamNames
        self.rewriteChain = rewriteChain
        self.globalChain = globalChain
        self.chains = chains
        isEmpty = instances.isEmpty
    }

    /// The chain of a request routed to `routeIndex` whose route chose `upstream`.
    public func chain(routeIndex: Int, upstream: String) -> PluginChain {
        guard routeIndex < chains.count else { return .empty }
        return chains[routeIndex][upstream] ?? .empty
    }
}

/// Checks plugin instances against a script generation, for `ConfigCompiler`: an
/// unknown plugin, or a config its schema refuses, rejects the object holding it.
public struct PluginInstanceChecker: PluginInstanceChecking {
    public let generation: ScriptGeneration

    public init(generation: ScriptGeneration) { self.generation = generation }

    public func problems(in instance: PluginInstanceConfig) -> [String] {
        guard let plugin = generation.plugins[instance.name] else {
            let names = generation.plugins.keys.sorted()
            if let suggestion = names.min(by: { distance($0, instance.name) < distance($1, instance.name) }),
                distance(suggestion, instance.name) <= 2
            {
                return ["unknown plugin '\(instance.name)' (did you mean '\(suggestion)'?)"]
            }
            return ["unknown plugin '\(instance.name)' (no file '\(instance.name).lua' in the scripts paths or bundled plugins)"]
        }
        switch plugin.schema.validate(instance.config) {
        case .success: return []
        case .failure(let errors): return errors.problems.map(\.description)
        }
    }

    private func distance(_ a: String, _ b: String) -> Int {
        EditDistance.levenshtein(Array(a), Array(b))
    }
}

import Foundation
import HTTPTestSupport
import MoongateCore
import MoongateScripting
import NIOCore
import NIOPosix

@testable import MoongateProxy

/// A gateway in-process with Lua plugins, built the way `moongate run` builds it: a
/// YAML configuration (`ORIGIN` in it is replaced by the test origin's address), a
/// temporary scripts directory holding `scripts`, the bundled plugins, compiled
/// scripts, plugin instances checked against them, and a plugin plan.
final class PluginGateway {
    let group: MultiThreadedEventLoopGroup
    let origin: TestOrigin
    let server: GatewayServer
    let services: PluginServices
    let port: Int
    let scriptsPath: String

    init(yaml: String, scripts: [String: String] = [:], loops: Int = 1) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
        origin = try await TestOrigin(group: group)
        scriptsPath = NSTemporaryDirectory() + "moongate-plugin-gateway-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scriptsPath, withIntermediateDirectories: true)
        for (name, text) in scripts { try text.write(toFile: "\(scriptsPath)/\(name)", atomically: true, encoding: .utf8) }
        let text = yaml.replacingOccurrences(of: "ORIGIN", with: "127.0.0.1:\(origin.port)")
        let document = try ConfigLoader.parse(yaml: text, file: "test.yaml")
        let scriptsConfig = document.scripts.model ?? ScriptsConfig()
        services = PluginServices(maxSharedKeys: scriptsConfig.limits.sharedKeys)
        let set = try ScriptSetLoader.load(paths: [scriptsPath], bundledRoot: BundledScripts.locate())
        let generation = try ScriptGeneration.compile(set, limits: scriptsConfig.limits, number: 1, services: services).get()
        let outcome = ConfigCompiler.compile(document, previous: nil, plugins: PluginInstanceChecker(generation: generation))
        guard outcome.rejected.isEmpty else { throw PluginGatewayError(description: "\(outcome.rejected)") }
        var runtime = outcome.runtime
        runtime.proxy.listen = ["127.0.0.1:0"]
        let plan = try PluginPlan.build(runtime, generation: generation).get()
        server = GatewayServer(store: ConfigStore(try ServingConfig(generation: 1, runtime: runtime, plugins: plan)), group: group, plugins: services)
        port = try await server.start().first!.port!
    }

    func client() throws -> RawHTTPClient { try RawHTTPClient(port: port) }

    /// Compiles the scripts directory again and publishes it (what the watcher does).
    func reloadScripts() throws {
        let current = server.store.current
        let set = try ScriptSetLoader.load(paths: [scriptsPath], bundledRoot: BundledScripts.locate())
        let generation = try ScriptGeneration.compile(
            set, limits: current.runtime.scripts.limits, number: (current.plugins?.generation.number ?? 1) + 1, services: services
        ).get()
        let plan = try PluginPlan.build(current.runtime, generation: generation).get()
        server.store.publish(ServingConfig(generation: current.generation + 1, reusing: current, plugins: plan))
    }

    func writeScript(_ name: String, _ text: String) throws {
        try text.write(toFile: "\(scriptsPath)/\(name)", atomically: true, encoding: .utf8)
    }

    static func with(
        yaml: String, scripts: [String: String] = [:], loops: Int = 1, _ body: (PluginGateway) async throws -> Void
    ) async throws {
        let gateway = try await PluginGateway(yaml: yaml, scripts: scripts, loops: loops)
        do {
            try await body(gateway)
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }

    func shutdown() async {
        await origin.close()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: scriptsPath)
    }
}

struct PluginGatewayError: Error, CustomStringConvertible {
    let description: String
}

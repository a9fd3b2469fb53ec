import Foundation
import HTTPTestSupport
import NIOPosix

/// One reload scenario's world: a temporary directory holding `moongate.yaml` and the
/// `plugins/` scripts path it names, and an origin the routes proxy to. The gateway is
/// started by the test (`startGateway`), once the files it needs are in place.
final class ScriptReloadWorkspace {
    let directory: URL
    let plugins: URL
    let configFile: URL
    /// The gateway's listener port.
    let port: Int
    let origin: TestOrigin

    private init(directory: URL, port: Int, origin: TestOrigin) {
        self.directory = directory
        self.plugins = directory.appendingPathComponent("plugins")
        self.configFile = directory.appendingPathComponent("moongate.yaml")
        self.port = port
        self.origin = origin
    }

    /// Runs `body` with a fresh workspace; the origin, its event loop and the directory
    /// are released afterwards whatever happens.
    static func with(_ body: (ScriptReloadWorkspace) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let origin: TestOrigin
        do {
            origin = try await TestOrigin(group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("moongate-reload-\(UUID().uuidString)")
        var failure: Error?
        do {
            let workspace = ScriptReloadWorkspace(directory: directory, port: try RunningGateway.freePort(), origin: origin)
            try FileManager.default.createDirectory(at: workspace.plugins, withIntermediateDirectories: true)
            try await body(workspace)
        } catch {
            failure = error
        }
        await origin.close()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(at: directory)
        if let failure { throw failure }
    }

    func pluginFile(_ name: String) -> URL { plugins.appendingPathComponent("\(name).lua") }

    /// Writes `plugins/NAME.lua`. `atomically` replaces the file by a rename (as most
    /// editors and `kubectl cp` do); otherwise it is truncated and rewritten in place.
    func writePlugin(_ name: String, _ source: String, atomically: Bool = true) throws {
        try source.write(to: pluginFile(name), atomically: atomically, encoding: .utf8)
    }

    func removePlugin(_ name: String) throws {
        try FileManager.default.removeItem(at: pluginFile(name))
    }

    /// One `routes:` entry proxying `path` to the origin, with route-level plugin
    /// instances given as (name, flow-YAML config).
    static func route(_ name: String, path: String, plugins: [(name: String, config: String)] = []) -> String {
        var text = """
              - name: \(name)
                match: { paths: ["\(path)"] }
                upstream: origin

            """
        if !plugins.isEmpty {
            text += "    plugins:\n"
            for plugin in plugins {
                text += "      - name: \(plugin.name)\n        config: \(plugin.config)\n"
            }
        }
        return text
    }

    /// Writes `moongate.yaml` with the given route entries (see `route`), listening on
    /// the workspace's port unless told otherwise; `scriptLimits` is a flow mapping for
    /// `scripts.limits` (the defaults when nil).
    func writeConfig(routes: [String], watch: Bool = true, scriptLimits: String? = nil, port: Int? = nil) throws {
        let text = """
            proxy:
              listen: ["127.0.0.1:\(port ?? self.port)"]
              drain_timeout: 5s
            scripts:
              paths: [./plugins]
              watch: \(watch)
            \(scriptLimits.map { "  limits: \($0)" } ?? "")
            upstreams:
              - name: origin
                targets: [{ address: "127.0.0.1:\(origin.port)" }]
            routes:

            """ + routes.joined()
        try text.write(to: configFile, atomically: true, encoding: .utf8)
    }

    /// Starts `moongate run -c moongate.yaml` and, when the config watches the scripts,
    /// waits until the watcher runs: an edit made before it starts would be in its first
    /// snapshot and never reported.
    func startGateway(watching: Bool = true) async throws -> ScriptReloadGatewayProcess {
        let gateway = try ScriptReloadGatewayProcess(arguments: ["run", "-c", configFile.path], port: port, workingDirectory: directory)
        if watching, !(await gateway.waitForLog(containing: "watching scripts")) {
            throw MoongateBinary.LocateError(message: "the scripts watcher did not start: \(gateway.standardError)")
        }
        return gateway
    }

    /// One request on a new connection.
    func get(_ path: String, headers: [String: String] = [:]) throws -> RawHTTPClient.Response {
        try RawHTTPClient(port: port, timeoutSeconds: 10).request("GET", path, headers: headers)
    }

    /// Waits (up to 10 s) until a GET of `path` answers 200 with `X-Version: version`.
    func waitForVersion(_ version: String, at path: String = "/api/v", headers: [String: String] = [:]) async -> Bool {
        await ScriptReloadPolling.eventually {
            let response = try get(path, headers: headers)
            return response.status == 200 && response.header("X-Version") == version
        }
    }
}

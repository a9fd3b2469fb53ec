import Foundation
import HTTPTestSupport
import Testing

/// Script hot reload through the real binary (SPEC §3 reload rules and Safety, §4):
/// edits, new files and deletions in a scripts directory and ConfigMap `..data` swaps
/// are served within seconds; a set that does not compile or no longer validates the
/// configured instances changes nothing; traffic never notices a reload.
///
/// Waits are generous (10 s for what the product does within 2 s): the machine may be
/// loaded, and these tests check that reloads happen, not how fast.
@Suite("moongate run: script hot reload", .serialized)
struct ScriptReloadTests {
    typealias Sources = ScriptReloadPluginSources

    /// `/api` with the `ver` plugin (configured with a string label).
    static let versionRoute = ScriptReloadWorkspace.route("api", path: "/api", plugins: [("ver", "{ label: some-text }")])

    @Test("an edit to a plugin file is served within seconds")
    func editIsServed() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            try workspace.writePlugin("ver", Sources.versionHeader("1"))
            try workspace.writeConfig(routes: [Self.versionRoute])
            let gateway = try await workspace.startGateway()
            let first = try workspace.get("/api/v")
            #expect(first.status == 200)
            #expect(first.header("X-Version") == "1")

            // Rewritten in place (truncate + write), as some editors save.
            try workspace.writePlugin("ver", Sources.versionHeader("2"), atomically: false)
            #expect(await workspace.waitForVersion("2"), "\(gateway.standardError)")

            // Replaced by a rename, as other editors save.
            try workspace.writePlugin("ver", Sources.versionHeader("3"), atomically: true)
            #expect(await workspace.waitForVersion("3"), "\(gateway.standardError)")
            #expect(gateway.stop() == 0)
        }
    }

    @Test("a syntax error keeps the old version serving and logs file:line; fixing it reloads")
    func syntaxErrorKeepsOldVersion() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            try workspace.writePlugin("ver", Sources.versionHeader("1"))
            try workspace.writeConfig(routes: [Self.versionRoute])
            let gateway = try await workspace.startGateway()
            #expect(try workspace.get("/api/v").header("X-Version") == "1")

            try workspace.writePlugin("ver", Sources.brokenVersion)
            let location = "plugins/ver.lua:\(Sources.brokenVersionLine): "
            #expect(await gateway.waitForLog(containing: location), "\(gateway.standardError)")

            // Sampled for a while: never a failure, never another version.
            let clock = ContinuousClock()
            let end = clock.now.advanced(by: .seconds(3))
            var samples = 0
            while clock.now < end {
                let response = try workspace.get("/api/v")
                #expect(response.status == 200)
                #expect(response.header("X-Version") == "1")
                samples += 1
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(samples > 5)

            try workspace.writePlugin("ver", Sources.versionHeader("3"))
            #expect(await workspace.waitForVersion("3"), "\(gateway.standardError)")
            #expect(gateway.stop() == 0)
        }
    }

    @Test("an edit whose schema rejects a route's config is refused, naming the route and plugin.field")
    func schemaChangeRejectingConfigIsRefused() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            try workspace.writePlugin("ver", Sources.versionHeader("1"))
            try workspace.writeConfig(routes: [Self.versionRoute])
            let gateway = try await workspace.startGateway()

            try workspace.writePlugin("ver", Sources.versionWithIntegerLabel)
            #expect(await gateway.waitForLog(containing: "ver.label"), "\(gateway.standardError)")
            #expect(gateway.standardError.contains("route 'api'"), "\(gateway.standardError)")
            for _ in 0..<10 {
                let response = try workspace.get("/api/v")
                #expect(response.status == 200)
                #expect(response.header("X-Version") == "1")
            }
            #expect(gateway.stop() == 0)
        }
    }

    @Test("SIGHUP: a new plugin file and a route using it are served")
    func newPluginAndRouteViaSighup() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            try workspace.writePlugin("ver", Sources.versionHeader("1"))
            try workspace.writeConfig(routes: [Self.versionRoute])
            let gateway = try await workspace.startGateway()
            #expect(try workspace.get("/stamped/x").status == 404)

            try workspace.writePlugin("stamp", Sources.stamp("first"))
            try workspace.writeConfig(routes: [
                Self.versionRoute, ScriptReloadWorkspace.route("stamped", path: "/stamped", plugins: [("stamp", "{}")]),
            ])
            gateway.signal(SIGHUP)
            let served = await ScriptReloadPolling.eventually {
                let response = try workspace.get("/stamped/x")
                return response.status == 200 && response.header("X-Stamped") == "yes"
            }
            #expect(served, "\(gateway.standardError)")
            // The plugin's access phase ran before the upstream: the origin echoes the header.
            #expect(try workspace.get("/stamped/x").text.contains("h:x-stamp=first"))
            #expect(try workspace.get("/api/v").header("X-Version") == "1")
            #expect(gateway.stop() == 0)
        }
    }

    @Test("a deleted plugin file that a route still uses: the watcher and SIGHUP both refuse, the old plugin keeps serving")
    func deletedReferencedPluginIsRefused() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            try workspace.writePlugin("stamp", Sources.stamp("kept"))
            try workspace.writeConfig(routes: [ScriptReloadWorkspace.route("stamped", path: "/stamped", plugins: [("stamp", "{}")])])
            let gateway = try await workspace.startGateway()
            #expect(try workspace.get("/stamped/x").header("X-Stamped") == "yes")

            try workspace.removePlugin("stamp")
            #expect(await gateway.waitForLog(containing: "unknown plugin 'stamp'"), "\(gateway.standardError)")
            let afterWatch = try workspace.get("/stamped/x")
            #expect(afterWatch.status == 200)
            #expect(afterWatch.header("X-Stamped") == "yes")
            #expect(afterWatch.text.contains("h:x-stamp=kept"))

            let refusals = gateway.logOccurrences(of: "unknown plugin 'stamp'")
            gateway.signal(SIGHUP)
            #expect(
                await gateway.waitForLog(containing: "unknown plugin 'stamp'", count: refusals + 1), "\(gateway.standardError)")
            let afterSighup = try workspace.get("/stamped/x")
            #expect(afterSighup.status == 200)
            #expect(afterSighup.header("X-Stamped") == "yes")
            #expect(afterSighup.text.contains("h:x-stamp=kept"))

            // Restored under the same name (new content): served again.
            try workspace.writePlugin("stamp", Sources.stamp("restored"))
            let restored = await ScriptReloadPolling.eventually {
                try workspace.get("/stamped/x").text.contains("h:x-stamp=restored")
            }
            #expect(restored, "\(gateway.standardError)")
            #expect(gateway.stop() == 0)
        }
    }

    @Test(
        "SIGHUP while a route's plugin file is deleted: that route keeps its last good version, other objects apply (SPEC §2)")
    func sighupAppliesOtherObjectsWhileAPluginIsDeleted() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            let stamped = ScriptReloadWorkspace.route("stamped", path: "/stamped", plugins: [("stamp", "{}")])
            try workspace.writePlugin("stamp", Sources.stamp("kept"))
            try workspace.writeConfig(routes: [stamped])
            let gateway = try await workspace.startGateway()

            try workspace.removePlugin("stamp")
            #expect(await gateway.waitForLog(containing: "unknown plugin 'stamp'"), "\(gateway.standardError)")
            try workspace.writeConfig(routes: [stamped, ScriptReloadWorkspace.route("other", path: "/other")])
            gateway.signal(SIGHUP)
            #expect(await ScriptReloadPolling.eventually { try workspace.get("/other/x").status == 200 }, "\(gateway.standardError)")
            let kept = try workspace.get("/stamped/x")
            #expect(kept.status == 200)
            #expect(kept.text.contains("h:x-stamp=kept"))
            #expect(gateway.stop() == 0)
        }
    }

    @Test("watch: false: an edit waits for SIGHUP, which serves it")
    func unwatchedEditWaitsForSighup() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            try workspace.writePlugin("ver", Sources.versionHeader("1"))
            try workspace.writeConfig(routes: [Self.versionRoute], watch: false)
            let gateway = try await workspace.startGateway(watching: false)

            try workspace.writePlugin("ver", Sources.versionHeader("2"))
            try await Task.sleep(for: .seconds(2))
            #expect(try workspace.get("/api/v").header("X-Version") == "1")

            gateway.signal(SIGHUP)
            #expect(await workspace.waitForVersion("2"), "\(gateway.standardError)")
            #expect(gateway.stop() == 0)
        }
    }

    @Test(
        "watch: false: SIGHUP with a plugin that does not compile keeps the old version and logs file:line")
    func sighupWithBrokenScriptReportsIt() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            try workspace.writePlugin("ver", Sources.versionHeader("1"))
            try workspace.writeConfig(routes: [Self.versionRoute], watch: false)
            let gateway = try await workspace.startGateway(watching: false)

            try workspace.writePlugin("ver", Sources.brokenVersion)
            gateway.signal(SIGHUP)
            let location = "plugins/ver.lua:\(Sources.brokenVersionLine): "
            #expect(await gateway.waitForLog(containing: location), "\(gateway.standardError)")
            let response = try workspace.get("/api/v")
            #expect(response.status == 200)
            #expect(response.header("X-Version") == "1")
            #expect(gateway.stop() == 0)
        }
    }

    @Test("a ConfigMap volume: the kubelet's atomic ..data swap is served within seconds")
    func configMapSwapIsServed() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            var volume = try ScriptReloadConfigMapVolume(
                directory: workspace.plugins, version: "..2026_11_27_10_00_00.000000001",
                files: [
                    "key-auth-ish.lua": Sources.keyAuthIsh,
                    "keyring.lua": Sources.keyring(key: "one", version: "1"),
                ])
            try workspace.writeConfig(routes: [
                ScriptReloadWorkspace.route("guarded", path: "/guarded", plugins: [("key-auth-ish", "{}")])
            ])
            let gateway = try await workspace.startGateway()
            #expect(try workspace.get("/guarded/x").status == 401)
            let first = try workspace.get("/guarded/x", headers: ["apikey": "one"])
            #expect(first.status == 200)
            #expect(first.header("X-Version") == "1")

            try volume.update(
                to: "..2026_11_27_10_05_00.000000002",
                files: [
                    "key-auth-ish.lua": Sources.keyAuthIsh,
                    "keyring.lua": Sources.keyring(key: "two", version: "2"),
                ])
            #expect(
                await workspace.waitForVersion("2", at: "/guarded/x", headers: ["apikey": "two"]), "\(gateway.standardError)")
            #expect(try workspace.get("/guarded/x", headers: ["apikey": "one"]).status == 401)

            // A second swap (the version the first one removed is gone for good).
            try volume.update(
                to: "..2026_11_27_10_10_00.000000003",
                files: [
                    "key-auth-ish.lua": Sources.keyAuthIsh,
                    "keyring.lua": Sources.keyring(key: "three", version: "3"),
                ])
            #expect(
                await workspace.waitForVersion("3", at: "/guarded/x", headers: ["apikey": "three"]), "\(gateway.standardError)")
            #expect(gateway.stop() == 0)
        }
    }

    @Test(
        "5 rewrites under 4 clients' continuous traffic: zero failed requests, each answer from one whole version, the last served"
    )
    func reloadUnderTraffic() async throws {
        // A 1 s slice keeps hooks from being preempted, which is the subject of
        // `reloadUnderTrafficDefaultLimits` (and of ScriptReloadSlowHookTests): this
        // test is about the reload alone.
        try await rewritesUnderTraffic(scriptLimits: "{ slice: 1s }")
    }

    @Test(
        "the same with the default limits (2 ms slices: the first hook runs after a reload may be preempted)")
    func reloadUnderTrafficDefaultLimits() async throws {
        try await rewritesUnderTraffic(scriptLimits: nil)
    }

    /// Four client threads send requests while `ver.lua` is rewritten five times, each
    /// time with a new version, some rewrites inside the watcher's debounce window and
    /// some after it, alternately in place and by rename.
    func rewritesUnderTraffic(scriptLimits: String?) async throws {
        try await ScriptReloadWorkspace.with { workspace in
            try workspace.writePlugin("ver", Sources.versionHeader("1"))
            try workspace.writeConfig(routes: [Self.versionRoute], scriptLimits: scriptLimits)
            let gateway = try await workspace.startGateway()

            let traffic = ScriptReloadTraffic(port: workspace.port, path: "/api/load", clients: 4)
            traffic.start()
            let pauses: [Duration] = [.milliseconds(600), .milliseconds(150), .milliseconds(900), .milliseconds(300), .zero]
            for (round, pause) in pauses.enumerated() {
                try workspace.writePlugin("ver", Sources.versionHeader("\(round + 2)"), atomically: round % 2 == 0)
                try await Task.sleep(for: pause)
            }
            let lastServed = await ScriptReloadPolling.eventually { traffic.current.versions["6"] ?? 0 > 0 }
            try await Task.sleep(for: .milliseconds(500))
            let tally = traffic.stop()

            #expect(lastServed, "\(gateway.standardError)")
            #expect(tally.succeeded > 50)
            #expect(tally.failures.isEmpty, "\(tally.failures.count) failed: \(tally.failures.prefix(5))")
            let versions = Set(tally.versions.keys)
            #expect(versions.isSubset(of: ["1", "2", "3", "4", "5", "6"]), "\(tally.versions)")
            #expect(try workspace.get("/api/v").header("X-Version") == "6")
            #expect(gateway.stop() == 0)
        }
    }

    @Test("run: a plugin file that does not compile stops start-up with exit 1, naming file:line")
    func startupWithBrokenPlugin() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            let occupied = ScriptReloadOccupiedPort()
            try workspace.writePlugin("ver", Sources.brokenVersion)
            try workspace.writeConfig(routes: [Self.versionRoute], port: occupied.port)
            let result = try MoongateBinary.locate().run(["run", "-c", workspace.configFile.path], workingDirectory: workspace.directory)
            #expect(result.status == 1)
            #expect(result.standardError.contains("plugins/ver.lua:\(Sources.brokenVersionLine): "), "\(result.standardError)")
        }
    }
}

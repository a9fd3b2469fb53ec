import Foundation
import Testing

/// `moongate check -c FILE` on configurations with plugins (SPEC §1, §3): every script
/// is compiled and every plugin instance validated against its plugin's schema; exit 0,
/// or exit 1 with one `file:line: message` per problem.
@Suite("moongate check: scripts and plugin instances")
struct PluginCLICheckTests {
    typealias Sources = ScriptReloadPluginSources

    /// A directory with `plugins/ver.lua` (valid) and a `moongate.yaml` listening on
    /// `port` whose `api` route (and global `plugins:`) carry the given instances;
    /// removed after `body`.
    func withSetup(
        routePlugins: String = "[{ name: ver, config: { label: some-text } }]", globalPlugins: String = "[]", port: Int = 8080,
        _ body: (_ directory: URL, _ config: URL) throws -> Void
    ) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("moongate-check-\(UUID().uuidString)")
        let plugins = directory.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Sources.versionHeader("1").write(to: plugins.appendingPathComponent("ver.lua"), atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("moongate.yaml")
        try """
        proxy:
          listen: ["127.0.0.1:\(port)"]
        scripts:
          paths: [./plugins]
        plugins: \(globalPlugins)
        upstreams:
          - name: origin
            targets: [{ address: "127.0.0.1:9000" }]
        routes:
          - name: api
            match: { paths: ["/api"] }
            upstream: origin
            plugins: \(routePlugins)
        """.write(to: config, atomically: true, encoding: .utf8)
        try body(directory, config)
    }

    func check(_ config: URL) throws -> MoongateBinary.Result {
        try MoongateBinary.locate().run(["check", "-c", config.path])
    }

    /// The printed lines (either stream: the contract is the line, not the stream).
    func lines(_ result: MoongateBinary.Result) -> [Substring] {
        (result.standardOutput + "\n" + result.standardError).split(separator: "\n")
    }

    @Test("a valid setup exits 0")
    func valid() throws {
        try withSetup { _, config in
            let result = try check(config)
            #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        }
    }

    @Test("a plugin with a syntax error exits 1 with a file.lua:LINE: line; an unreferenced broken file too")
    func syntaxError() throws {
        try withSetup { directory, config in
            let plugins = directory.appendingPathComponent("plugins")
            let ver = plugins.appendingPathComponent("ver.lua")
            try Sources.brokenVersion.write(to: ver, atomically: true, encoding: .utf8)
            let referenced = try check(config)
            #expect(referenced.status == 1)
            let location = "plugins/ver.lua:\(Sources.brokenVersionLine): "
            #expect(lines(referenced).contains { $0.contains(location) }, "\(lines(referenced))")

            // Every script is compiled, used or not.
            try Sources.versionHeader("1").write(to: ver, atomically: true, encoding: .utf8)
            let helper = plugins.appendingPathComponent("helper.lua")
            try "local M = {}\nfunction M.f(\n  return 1\nend\nreturn M\n".write(to: helper, atomically: true, encoding: .utf8)
            let unreferenced = try check(config)
            #expect(unreferenced.status == 1)
            #expect(lines(unreferenced).contains { $0.contains("plugins/helper.lua:3: ") }, "\(lines(unreferenced))")
        }
    }

    @Test("two broken files: both are reported")
    func everyBrokenFileIsReported() throws {
        try withSetup { directory, config in
            let plugins = directory.appendingPathComponent("plugins")
            for name in ["ver", "other"] {
                try Sources.brokenVersion.write(to: plugins.appendingPathComponent("\(name).lua"), atomically: true, encoding: .utf8)
            }
            let result = try check(config)
            #expect(result.status == 1)
            for name in ["ver", "other"] {
                let location = "plugins/\(name).lua:\(Sources.brokenVersionLine): "
                #expect(lines(result).contains { $0.contains(location) }, "\(lines(result))")
            }
        }
    }

    @Test("a script error names the script's full path, however long")
    func longScriptPathInFull() throws {
        try withSetup { directory, config in
            let ver = directory.appendingPathComponent("plugins/ver.lua")
            try Sources.brokenVersion.write(to: ver, atomically: true, encoding: .utf8)
            #expect(ver.path.count > 60)
            let result = try check(config)
            #expect(result.status == 1)
            let location = "\(ver.path):\(Sources.brokenVersionLine): "
            #expect(lines(result).contains { $0.hasPrefix(location) }, "\(lines(result))")
        }
    }

    @Test("a route's plugin config against the schema (unknown field, wrong type) exits 1 naming the route and plugin.field")
    func routePluginConfigViolatesSchema() throws {
        try withSetup(routePlugins: "[{ name: ver, config: { label: 5, colour: red } }]") { _, config in
            let result = try check(config)
            #expect(result.status == 1)
            let output = lines(result)
            let wrongType = output.first { $0.contains("ver.label") }
            let unknown = output.first { $0.contains("ver.colour") }
            #expect(wrongType?.hasPrefix("\(config.path):") == true, "\(output)")
            #expect(wrongType?.contains("routes[0]") == true, "\(output)")
            #expect(wrongType?.contains("string") == true, "the expected type is named: \(output)")
            #expect(unknown?.contains("routes[0]") == true, "\(output)")
            #expect(unknown?.contains("unknown field") == true, "\(output)")
        }
    }

    @Test(
        "a route's invalid plugin config names the route by its name")
    func routePluginConfigNamesTheRoute() throws {
        try withSetup(routePlugins: "[{ name: ver, config: { label: 5 } }]") { _, config in
            let result = try check(config)
            #expect(result.status == 1)
            let line = lines(result).first { $0.contains("ver.label") }
            #expect(line?.contains("api") == true, "\(lines(result))")
        }
    }

    @Test("a global plugin instance against the schema exits 1 naming plugins[0] and plugin.field")
    func globalPluginConfigViolatesSchema() throws {
        try withSetup(globalPlugins: "[{ name: ver, config: { label: [1] } }]") { _, config in
            let result = try check(config)
            #expect(result.status == 1)
            let line = lines(result).first { $0.contains("ver.label") }
            #expect(line?.contains("plugins[0]") == true, "\(lines(result))")
        }
    }

    @Test("an unknown plugin name exits 1 naming it")
    func unknownPlugin() throws {
        try withSetup(routePlugins: "[{ name: no-such-plugin }]") { _, config in
            let result = try check(config)
            #expect(result.status == 1)
            #expect(lines(result).contains { $0.contains("no-such-plugin") && $0.contains("routes[0]") }, "\(lines(result))")
        }
    }

    @Test("run refuses a route whose plugin config violates the schema: exit 1 naming plugin.field")
    func runRefusesInvalidPluginConfig() throws {
        let occupied = ScriptReloadOccupiedPort()
        try withSetup(routePlugins: "[{ name: ver, config: { label: 5 } }]", port: occupied.port) { directory, config in
            let result = try MoongateBinary.locate().run(["run", "-c", config.path], workingDirectory: directory)
            #expect(result.status == 1)
            #expect(result.standardError.contains("ver.label"), "\(result.standardError)")
        }
    }
}

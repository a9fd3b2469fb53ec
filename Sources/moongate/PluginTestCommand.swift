import ArgumentParser
import Foundation
import LuaKit
import MoongateCore
import MoongateScripting
import Yams

/// `moongate plugin ...`: tools for plugin authors.
struct PluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin", abstract: "Tools for plugin authors.", subcommands: [PluginTestCommand.self])
}

/// `moongate plugin test PLUGIN.lua --request FILE [--config JSON]` (SPEC §8): runs the
/// plugin's phases against a described request with no network and prints what it
/// produced as one JSON document. Exit 0 when the phases ran, 1 on a script error or
/// limit abort (or an invalid plugin, config or request file).
struct PluginTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Run a plugin's phases against a request file, without network; print the result as JSON.")

    @Argument(help: "The plugin file (NAME.lua); modules beside it can be required.")
    var plugin: String

    @Option(name: .customLong("request"), help: "The request, as YAML or JSON (method, path, headers, body, client_ip, route, mocks).")
    var request: String

    @Option(name: .customLong("config"), help: "The plugin instance's config as JSON (default {}).")
    var config: String = "{}"

    func run() throws {
        let url = URL(fileURLWithPath: plugin)
        guard url.pathExtension == "lua" else { return fail("\(plugin): expected a NAME.lua plugin file") }
        let name = url.deletingPathExtension().lastPathComponent
        let directory = url.deletingLastPathComponent().path
        let text: String
        do {
            text = try String(contentsOfFile: request, encoding: .utf8)
        } catch {
            return fail("\(request): cannot read the request file: \(error.localizedDescription)")
        }
        let input: PluginTestInput
        let consumers: [ConsumerConfig]
        let instance: PluginInstanceConfig
        do {
            input = try PluginTestInput.parse(text, file: request)
            // The request file may carry `consumers:` (as in moongate.yaml) for auth plugins.
            let document = try ConfigLoader.parse(
                yaml: "plugins:\n  - name: \(name)\n    config: \(config)\n" + consumersSection(text), file: "--config")
            if let issue = document.issues.first { return fail(issue.description) }
            instance = document.plugins.first?.model ?? PluginInstanceConfig(name: name)
            consumers = document.consumers.compactMap(\.model)
        } catch {
            return fail("\(error)")
        }
        let scripts: ScriptSet
        do {
            scripts = try ScriptSetLoader.load(paths: [directory], bundledRoot: BundledScripts.locate())
        } catch {
            return fail("\(error)")
        }
        let runner: PluginTestRunner
        do {
            runner = try PluginTestRunner(
                plugin: name, scripts: scripts, config: instance.config, consumers: consumers, routeName: input.routeName)
        } catch {
            return fail("\(error)")
        }
        let outcome = runner.run(input)
        print(String(decoding: PluginTestReport.json(outcome), as: UTF8.self))
        if outcome.failure != nil { throw MoongateExit.invalidInput }
    }

    private func fail(_ message: String) {
        printError(message)
        Foundation.exit(1)
    }

    /// The request file's `consumers:` section, re-emitted for the config parser.
    private func consumersSection(_ text: String) throws -> String {
        guard let root = try Yams.compose(yaml: text), let consumers = root.mapping?["consumers"] else { return "" }
        return try Yams.serialize(node: Node([(Node("consumers"), consumers)]))
    }
}

/// The JSON document `moongate plugin test` prints (SPEC §8).
enum PluginTestReport {
    static func json(_ outcome: PluginTestRunner.Outcome) -> [UInt8] {
        var document: [LuaValue: LuaValue] = [:]
        if let response = outcome.response, outcome.shortCircuited || outcome.upstreamRequest != nil {
            document["response"] = .map([
                "status": .integer(Int64(response.status ?? 0)), "headers": headers(response.headers),
                "body": .string(response.body),
            ])
        }
        if let sent = outcome.upstreamRequest {
            let target = (sent.path ?? "/") + ((sent.query ?? "").isEmpty ? "" : "?\(sent.query!)")
            document["upstream_request"] = .map([
                "method": .string(sent.method ?? "GET"), "path": .string(target), "headers": headers(sent.headers),
                "body": .string(sent.body),
            ])
            if let upstream = outcome.upstreamName { document["upstream"] = .string(upstream) }
        }
        let logs = LuaValue.array(
            outcome.logs.map { .map(["level": .string($0.level), "plugin": .string($0.plugin), "message": .string($0.message)]) })
        if let failure = outcome.failure {
            document["error"] = .map([
                "plugin": .string(failure.plugin), "phase": .string(failure.phase.rawValue), "kind": .string(failure.error.kind),
                "message": .string("\(failure.error)"),
            ])
        }
        // An empty Lua table encodes as {} (as cjson does); the log list is always an array.
        guard let body = try? LuaJSON.encode(.map(document)).get(),
            let list = outcome.logs.isEmpty ? Array("[]".utf8) : try? LuaJSON.encode(logs).get()
        else { return Array(#"{"error":"cannot encode the result"}"#.utf8) }
        return Array(#"{"logs":"#.utf8) + list + (body.count > 2 ? [UInt8(ascii: ",")] : []) + body.dropFirst()
    }

    static func headers(_ list: [(String, String)]) -> LuaValue {
        var entries: [LuaValue: LuaValue] = [:]
        for (name, value) in list {
            let key = LuaValue.string(name.lowercased())
            if case .string(let previous)? = entries[key] {
                entries[key] = .string(previous + Array(", \(value)".utf8))
            } else {
                entries[key] = .string(value)
            }
        }
        return .map(entries)
    }
}

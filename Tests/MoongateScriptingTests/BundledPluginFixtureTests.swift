import Foundation
import MoongateCore
import MoongateScripting
import Testing
import Yams

/// Runs every `Tests/PluginFixtures/<plugin>/<case>.yaml` through the plugin runtime
/// (the engine of `moongate plugin test`): the bundled plugins' behaviour, case by case.
@Suite struct BundledPluginFixtureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PluginFixtures").path

    static var fixtures: [String] {
        let enumerator = FileManager.default.enumerator(atPath: root)
        var files: [String] = []
        while let next = enumerator?.nextObject() as? String {
            if next.hasSuffix(".yaml") { files.append(next) }
        }
        return files.sorted()
    }

    @Test func everyBundledPluginHasFixtures() throws {
        let scripts = try ScriptSetLoader.load(paths: [], bundledRoot: BundledScripts.locate())
        let plugins = Set(Self.fixtures.map { String($0.split(separator: "/")[0]) })
        for name in scripts.pluginNames { #expect(plugins.contains(name), "no fixtures for bundled plugin \(name)") }
        #expect(scripts.pluginNames.count >= 13)
    }

    @Test(arguments: fixtures)
    func fixture(_ file: String) throws {
        let text = try String(contentsOfFile: "\(Self.root)/\(file)", encoding: .utf8)
        let node = try #require(try Yams.compose(yaml: text))
        let mapping = try #require(node.mapping)
        let plugin = try #require(mapping["plugin"]?.string)
        let document = try ConfigLoader.parse(yaml: Self.configDocument(mapping), file: file)
        let instances = document.plugins.compactMap(\.model)
        #expect(document.issues.isEmpty, "\(document.issues)")
        let runner = try PluginTestRunner(
            plugin: plugin, scripts: try ScriptSetLoader.load(paths: [], bundledRoot: BundledScripts.locate()),
            config: instances.first?.config ?? [:], consumers: document.consumers.compactMap(\.model),
            upstreams: mapping["upstreams"]?.sequence?.compactMap(\.string) ?? ["default"], alongside: Array(instances.dropFirst()))
        for (number, step) in (mapping["steps"]?.sequence ?? []).enumerated() {
            let where_ = "\(file) step \(number + 1)"
            var input = try PluginTestInput.decode(try #require(step.mapping?["request"]), file: file, at: "request")
            if let answer = step.mapping?["upstream_response"] {
                input.upstreamResponse = try PluginTestInput.decode(
                    Node([(Node("upstream_response"), answer)]), file: file, at: "").upstreamResponse
            }
            let outcome = runner.run(input)
            try Self.check(outcome, against: step.mapping?["expect"]?.mapping ?? [:], at: where_)
        }
    }

    /// The fixture's plugin instances and consumers as a moongate.yaml, so they decode
    /// exactly as a user's config does.
    static func configDocument(_ fixture: Node.Mapping) throws -> String {
        var plugins: [Node] = [Node([(Node("name"), fixture["plugin"]!), (Node("config"), fixture["config"] ?? Node([(Node, Node)]()))])]
        plugins += fixture["with_plugins"]?.sequence ?? []
        var root: [(Node, Node)] = [(Node("plugins"), Node(plugins))]
        if let consumers = fixture["consumers"] { root.append((Node("consumers"), consumers)) }
        return try Yams.serialize(node: Node(root))
    }

    static func check(_ outcome: PluginTestRunner.Outcome, against expect: Node.Mapping, at place: String) throws {
        let comment = Comment(rawValue: "\(place); logs: \(outcome.logs.map(\.message))")
        if expect["error"]?.bool == true {
            #expect(outcome.failure != nil, comment)
        } else {
            #expect(outcome.failure == nil, "\(place): hook failed: \(String(describing: outcome.failure?.error))")
        }
        if let status = expect["status"]?.int {
            #expect(outcome.shortCircuited, comment)
            #expect(outcome.response?.status == status, comment)
        } else if expect["error"]?.bool != true {
            #expect(!outcome.shortCircuited, "\(place): short-circuited with \(outcome.response?.status ?? 0) \(outcome.response?.bodyText ?? "")")
        }
        if let text = expect["body_contains"]?.string {
            #expect(outcome.response?.bodyText.contains(text) == true, "\(place): body \(outcome.response?.bodyText ?? "nil")")
        }
        if let upstream = expect["upstream"]?.mapping {
            let sent = try #require(outcome.upstreamRequest, comment)
            if let method = upstream["method"]?.string { #expect(sent.method == method, comment) }
            if let path = upstream["path"]?.string { #expect(sent.path == path, comment) }
            if let query = upstream["query"]?.string { #expect(sent.query == query, comment) }
            if let body = upstream["body"]?.string { #expect(sent.bodyText == body, comment) }
            checkHeaders(sent, upstream["headers"]?.mapping, absent: upstream["headers_absent"]?.sequence.map(Array.init), at: place + " upstream")
        }
        if let status = expect["response_status"]?.int { #expect(outcome.response?.status == status, comment) }
        if let body = expect["response_body"]?.string { #expect(outcome.response?.bodyText == body, comment) }
        if expect["response_headers"] != nil || expect["response_headers_absent"] != nil {
            let response = try #require(outcome.response, comment)
            checkHeaders(
                response, expect["response_headers"]?.mapping, absent: expect["response_headers_absent"]?.sequence.map(Array.init),
                at: place + " response")
        }
        if let upstream = expect["upstream_name"]?.string { #expect(outcome.upstreamName == upstream, comment) }
    }

    static func checkHeaders(_ message: PluginTestRunner.Outcome.Message, _ present: Node.Mapping?, absent: [Node]?, at place: String) {
        for (name, value) in present ?? [:] {
            guard let name = name.string else { continue }
            let actual = message.headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1).joined(separator: ", ")
            #expect(actual == value.string, "\(place): header \(name) is '\(actual)', expected '\(value.string ?? "")'")
        }
        for name in absent ?? [] {
            guard let name = name.string else { continue }
            #expect(message.header(name) == nil, "\(place): header \(name) should be absent, is '\(message.header(name) ?? "")'")
        }
    }
}

import Foundation
import Testing

@testable import MoongateCore

/// Documents that cannot be read at all: nothing of them applies (SPEC §2).
@Suite("Config: loading")
struct ConfigLoaderTests {
    @Test("a YAML syntax error names the file and line")
    func syntaxError() throws {
        let error = try #require(configLoadError("routes:\n  - name: a\n    match: { paths: [\"/a\" }\n"))
        #expect(error.issues.count == 1)
        #expect(error.issues[0].line == 3)
        #expect(error.issues[0].object == .document)
        #expect(error.description.hasPrefix("moongate.yaml:3: invalid YAML: "))
    }

    @Test("a key written twice in one map is a syntax error")
    func duplicateKey() throws {
        let error = try #require(configLoadError("proxy:\n  drain_timeout: 1s\n  drain_timeout: 2s\n"))
        #expect(error.description.contains("key 'drain_timeout' appears more than once in the same map"))
    }

    @Test("the root must be a map", arguments: ["- a\n- b\n", "just text\n"])
    func rootType(yaml: String) throws {
        let error = try #require(configLoadError(yaml))
        #expect(error.issues.map(\.path) == [""])
        #expect(
            error.issues[0].message.hasPrefix(
                "expected a map with keys proxy, admin, scripts, plugins, consumers, upstreams, routes, found"))
    }

    @Test("list sections must be lists: their entries could not be told apart otherwise")
    func listSection() throws {
        let error = try #require(configLoadError("upstreams:\n  name: orders\nroutes: {}\n"))
        #expect(
            error.issues.map(\.description) == [
                "moongate.yaml:2: upstreams: expected a list of upstreams, found a map",
                "moongate.yaml:3: routes: expected a list of routes, found a map",
            ])
    }

    @Test("empty sections are empty lists or defaults")
    func emptySections() throws {
        let outcome = try compileConfig("proxy:\nroutes:\nupstreams:\n")
        #expect(outcome.rejected.isEmpty)
        #expect(outcome.runtime.proxy == ProxySettings())
    }

    @Test("load(path:) reads the file and resolves relative paths against its directory")
    func loadFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "moongate-config-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("moongate.yaml").path
        try "admin: { token_file: ./secrets/token }\nscripts: { paths: [plugins, /opt/lua] }\n".write(
            toFile: file, atomically: true, encoding: .utf8)

        let document = try ConfigLoader.load(path: file)
        #expect(document.file == file)
        #expect(document.admin?.model?.tokenFile == directory.path + "/secrets/token")
        #expect(document.scripts.model?.paths == [directory.path + "/plugins", "/opt/lua"])
    }

    @Test("a missing file is a load error naming it")
    func missingFile() throws {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/moongate.yaml")
            Issue.record("expected a load error")
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.description == "/nonexistent/moongate.yaml: no such file; expected a YAML configuration file")
        }
    }

    @Test("relative paths resolve against the directory of the named file")
    func baseDirectory() throws {
        #expect(ConfigLoader.directory(of: "moongate.yaml") == "")
        #expect(ConfigLoader.directory(of: "conf/moongate.yaml") == "conf")
        #expect(ConfigLoader.directory(of: "/moongate.yaml") == "/")
        let document = try ConfigLoader.parse(yaml: "scripts: { paths: [., ./lua, /abs] }", file: "/etc/m/moongate.yaml")
        #expect(document.scripts.model?.paths == ["/etc/m", "/etc/m/lua", "/abs"])
    }
}

import Foundation
import Testing

/// `moongate plugin test PLUGIN.lua --request FILE [--config JSON]` through the real
/// binary (SPEC §8): one JSON document on stdout, `response` for a short-circuit,
/// `upstream_request` for a pass-through, mocks answering `gate.http.request`, and exit
/// 1 with an `error` member on a script error.
@Suite("moongate plugin test")
struct PluginCLITests {
    /// `gatekeeper.lua`: refuses requests without the configured header (401, with an
    /// `X-Denied` header); raises a Lua error for the name `boom`; otherwise greets the
    /// caller in a header for the upstream. With `check_url`, it first asks that URL
    /// (through `gate.http.request`) and forwards the answer as `X-Check`. Its
    /// header_filter tags every response, its own 401 included.
    static let gatekeeper = """
        local plugin = {
          priority = 1000,
          schema = { fields = {
            header_name = { type = "string", default = "X-Name" },
            check_url = { type = "string" },
          } },
        }

        function plugin.access(conf)
          if conf.check_url then
            local res, err = gate.http.request({ method = "GET", url = conf.check_url })
            if not res then return gate.response.exit(502, { message = err }) end
            gate.service.request.set_header("X-Check", res.status .. ":" .. res.body)
          end
          local name = gate.request.get_header(conf.header_name)
          if not name then
            return gate.response.exit(401, { message = "who are you?" }, { ["X-Denied"] = "yes" })
          end
          if name == "boom" then
            error("exploded on purpose")
          end
          gate.service.request.set_header("X-Greeting", "hello " .. name)
          gate.log.info("greeted " .. name)
        end

        function plugin.header_filter(conf)
          gate.response.set_header("X-Gatekeeper", "seen")
        end

        return plugin
        """
    /// The line of `error("exploded on purpose")` in `gatekeeper`.
    static let errorLine = gatekeeper.split(separator: "\n", omittingEmptySubsequences: false)
        .firstIndex { $0.contains("exploded on purpose") }! + 1

    /// A temporary directory with `gatekeeper.lua`, removed after `body`.
    func withPlugin(_ body: (_ directory: URL, _ plugin: URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("moongate-plugin-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let plugin = directory.appendingPathComponent("gatekeeper.lua")
        try Self.gatekeeper.write(to: plugin, atomically: true, encoding: .utf8)
        try body(directory, plugin)
    }

    /// Writes the request file and runs `moongate plugin test`.
    func pluginTest(
        _ plugin: URL, request: String, named name: String = "request.yaml", config: String? = nil
    ) throws -> MoongateBinary.Result {
        let file = plugin.deletingLastPathComponent().appendingPathComponent(name)
        try request.write(to: file, atomically: true, encoding: .utf8)
        var arguments = ["plugin", "test", plugin.path, "--request", file.path]
        if let config { arguments += ["--config", config] }
        return try MoongateBinary.locate().run(arguments)
    }

    /// stdout as a JSON object (records an issue and returns [:] when it is not one).
    func document(_ result: MoongateBinary.Result) -> [String: Any] {
        let parsed = try? JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
        guard let object = parsed as? [String: Any] else {
            Issue.record("stdout is not a JSON object: \(result.standardOutput) (stderr: \(result.standardError))")
            return [:]
        }
        return object
    }

    @Test("a short-circuit prints the response (status, headers, body) and exits 0")
    func shortCircuit() throws {
        try withPlugin { _, plugin in
            let result = try pluginTest(plugin, request: "method: GET\npath: /things\n")
            #expect(result.status == 0, "\(result.standardError)")
            let output = document(result)
            #expect(output["upstream_request"] == nil)
            let response = output["response"] as? [String: Any]
            #expect(response?["status"] as? Int == 401)
            let headers = response?["headers"] as? [String: Any]
            #expect(headers?["x-denied"] as? String == "yes")
            #expect(headers?["x-gatekeeper"] as? String == "seen", "header_filter runs on an exit response")
            #expect((headers?["content-type"] as? String)?.hasPrefix("application/json") == true)
            let body = (response?["body"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
            #expect((body as? [String: Any])?["message"] as? String == "who are you?")
            #expect(output["logs"] is [Any])
        }
    }

    @Test("a pass-through prints the upstream request (method, path with query, headers, body) and the logs")
    func passThrough() throws {
        try withPlugin { _, plugin in
            let request = """
                method: POST
                path: /things?a=1
                headers: { X-Name: Ada }
                body: "payload"
                """
            let result = try pluginTest(plugin, request: request)
            #expect(result.status == 0, "\(result.standardError)")
            let output = document(result)
            #expect(output["response"] == nil)
            let upstream = output["upstream_request"] as? [String: Any]
            #expect(upstream?["method"] as? String == "POST")
            #expect(upstream?["path"] as? String == "/things?a=1")
            #expect(upstream?["body"] as? String == "payload")
            let headers = upstream?["headers"] as? [String: Any]
            #expect(headers?["x-greeting"] as? String == "hello Ada")
            #expect(headers?["x-name"] as? String == "Ada")
            let logs = output["logs"] as? [[String: Any]]
            #expect(logs?.contains { ($0["message"] as? String)?.contains("greeted Ada") == true } == true, "\(output)")
        }
    }

    @Test("a JSON request file and --config are honoured")
    func jsonRequestAndConfig() throws {
        try withPlugin { _, plugin in
            let request = #"{"method": "DELETE", "path": "/j", "headers": {"X-User": "Bo"}}"#
            let result = try pluginTest(plugin, request: request, named: "request.json", config: #"{"header_name": "X-User"}"#)
            #expect(result.status == 0, "\(result.standardError)")
            let upstream = document(result)["upstream_request"] as? [String: Any]
            #expect(upstream?["method"] as? String == "DELETE")
            #expect((upstream?["headers"] as? [String: Any])?["x-greeting"] as? String == "hello Bo")
        }
    }

    @Test("mocks answer gate.http.request; an unmocked URL fails the call")
    func mocks() throws {
        try withPlugin { _, plugin in
            let request = """
                method: GET
                path: /things
                headers: { X-Name: Ada }
                mocks:
                  - { url: "http://auth.internal/check", status: 201, headers: { X-A: b }, body: "ok-from-mock" }
                """
            let mocked = try pluginTest(plugin, request: request, config: #"{"check_url": "http://auth.internal/check"}"#)
            #expect(mocked.status == 0, "\(mocked.standardError)")
            let upstream = document(mocked)["upstream_request"] as? [String: Any]
            #expect((upstream?["headers"] as? [String: Any])?["x-check"] as? String == "201:ok-from-mock")

            let unmocked = try pluginTest(plugin, request: request, config: #"{"check_url": "http://elsewhere.internal/x"}"#)
            #expect(unmocked.status == 0, "\(unmocked.standardError)")
            let response = document(unmocked)["response"] as? [String: Any]
            #expect(response?["status"] as? Int == 502)
            #expect((response?["body"] as? String)?.contains("elsewhere.internal") == true)
        }
    }

    @Test("a script error exits 1 with an error member naming the plugin, phase and file:line")
    func scriptError() throws {
        try withPlugin { _, plugin in
            let result = try pluginTest(plugin, request: "method: GET\npath: /\nheaders: { X-Name: boom }\n")
            #expect(result.status == 1)
            let error = document(result)["error"] as? [String: Any]
            #expect(error?["plugin"] as? String == "gatekeeper")
            #expect(error?["phase"] as? String == "access")
            let message = error?["message"] as? String ?? ""
            #expect(message.contains("gatekeeper.lua:\(Self.errorLine):"), "\(message)")
            #expect(message.contains("exploded on purpose"))
        }
    }

    @Test("an invalid --config exits 1 naming the field (wrong type, unknown field) or --config (not JSON)")
    func invalidConfig() throws {
        try withPlugin { _, plugin in
            let request = "method: GET\npath: /\nheaders: { X-Name: Ada }\n"
            let wrongType = try pluginTest(plugin, request: request, config: #"{"check_url": 5}"#)
            #expect(wrongType.status == 1)
            #expect(wrongType.standardError.contains("gatekeeper.check_url"), "\(wrongType.standardError)")

            let unknown = try pluginTest(plugin, request: request, config: #"{"chek_url": "http://x"}"#)
            #expect(unknown.status == 1)
            #expect(unknown.standardError.contains("gatekeeper.chek_url"), "\(unknown.standardError)")

            let notJSON = try pluginTest(plugin, request: request, config: "{not json")
            #expect(notJSON.status == 1)
            #expect(notJSON.standardError.contains("--config"), "\(notJSON.standardError)")

            let notAnObject = try pluginTest(plugin, request: request, config: "[1, 2]")
            #expect(notAnObject.status == 1)
            #expect(notAnObject.standardError.contains("--config"), "\(notAnObject.standardError)")
        }
    }

    @Test("a plugin file that does not compile exits 1 naming file:line")
    func pluginDoesNotCompile() throws {
        try withPlugin { directory, _ in
            let broken = directory.appendingPathComponent("broken.lua")
            try ScriptReloadPluginSources.brokenVersion.write(to: broken, atomically: true, encoding: .utf8)
            let result = try pluginTest(broken, request: "method: GET\npath: /\n")
            #expect(result.status == 1)
            #expect(
                (result.standardOutput + result.standardError).contains("broken.lua:\(ScriptReloadPluginSources.brokenVersionLine):"),
                "\(result.standardError)")
        }
    }

    @Test("an invalid request file exits 1 naming the file and field")
    func invalidRequestFile() throws {
        try withPlugin { _, plugin in
            let result = try pluginTest(plugin, request: "method: GET\npath: no-slash\n")
            #expect(result.status == 1)
            #expect(result.standardError.contains("request.yaml:"), "\(result.standardError)")
            #expect(result.standardError.contains("path"))
        }
    }
}

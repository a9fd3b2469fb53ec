import Foundation
import HTTPTestSupport
import Testing

/// Phase rules and hook failures on real sockets: a `gate` function called outside
/// its phases raises an error naming the function and the phase; an uncaught error
/// fails the request with 500 (counted), unless the plugin is `fail_open`.
@Suite struct PDKThroughProxyPhaseTests {
    static let config = """
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        routes:
          - name: misplaced
            match: { paths: ["/misplaced"] }
            upstream: origin
            plugins: [{ name: misplaced }]
          - { name: read-misplaced, match: { paths: ["/read-misplaced"] }, upstream: origin, plugins: [{ name: read-misplaced }] }
          - { name: exit-in-filter, match: { paths: ["/exit-in-filter"] }, upstream: origin, plugins: [{ name: exit-in-filter }] }
          - { name: flaky, match: { paths: ["/flaky"] }, upstream: origin, plugins: [{ name: flaky }, { name: marker }] }
          - { name: broken, match: { paths: ["/broken"] }, upstream: origin, plugins: [{ name: broken }] }
          - name: broken-after-edits
            match: { paths: ["/broken-after-edits"] }
            upstream: origin
            plugins: [{ name: broken-after-edits }]
        """

    static let scripts = [
        // Calls, under pcall, functions that its current phase does not allow, and
        // keeps the error messages: those from before the response headers go out in a
        // response header, the later ones in a shared dict.
        "misplaced.lua": #"""
        local function try(phase, name, fn, ...)
          local ok, message = pcall(fn, ...)
          local line = phase .. " " .. name .. ": " .. (ok and "ALLOWED" or tostring(message))
          local seen = gate.ctx.plugin.seen or {}
          seen[#seen + 1] = line
          gate.ctx.plugin.seen = seen
          return line
        end
        return {
          priority = 1000,
          access = function(conf)
            try("access", "gate.balancer.get_targets", gate.balancer.get_targets)
            try("access", "gate.service.response.get_status", gate.service.response.get_status)
            try("access", "gate.response.get_status", gate.response.get_status)
            try("access", "gate.response.get_header", gate.response.get_header, "x")
          end,
          balancer = function(conf)
            try("balancer", "gate.sleep", gate.sleep, 0)
            try("balancer", "gate.http.request", gate.http.request, { url = "http://127.0.0.1:1/" })
            try("balancer", "gate.request.get_body", gate.request.get_body)
            try("balancer", "gate.response.exit", gate.response.exit, 200)
            try("balancer", "gate.client.authenticate", gate.client.authenticate, { username = "x" })
          end,
          header_filter = function(conf)
            try("header_filter", "gate.response.exit", gate.response.exit, 200)
            try("header_filter", "gate.service.request.set_header", gate.service.request.set_header, "a", "b")
            try("header_filter", "gate.request.get_body", gate.request.get_body)
            try("header_filter", "gate.service.set_target", gate.service.set_target, "127.0.0.1", 1)
            try("header_filter", "gate.sleep", gate.sleep, 0)
            gate.response.set_header("X-Misplaced", table.concat(gate.ctx.plugin.seen, "\t"))
          end,
          body_filter = function(conf, chunk, eof)
            local dict = gate.shared.dict("misplaced")
            dict:set("body_filter set_header",
              try("body_filter", "gate.response.set_header", gate.response.set_header, "a", "b"))
            dict:set("body_filter set_status", try("body_filter", "gate.response.set_status", gate.response.set_status, 200))
          end,
          log = function(conf)
            local dict = gate.shared.dict("misplaced")
            dict:set("log set_status", try("log", "gate.response.set_status", gate.response.set_status, 200))
            dict:set("log set_body", try("log", "gate.service.request.set_body", gate.service.request.set_body, "x"))
            dict:set("done", true)
          end,
        }
        """#,
        "read-misplaced.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            local dict = gate.shared.dict("misplaced")
            if not dict:get("done") then return gate.response.exit(200, { done = false }) end
            return gate.response.exit(200, {
              done = true,
              ["body_filter set_header"] = dict:get("body_filter set_header"),
              ["body_filter set_status"] = dict:get("body_filter set_status"),
              ["log set_status"] = dict:get("log set_status"),
              ["log set_body"] = dict:get("log set_body"),
            })
          end,
        }
        """#,
        "exit-in-filter.lua": #"""
        return { priority = 1000, header_filter = function(conf) return gate.response.exit(200, "too late") end }
        """#,
        "flaky.lua": #"""
        return {
          priority = 2000,
          fail_open = true,
          access = function(conf) error("flaky access") end,
          header_filter = function(conf) error("flaky header_filter") end,
        }
        """#,
        // Runs after flaky in both phases: proof that the request went on.
        "marker.lua": #"""
        return {
          priority = 1000,
          access = function(conf) gate.service.request.set_header("X-Marker", "access ran") end,
          header_filter = function(conf) gate.response.set_header("X-Marker", "header_filter ran") end,
        }
        """#,
        "broken-after-edits.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            gate.response.set_status(202)
            gate.response.set_header("Content-Type", "text/plain")
            error("failed after asking for another status")
          end,
        }
        """#,
        "broken.lua": #"""
        return { priority = 1000, access = function(conf) local missing = nil; return missing.field end }
        """#,
    ]

    static let expectedRefusals = [
        "access gate.balancer.get_targets", "access gate.service.response.get_status", "access gate.response.get_status",
        "access gate.response.get_header", "balancer gate.sleep", "balancer gate.http.request", "balancer gate.request.get_body",
        "balancer gate.response.exit", "balancer gate.client.authenticate", "header_filter gate.response.exit",
        "header_filter gate.service.request.set_header", "header_filter gate.request.get_body",
        "header_filter gate.service.set_target", "header_filter gate.sleep",
    ]

    /// "PHASE NAME: MESSAGE" must name the function and the phase.
    static func checkRefusal(_ line: String) {
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count == 3 else {
            Issue.record("malformed report line: \(line)")
            return
        }
        let phase = String(parts[0])
        let name = String(parts[1].dropLast())
        #expect(line.contains("\(name) cannot be called in the \(phase) phase"), "\(line)")
    }

    @Test func functionsOutsideTheirPhasesAreRefusedByName() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let response = try client.request("GET", "/misplaced")
            #expect(response.status == 200)
            let lines = (response.header("x-misplaced") ?? "").split(separator: "\t").map(String.init)
            #expect(lines.map { $0.components(separatedBy: ":").first ?? "" } == Self.expectedRefusals)
            for line in lines { Self.checkRefusal(line) }

            let late = try await eventually { () -> [String: Any]? in
                let report = try client.request("GET", "/read-misplaced").pdkReport()
                return report["done"] as? Bool == true ? report : nil
            }
            for key in ["body_filter set_header", "body_filter set_status", "log set_status", "log set_body"] {
                let line = late?[key] as? String ?? "missing \(key)"
                Self.checkRefusal(line)
            }
            // Caught errors are the plugin's business: nothing failed.
            #expect(gateway.services.errors.count(plugin: "misplaced") == 0)
        }
    }

    @Test func exitInHeaderFilterFailsTheRequest() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/exit-in-filter")
            #expect(response.status == 500)
            #expect(response.text == #"{"message":"An unexpected error occurred"}"#)
            let errors = gateway.services.errors.snapshot
            #expect(errors.contains { $0.key.plugin == "exit-in-filter" && $0.key.phase == "header_filter" && $0.key.kind == "runtime" })
        }
    }

    @Test func failOpenPluginErrorsLetTheRequestThrough() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/flaky")
            #expect(response.status == 200)
            #expect(response.originHeader("x-marker") == ["access ran"])
            #expect(response.header("x-marker") == "header_filter ran")
            let errors = gateway.services.errors.snapshot
            #expect(errors.contains { $0.key.plugin == "flaky" && $0.key.phase == "access" && $0.key.kind == "runtime" })
            #expect(errors.contains { $0.key.plugin == "flaky" && $0.key.phase == "header_filter" && $0.key.kind == "runtime" })
        }
    }

    @Test func aRuntimeErrorInAccessGives500ForThatRequestOnly() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let failed = try client.request("GET", "/broken")
            #expect(failed.status == 500)
            #expect(failed.header("content-type") == "application/json")
            #expect(failed.text == #"{"message":"An unexpected error occurred"}"#)
            #expect(gateway.services.errors.snapshot.contains { $0.key.plugin == "broken" && $0.key.phase == "access" })
            #expect(gateway.origin.requestCount == 0)
            // The same connection and VM go on serving.
            #expect(try client.request("GET", "/flaky").status == 200)
        }
    }

    /// The status and headers the failed hook asked for belonged to a response that
    /// will not be sent: the client gets the gateway's 500.
    @Test()
    func aRuntimeErrorAfterResponseEditsStillGives500() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let failed = try gateway.client().request("GET", "/broken-after-edits")
            #expect(failed.status == 500)
            #expect(failed.header("content-type") == "application/json")
            #expect(failed.text == #"{"message":"An unexpected error occurred"}"#)
        }
    }
}

import Foundation
import HTTPTestSupport
import Testing

/// `gate.response` and the response phases on real sockets: short-circuits with
/// table and string bodies, header and status changes asked for in access (applied
/// when the response arrives) and in header_filter, reads in header_filter and log,
/// and body_filter rewriting a streamed body.
@Suite struct PDKThroughProxyResponseTests {
    static let config = """
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        routes:
          - { name: exit, match: { paths: ["/exit"] }, upstream: origin, plugins: [{ name: exits }, { name: after-exit }] }
          - name: shape
            match: { paths: ["/shape"] }
            upstream: origin
            plugins: [{ name: shape }, { name: response-log }]
          - { name: read-log, match: { paths: ["/read-log"] }, upstream: origin, plugins: [{ name: read-log }] }
          - { name: shout, match: { paths: ["/shout"] }, upstream: origin, plugins: [{ name: shout }] }
          - { name: shout-exit, match: { paths: ["/shout-exit"] }, upstream: origin, plugins: [{ name: exits }, { name: shout }] }
          - { name: bytes, match: { paths: ["/bytes"] }, upstream: origin, plugins: [{ name: summarize }] }
          - { name: slow, match: { paths: ["/slow"] }, upstream: origin, plugins: [{ name: response-log }] }
        """

    static let scripts = [
        // The kind of exit comes from the query.
        "exits.lua": #"""
        return {
          priority = 2000,
          access = function(conf)
            local kind = gate.request.get_query_arg("kind")
            if kind == "table" then
              return gate.response.exit(418, { message = "teapot", list = { 1, 2 } },
                { ["X-Exit"] = "yes", ["X-Exit-Multi"] = { "a", "b" } })
            elseif kind == "string" then
              return gate.response.exit(403, "plain words", { ["Content-Type"] = "text/plain" })
            elseif kind == "bare" then
              return gate.response.exit(204)
            elseif kind == "after-edits" then
              -- Changes asked for earlier apply to the exit response too; the exit's own
              -- status and headers are what the plugin answered with.
              gate.response.set_status(202)
              gate.response.set_header("X-Pending", "from access")
              gate.response.set_header("X-Both", "from access")
              return gate.response.exit(409, { message = "conflict" }, { ["X-Both"] = "from exit" })
            end
          end,
        }
        """#,
        // Lower priority: its access is skipped by an exit, its header_filter is not.
        "after-exit.lua": #"""
        return {
          priority = 1000,
          access = function(conf) gate.ctx.shared.after_exit_access = true end,
          header_filter = function(conf)
            gate.response.set_header("X-After-Exit-Access", tostring(gate.ctx.shared.after_exit_access))
            gate.response.set_header("X-Status-In-Filter", gate.response.get_status())
          end,
        }
        """#,
        "shape.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            gate.response.set_status(202)
            gate.response.set_header("X-Early", "1")
            gate.response.add_header("X-Early-Multi", "a")
            gate.response.add_header("X-Early-Multi", "b")
            gate.response.clear_header("X-Origin")
            gate.ctx.shared.shaped_in_access = "yes"
          end,
          header_filter = function(conf)
            gate.response.set_header("X-Filter-Saw",
              gate.response.get_status() .. "/" .. gate.response.get_header("x-early") .. "/"
              .. tostring(gate.response.get_header("x-origin")))
            gate.response.set_header("X-Early", "overwritten")
            gate.response.add_header("X-Late", "c")
            gate.response.add_header("X-Late", "d")
            gate.response.clear_header("X-Early-Multi")
            gate.response.set_status(203)
          end,
        }
        """#,
        "response-log.lua": #"""
        return {
          priority = 500,
          log = function(conf)
            local log = gate.shared.dict("response-log")
            log:set("status", gate.response.get_status())
            log:set("late", gate.response.get_header("X-Late"))
            log:set("upstream_status", gate.service.response.get_status())
            log:set("ctx", tostring(gate.ctx.shared.shaped_in_access))
            log:incr("count", 1, 0)
          end,
        }
        """#,
        "read-log.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            local log = gate.shared.dict("response-log")
            return gate.response.exit(200, {
              status = log:get("status"), late = log:get("late"),
              upstream_status = log:get("upstream_status"), count = log:get("count"), ctx = log:get("ctx"),
            })
          end,
        }
        """#,
        "shout.lua": #"""
        return {
          priority = 1000,
          body_filter = function(conf, chunk, eof) return chunk:upper() end,
        }
        """#,
        // Drops every chunk and sends a summary at the end.
        "summarize.lua": #"""
        return {
          priority = 1000,
          body_filter = function(conf, chunk, eof)
            gate.ctx.plugin.bytes = (gate.ctx.plugin.bytes or 0) + #chunk
            gate.ctx.plugin.chunks = (gate.ctx.plugin.chunks or 0) + 1
            if not eof then return "" end
            return "bytes=" .. gate.ctx.plugin.bytes .. (gate.ctx.plugin.chunks > 2 and " streamed" or " whole")
          end,
        }
        """#,
    ]

    @Test func exitWithATableSendsJSONAndHeaders() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/exit?kind=table")
            #expect(response.status == 418)
            #expect(response.header("content-type")?.hasPrefix("application/json") == true)
            #expect(response.header("x-exit") == "yes")
            #expect(response.headerValues("x-exit-multi") == ["a", "b"])
            let report = try response.pdkReport()
            #expect(report["message"] as? String == "teapot")
            #expect(report["list"] as? [Int] == [1, 2])
            // The remaining access hooks were skipped; header_filter still ran.
            #expect(response.header("x-after-exit-access") == "nil")
            #expect(response.header("x-status-in-filter") == "418")
            #expect(gateway.origin.requestCount == 0)
        }
    }

    @Test func exitWithAStringOrNoBody() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let text = try client.request("GET", "/exit?kind=string")
            #expect(text.status == 403)
            #expect(text.text == "plain words")
            #expect(text.header("content-type") == "text/plain")
            let bare = try client.request("GET", "/exit?kind=bare")
            #expect(bare.status == 204)
            #expect(bare.body.isEmpty)
            #expect(gateway.origin.requestCount == 0)
            let through = try client.request("GET", "/exit")
            #expect(through.status == 200)
            #expect(through.header("x-after-exit-access") == "true")
        }
    }

    @Test()
    func exitAfterResponseEditsKeepsTheExitStatusAndHeaders() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/exit?kind=after-edits")
            #expect(response.status == 409)
            #expect(response.header("x-pending") == "from access")
            #expect(response.headerValues("x-both") == ["from exit"])
            #expect(try response.pdkReport()["message"] as? String == "conflict")
        }
    }

    /// The client's body is not read by anyone: it is discarded, and the connection
    /// serves the next request.
    @Test func exitWithAnUnreadRequestBodyKeepsTheConnectionUsable() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let exited = try client.request("POST", "/exit?kind=string", body: Array(repeating: UInt8(ascii: "x"), count: 20000))
            #expect(exited.status == 403)
            let next = try client.request("GET", "/exit")
            #expect(next.status == 200)
            #expect(next.originLine("method") == "GET")
        }
    }

    /// Two requests in one write: each gets its own response phases.
    @Test func pipelinedRequestsGoThroughTheirOwnPhases() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            try client.send(
                "GET /exit?kind=string HTTP/1.1\r\nHost: example.test\r\n\r\nGET /shout HTTP/1.1\r\nHost: example.test\r\n\r\n")
            let first = try client.readResponse()
            let second = try client.readResponse()
            #expect(first.status == 403)
            #expect(first.text == "plain words")
            #expect(second.status == 200)
            #expect(second.text.hasPrefix("METHOD=GET\nURI=/SHOUT\n"))
        }
    }

    @Test func responseChangesFromAccessAndHeaderFilter() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let response = try client.request("GET", "/shape")
            #expect(response.status == 203)
            #expect(response.header("x-filter-saw") == "202/1/nil")
            #expect(response.headerValues("x-early") == ["overwritten"])
            #expect(response.headerValues("x-early-multi").isEmpty)
            #expect(response.headerValues("x-late") == ["c", "d"])
            #expect(response.header("x-origin") == nil)
            #expect(response.originLine("method") == "GET")

            // The log hook ran after the response went out; a later request reads what it saw.
            let logged = try await eventually { () -> [String: Any]? in
                let report = try client.request("GET", "/read-log").pdkReport()
                return report["count"] == nil ? nil : report
            }
            #expect(logged?["status"] as? Int == 203)
            #expect(logged?["late"] as? String == "c")
            #expect(logged?["upstream_status"] as? Int == 200)
            #expect(logged?["count"] as? Int == 1)
            #expect(logged?["ctx"] as? String == "yes")
        }
    }

    /// The client gives up before the upstream answers: the log hook still runs.
    @Test func logRunsWhenTheClientLeavesEarly() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            do {
                let leaving = try gateway.client()
                try leaving.send("GET /slow HTTP/1.1\r\nHost: example.test\r\n\r\n")
                _ = try await eventually { gateway.origin.requestCount == 1 ? true : nil }
            }
            let client = try gateway.client()
            let logged = try await eventually { () -> [String: Any]? in
                let report = try client.request("GET", "/read-log").pdkReport()
                return report["count"] == nil ? nil : report
            }
            #expect(logged?["count"] as? Int == 1)
        }
    }

    @Test func bodyFilterRewritesTheStreamedBody() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/shout")
            #expect(response.status == 200)
            #expect(response.header("content-length") == nil)
            #expect(response.header("transfer-encoding")?.lowercased() == "chunked")
            #expect(response.text.hasPrefix("METHOD=GET\nURI=/SHOUT\n"))
            #expect(response.text == response.text.uppercased())
        }
    }

    /// An HTTP/1.0 client cannot read chunks: the filtered body ends with the close.
    @Test func bodyFilterForAnHTTP10Client() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let response = try client.exchange("GET /shout HTTP/1.0\r\nHost: example.test\r\n\r\n")
            #expect(response.status == 200)
            #expect(response.header("content-length") == nil)
            #expect(response.header("transfer-encoding") == nil)
            #expect(response.text.hasPrefix("METHOD=GET\nURI=/SHOUT\n"))
            #expect(try client.isClosedByPeer())
        }
    }

    @Test func bodyFilterAlsoRunsOnAnExitBody() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/shout-exit?kind=string")
            #expect(response.status == 403)
            #expect(response.text == "PLAIN WORDS")
        }
    }

    @Test func bodyFilterCanDropChunksAndSendItsOwnEnd() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/bytes/300000")
            #expect(response.status == 200)
            #expect(response.header("content-length") == nil)
            #expect(response.text == "bytes=300000 streamed")
        }
    }
}

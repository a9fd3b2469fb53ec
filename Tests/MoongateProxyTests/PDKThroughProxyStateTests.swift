import Foundation
import HTTPTestSupport
import Testing

/// State on real sockets: `gate.ctx.shared` between plugins of one request,
/// `gate.ctx.plugin` private to each, `gate.shared.dict` across requests and event
/// loops, and `gate.timer.at` callbacks that run after their request is over.
@Suite struct PDKThroughProxyStateTests {
    static let config = """
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        routes:
          - name: ctx
            match: { paths: ["/ctx"] }
            upstream: origin
            plugins: [{ name: ctx-first }, { name: ctx-second }]
          - { name: dict, match: { paths: ["/dict"] }, upstream: origin, plugins: [{ name: dict-ops }] }
          - { name: count, match: { paths: ["/count"] }, upstream: origin, plugins: [{ name: counter }] }
          - { name: timer, match: { paths: ["/timer"] }, upstream: origin, plugins: [{ name: timers }] }
        """

    static let scripts = [
        "ctx-first.lua": #"""
        return {
          priority = 2000,
          access = function(conf)
            gate.service.request.set_header("X-First-Saw-Shared", tostring(gate.ctx.shared.from_first))
            gate.ctx.shared.from_first = "hello"
            gate.ctx.plugin.secret = "first-secret"
            local ok, message = pcall(function() gate.ctx.anything = 1 end)
            gate.service.request.set_header("X-Ctx-Write", tostring(ok) .. "|" .. tostring(message))
          end,
          header_filter = function(conf)
            gate.response.set_header("X-First-Secret-Later", tostring(gate.ctx.plugin.secret))
            gate.response.set_header("X-Second-Reply", tostring(gate.ctx.shared.from_second))
          end,
        }
        """#,
        "ctx-second.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            gate.service.request.set_header("X-Second-Saw-Shared", tostring(gate.ctx.shared.from_first))
            gate.service.request.set_header("X-Second-Saw-Private", tostring(gate.ctx.plugin.secret))
            gate.ctx.shared.from_second = "hi back"
          end,
        }
        """#,
        // One step per request, chosen by ?step=.
        "dict-ops.lua": #"""
        local function show(...)
          local parts = table.pack(...)
          for i = 1, parts.n do parts[i] = tostring(parts[i]) end
          return table.concat(parts, "|", 1, parts.n)
        end
        return {
          priority = 1000,
          access = function(conf)
            local dict = gate.shared.dict("state")
            local step = gate.request.get_query_arg("step")
            if step == "write" then
              return gate.response.exit(200, {
                set = show(dict:set("name", "moon", 60)),
                set_number = show(dict:set("pi", 3.5)),
                set_flag = show(dict:set("flag", true)),
                add_new = show(dict:add("once", "first")),
                add_again = show(dict:add("once", "second")),
                incr_missing = show(dict:incr("missing", 1)),
                incr_init = show(dict:incr("hits", 5, 10)),
                incr_again = show(dict:incr("hits", 1)),
                short = show(dict:set("short", "soon gone", 0.1)),
                doomed = show(dict:set("doomed", "x")),
              })
            elseif step == "read" then
              dict:delete("doomed")
              return gate.response.exit(200, {
                name = show(dict:get("name")), pi = show(dict:get("pi")), flag = show(dict:get("flag")),
                once = show(dict:get("once")), hits = show(dict:get("hits")), short = show(dict:get("short")),
                doomed = show(dict:get("doomed")), same_object = gate.shared.dict("state") == dict,
                table_value = show(pcall(dict.set, dict, "t", {})),
              })
            end
          end,
        }
        """#,
        "counter.lua": #"""
        -- The top level runs once per VM: this names the VM that served a request.
        local vm = gate.uuid()
        return {
          priority = 1000,
          access = function(conf)
            local count = gate.shared.dict("count"):incr("requests", 1, 0)
            gate.service.request.set_header("X-Count", count)
            gate.service.request.set_header("X-VM", vm)
          end,
        }
        """#,
        "timers.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            local dict = gate.shared.dict("timers")
            if gate.request.get_query_arg("read") then
              return gate.response.exit(200, {
                fired = dict:get("fired"), args = dict:get("args"), request_call = dict:get("request_call"),
              })
            end
            local scheduled = gate.timer.at(0.05, function(first, second)
              dict:set("args", first .. "+" .. second)
              local ok, message = pcall(gate.request.get_method)
              dict:set("request_call", tostring(ok) .. "|" .. tostring(message))
              gate.sleep(0.01)
              dict:set("fired", true)
            end, "one", "two")
            return gate.response.exit(200, { scheduled = scheduled })
          end,
        }
        """#,
    ]

    @Test func ctxSharedCrossesPluginsAndCtxPluginDoesNot() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            for _ in 0..<2 {
                let response = try client.request("GET", "/ctx")
                #expect(response.status == 200)
                // Fresh per request: nothing is left from the previous one.
                #expect(response.originHeader("x-first-saw-shared") == ["nil"])
                #expect(response.originHeader("x-second-saw-shared") == ["hello"])
                #expect(response.originHeader("x-second-saw-private") == ["nil"])
                #expect(response.header("x-first-secret-later") == "first-secret")
                #expect(response.header("x-second-reply") == "hi back")
                let write = response.originHeader("x-ctx-write").first ?? ""
                #expect(write.hasPrefix("false|") && write.contains("gate.ctx is read-only"))
            }
        }
    }

    @Test func sharedDictOperationsAcrossRequests() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let written = try gateway.client().request("GET", "/dict?step=write").pdkReport()
            #expect(written["set"] as? String == "true")
            #expect(written["set_number"] as? String == "true")
            #expect(written["set_flag"] as? String == "true")
            #expect(written["add_new"] as? String == "true")
            #expect(written["add_again"] as? String == "false|exists")
            #expect(written["incr_missing"] as? String == "nil|not found")
            #expect(written["incr_init"] as? String == "15")
            #expect(written["incr_again"] as? String == "16")
            #expect(written["doomed"] as? String == "true")
            // Well past the 0.1 s ttl of "short".
            try await Task.sleep(for: .milliseconds(1500))
            let read = try gateway.client().request("GET", "/dict?step=read").pdkReport()
            #expect(read["name"] as? String == "moon")
            #expect(read["pi"] as? String == "3.5")
            #expect(read["flag"] as? String == "true")
            #expect(read["once"] as? String == "first")
            #expect(read["hits"] as? String == "16")
            #expect(read["short"] as? String == "nil")
            #expect(read["doomed"] as? String == "nil")
            #expect(read["same_object"] as? Bool == true)
            let tableValue = read["table_value"] as? String ?? ""
            #expect(tableValue.hasPrefix("false|") && tableValue.contains("only strings, numbers and booleans"))
        }
    }

    /// Two event loops, so two Lua VMs: one counter for both.
    @Test func sharedDictIsSharedByEveryEventLoop() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts, loops: 2) { gateway in
            var seen: [Int] = []
            var vms: Set<String> = []
            for _ in 0..<6 {
                let response = try gateway.client().request("GET", "/count")
                #expect(response.status == 200)
                seen += response.originHeader("x-count").compactMap { Int($0) }
                vms.formUnion(response.originHeader("x-vm"))
            }
            #expect(seen == Array(1...6))
            #expect(vms.count == 2)
        }
    }

    @Test func timerRunsAfterItsRequestAndWritesForALaterOne() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let scheduled = try client.request("GET", "/timer").pdkReport()
            #expect(scheduled["scheduled"] as? Bool == true)
            let report = try await eventually { () -> [String: Any]? in
                let report = try client.request("GET", "/timer?read=1").pdkReport()
                return report["fired"] as? Bool == true ? report : nil
            }
            #expect(report?["args"] as? String == "one+two")
            let requestCall = report?["request_call"] as? String ?? ""
            #expect(requestCall.hasPrefix("false|") && requestCall.contains("gate.request.get_method cannot be called in a timer callback"))
        }
    }
}

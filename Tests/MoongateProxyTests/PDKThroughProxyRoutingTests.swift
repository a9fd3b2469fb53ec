import Foundation
import HTTPTestSupport
import Testing

/// `gate.router`, `gate.service` routing decisions and `gate.balancer` on real
/// sockets. The upstream `second` reaches the same test origin as `origin` but sends
/// `Host: second.internal`, so the origin's echo shows which upstream was used; `dead`
/// and `pair` contain a target nothing listens on, so a request only succeeds when a
/// plugin steered it away.
@Suite struct PDKThroughProxyRoutingTests {
    static let config = """
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
          - name: second
            host_header: second.internal
            targets: [{ address: "ORIGIN" }]
          - name: dead
            targets: [{ address: "127.0.0.1:1" }]
          - name: pair
            targets: [{ address: "127.0.0.1:1" }, { address: "ORIGIN" }]
        plugins:
          - name: early
        routes:
          - name: routed
            match: { hosts: ["example.test"], paths: ["/routed"] }
            upstream: origin
            plugins: [{ name: route-report }]
          - { name: switch, match: { paths: ["/switch"] }, upstream: origin, plugins: [{ name: switch-upstream }] }
          - { name: late-switch, match: { paths: ["/late-switch"] }, upstream: origin, plugins: [{ name: late-switch }] }
          - name: target
            match: { paths: ["/target"] }
            upstream: dead
            plugins: [{ name: pin-target, config: { origin: "ORIGIN" } }]
          - { name: delay, match: { paths: ["/delay"] }, upstream: origin, plugins: [{ name: hurry }] }
          - name: balance
            match: { paths: ["/balance"] }
            upstream: pair
            plugins: [{ name: pick-target, config: { origin: "ORIGIN" } }]
          - { name: pair-retried, match: { paths: ["/pair"] }, upstream: pair }
          - { name: pair-once, match: { paths: ["/once"] }, upstream: pair, plugins: [{ name: no-retries }] }
        """

    static let scripts = [
        "no-retries.lua": #"""
        return { priority = 1000, access = function(conf) gate.service.set_retries(0) end }
        """#,
        // Global: the only instance whose rewrite runs, before routing.
        "early.lua": #"""
        return {
          priority = 5000,
          rewrite = function(conf)
            gate.ctx.shared.rewrite_route = tostring(gate.router.get_route())
            gate.ctx.shared.rewrite_upstream = tostring(gate.router.get_upstream())
            gate.ctx.shared.rewrite_body = gate.request.get_body()
            if gate.request.get_header("X-Early-Switch") then assert(gate.service.set_upstream("second")) end
          end,
        }
        """#,
        "route-report.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            local route = gate.router.get_route()
            return gate.response.exit(200, {
              name = route.name, upstream = route.upstream, hosts = route.hosts, paths = route.paths,
              current_upstream = gate.router.get_upstream(),
              rewrite_route = gate.ctx.shared.rewrite_route,
              rewrite_upstream = gate.ctx.shared.rewrite_upstream,
              rewrite_body = gate.ctx.shared.rewrite_body,
            })
          end,
        }
        """#,
        "switch-upstream.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            local before = gate.router.get_upstream()
            local unknown, unknown_error = gate.service.set_upstream("no-such-upstream")
            local switched = gate.service.set_upstream("second")
            local set = gate.service.request.set_header
            set("X-Before", before)
            set("X-After", gate.router.get_upstream())
            set("X-Route-Upstream", gate.router.get_route().upstream)
            set("X-Unknown", tostring(unknown) .. "|" .. tostring(unknown_error))
            set("X-Switched", tostring(switched))
          end,
        }
        """#,
        // SPEC §3: set_upstream may be called in balancer too.
        "late-switch.lua": #"""
        return {
          priority = 1000,
          balancer = function(conf) assert(gate.service.set_upstream("second")) end,
        }
        """#,
        "pin-target.lua": #"""
        return {
          priority = 1000,
          schema = { fields = { origin = { type = "string", required = true } } },
          access = function(conf)
            local host, port = conf.origin:match("^(.+):(%d+)$")
            gate.service.set_target(host, tonumber(port))
            gate.service.set_retries(0)
            local ok, err = pcall(gate.service.set_retries, -1)
            gate.service.request.set_header("X-Negative-Retries", tostring(ok) .. "|" .. tostring(err))
          end,
        }
        """#,
        // The read timeout comes from the query, so one route shows both outcomes.
        "hurry.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            gate.service.set_timeouts(5000, 5000, tonumber(gate.request.get_query_arg("read_ms")))
          end,
        }
        """#,
        "pick-target.lua": #"""
        return {
          priority = 1000,
          schema = { fields = { origin = { type = "string", required = true } } },
          balancer = function(conf)
            local described = {}
            for index, target in ipairs(gate.balancer.get_targets()) do
              described[index] = table.concat({ target.address, target.weight, tostring(target.healthy),
                target.active, type(target.latency_ms) }, "/")
            end
            gate.service.request.set_header("X-Targets", table.concat(described, ","))
            local unknown, unknown_error = gate.balancer.set_target("10.9.9.9:1")
            gate.service.request.set_header("X-Unknown-Target", tostring(unknown) .. "|" .. tostring(unknown_error))
            assert(gate.balancer.set_target(conf.origin))
          end,
        }
        """#,
    ]

    @Test func routerReportsTheRouteAfterRoutingOnly() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("POST", "/routed/x", body: Array("early body".utf8))
            #expect(response.status == 200)
            let report = try response.pdkReport()
            #expect(report["name"] as? String == "routed")
            #expect(report["upstream"] as? String == "origin")
            #expect(report["current_upstream"] as? String == "origin")
            #expect(report["hosts"] as? [String] == ["example.test"])
            #expect(report["paths"] as? [String] == ["/routed"])
            #expect(report["rewrite_route"] as? String == "nil")
            #expect(report["rewrite_upstream"] as? String == "nil")
            #expect(report["rewrite_body"] as? String == "early body")
        }
    }

    @Test func setUpstreamInRewriteRoutesToAnotherUpstream() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/routed", headers: ["X-Early-Switch": "1"])
            let report = try response.pdkReport()
            #expect(report["upstream"] as? String == "second")
            #expect(report["current_upstream"] as? String == "second")
        }
    }

    @Test func setUpstreamInAccessSendsTheRequestThere() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/switch")
            #expect(response.status == 200)
            #expect(response.originHeader("host") == ["second.internal"])
            #expect(response.originHeader("x-before") == ["origin"])
            #expect(response.originHeader("x-after") == ["second"])
            #expect(response.originHeader("x-route-upstream") == ["second"])
            #expect(response.originHeader("x-unknown") == ["nil|unknown upstream 'no-such-upstream'"])
            #expect(response.originHeader("x-switched") == ["true"])
        }
    }

    /// The upstream (and so the balancer's targets) is settled when the balancer phase
    /// runs: there, set_upstream is refused like any call outside its phases (the
    /// balancer phase picks a target with gate.balancer.set_target instead).
    @Test func setUpstreamInBalancerIsRefused() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/late-switch")
            #expect(response.status == 500)
            #expect(gateway.services.errors.snapshot.contains { $0.key.phase == "balancer" && $0.key.kind == "runtime" })
        }
    }

    @Test func setTargetBypassesTheBalancedTargets() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/target")
            #expect(response.status == 200)
            #expect(response.originHeader("host") == ["127.0.0.1:\(gateway.origin.port)"])
            let refusal = response.originHeader("x-negative-retries").first ?? ""
            #expect(refusal.hasPrefix("false|"))
            #expect(refusal.contains("gate.service.set_retries"))
        }
    }

    @Test func setTimeoutsShortensTheReadTimeout() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let timedOut = try client.request("GET", "/delay/3000?read_ms=200")
            #expect(timedOut.status == 504)
            let patient = try gateway.client().request("GET", "/delay/10?read_ms=20000")
            #expect(patient.status == 200)
            #expect(patient.text == "delayed 10\n")
        }
    }

    @Test func balancerListsTargetsAndPicksOne() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            // Round robin alone would send every other request to the dead target.
            for _ in 0..<4 {
                let response = try client.request("GET", "/balance")
                #expect(response.status == 200)
                #expect(
                    response.originHeader("x-targets") == ["127.0.0.1:1/100/true/0/number,127.0.0.1:\(gateway.origin.port)/100/true/0/number"])
                #expect(response.originHeader("x-unknown-target") == ["nil|'10.9.9.9:1' is not a target of this upstream"])
            }
        }
    }

    @Test func setRetriesReplacesTheUpstreamsAttempts() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            // `pair` = a dead target + the origin, round-robin, one retry on connect
            // failure: every request gets through, unless a plugin sets 0 retries.
            let client = try gateway.client()
            for _ in 0..<6 { #expect(try client.request("GET", "/pair").status == 200) }
            var statuses: [Int] = []
            for _ in 0..<6 { statuses.append(try gateway.client().request("GET", "/once").status) }
            #expect(statuses.filter { $0 == 502 }.count == 3)
            #expect(statuses.filter { $0 == 200 }.count == 3)
        }
    }
}

import Foundation
import HTTPTestSupport
import Testing

/// SPEC §3 Safety on real sockets: a runaway loop, a memory bomb and a runtime error,
/// each on its own route, fail only their own requests, while other requests served
/// by the same event loop (the same Lua VM) keep being answered; and hooks that wait
/// do not block their loop.
@Suite struct PluginIsolationTests {
    static let config = """
        scripts:
          limits: { hook_timeout: 3s, slice: 2ms, memory: 16m }
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        routes:
          - { name: runaway, match: { paths: ["/runaway"] }, upstream: origin, plugins: [{ name: runaway }] }
          - { name: bomb, match: { paths: ["/bomb"] }, upstream: origin, plugins: [{ name: bomb }] }
          - { name: broken, match: { paths: ["/broken"] }, upstream: origin, plugins: [{ name: broken }] }
          - { name: sleepy, match: { paths: ["/sleepy"] }, upstream: origin, plugins: [{ name: sleepy }] }
          - { name: light, match: { paths: ["/ok"] }, upstream: origin, plugins: [{ name: light }] }
        """

    static let scripts = [
        "runaway.lua": """
        return { priority = 1, access = function(conf) local n = 0 while true do n = n + 1 end end }
        """,
        "bomb.lua": """
        return { priority = 1, access = function(conf)
          local hoard = {}
          for i = 1, 1e9 do hoard[i] = string.rep("x", 4096) .. i end
        end }
        """,
        "broken.lua": """
        return { priority = 1, access = function(conf) local missing = nil; return missing.field end }
        """,
        "sleepy.lua": """
        return { priority = 1, access = function(conf) gate.sleep(0.2) end }
        """,
        "light.lua": """
        return { priority = 1, access = function(conf) gate.service.request.set_header("X-Light", "yes") end }
        """,
    ]

    @Test func runawayBombAndErrorFailAloneWhileTheLoopKeepsServing() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts, loops: 1) { gateway in
            // The three bad requests go out first, on their own connections.
            let bad = try ["/runaway", "/bomb", "/broken"].map { path in
                let client = try gateway.client()
                try client.send("GET \(path) HTTP/1.1\r\nHost: example.test\r\n\r\n")
                return client
            }
            // The runaway holds its hook for up to hook_timeout (3 s), slice by slice;
            // meanwhile the same VM answers the light route.
            let light = try gateway.client()
            for _ in 0..<10 {
                let response = try light.request("GET", "/ok")
                #expect(response.status == 200)
                #expect(response.text.contains("h:x-light=yes"))
            }
            // Ordering, not timing: the runaway is still running after the ten answers.
            #expect(gateway.services.errors.count(plugin: "runaway") == 0)

            let statuses = try bad.map { try $0.readResponse() }
            for response in statuses {
                #expect(response.status == 500)
                #expect(response.text == #"{"message":"An unexpected error occurred"}"#)
            }
            let errors = gateway.services.errors.snapshot
            #expect(errors.contains { $0.key.plugin == "runaway" && $0.key.kind == "timeout" })
            #expect(errors.contains { $0.key.plugin == "bomb" && $0.key.kind == "memory" })
            #expect(errors.contains { $0.key.plugin == "broken" && $0.key.kind == "runtime" })
            // The VM is healthy afterwards.
            #expect(try light.request("GET", "/ok").status == 200)
        }
    }

    @Test func fiftySleepingHooksShareOneLoop() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts, loops: 1) { gateway in
            let clients = try (0..<50).map { _ in try gateway.client() }
            let started = Date()
            for client in clients { try client.send("GET /sleepy HTTP/1.1\r\nHost: example.test\r\n\r\n") }
            for client in clients { #expect(try client.readResponse().status == 200) }
            // Serially the 50 sleeps would take 10 s; waiting hooks yield, so they overlap
            // (about 0.2 s). The bound is loose on purpose: it only separates the two.
            #expect(Date().timeIntervalSince(started) < 5)
        }
    }
}

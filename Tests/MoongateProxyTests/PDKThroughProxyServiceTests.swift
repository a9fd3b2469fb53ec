import Foundation
import HTTPTestSupport
import Testing

/// `gate.service.request` and `gate.service.response` on real sockets: the test
/// origin echoes the request it received, so every setter is checked against what
/// actually went upstream; the upstream's own response is read in header_filter.
@Suite struct PDKThroughProxyServiceTests {
    static let config = """
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        routes:
          - { name: edit, match: { paths: ["/edit"] }, upstream: origin, plugins: [{ name: upstream-editor }] }
          - { name: view, match: { paths: ["/view"] }, upstream: origin, plugins: [{ name: upstream-view }] }
        """

    static let scripts = [
        // What it changes depends on the X-Mode header, one request per mode.
        "upstream-editor.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            local mode = gate.request.get_header("X-Mode")
            if mode == "all" then
              gate.service.request.set_method("put")
              gate.service.request.set_path("/rewritten/path")
              gate.service.request.set_raw_query("a=1&b=two")
              gate.service.request.set_header("X-Set", "new")
              gate.service.request.add_header("X-Add", "second")
              gate.service.request.clear_header("X-Remove")
              gate.service.request.set_headers({ ["X-Multi-A"] = "1", ["X-Multi-B"] = { "2", "3" } })
              gate.service.request.set_body("replaced body")
              -- gate.request still reads the request as the client sent it.
              gate.service.request.set_header("X-Original",
                gate.request.get_method() .. " " .. gate.request.get_path() .. "?" .. gate.request.get_raw_query()
                .. " " .. gate.request.get_header("X-Set") .. " " .. gate.request.get_body())
            elseif mode == "query" then
              gate.service.request.set_query({ page = "1", tag = { "a b", "c" }, flag = true, off = false })
            elseif mode == "no-query" then
              gate.service.request.set_raw_query("")
            elseif mode == "empty-body" then
              gate.service.request.set_body("")
            elseif mode == "framing" then
              -- Framing is the gateway's: these must not reach the upstream.
              gate.service.request.set_header("Content-Length", "999")
              gate.service.request.set_header("Transfer-Encoding", "chunked")
              gate.service.request.set_header("Expect", "100-continue")
            end
          end,
        }
        """#,
        "upstream-view.lua": #"""
        return {
          priority = 1000,
          header_filter = function(conf)
            local upstream_headers = gate.service.response.get_headers()
            gate.response.set_header("X-Upstream-Status", gate.service.response.get_status())
            gate.response.set_header("X-Upstream-Origin", gate.service.response.get_header("X-ORIGIN"))
            gate.response.set_header("X-Upstream-Length", upstream_headers["content-length"])
            -- As received: the upstream's hop-by-hop header is there, the client's copy has none.
            gate.response.set_header("X-Upstream-Private", upstream_headers["x-origin-private"])
            gate.response.set_header("X-Client-Private", tostring(gate.response.get_header("x-origin-private")))
            gate.response.set_status(201)
            gate.response.set_header("X-Statuses", gate.service.response.get_status() .. "/" .. gate.response.get_status())
          end,
        }
        """#,
    ]

    @Test func everyRequestSetterReachesTheUpstream() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().exchange(
                "POST /edit?keep=no HTTP/1.1\r\nHost: example.test\r\nX-Mode: all\r\nX-Set: old\r\nX-Add: first\r\n"
                    + "X-Remove: gone\r\nX-Multi-A: old\r\nContent-Length: 8\r\n\r\noriginal")
            #expect(response.status == 200)
            #expect(response.originLine("method") == "PUT")
            #expect(response.originLine("uri") == "/rewritten/path?a=1&b=two")
            #expect(response.originHeader("x-set") == ["new"])
            #expect(response.originHeader("x-add") == ["first", "second"])
            #expect(response.originHeader("x-remove").isEmpty)
            #expect(response.originHeader("x-multi-a") == ["1"])
            #expect(response.originHeader("x-multi-b") == ["2", "3"])
            #expect(response.originLine("body-bytes") == "13")
            #expect(response.originHeader("content-length") == ["13"])
            #expect(response.originHeader("x-original") == ["POST /edit?keep=no old original"])
        }
    }

    @Test func setBodyReplacesAChunkedBody() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let response = try client.exchange(
                "POST /edit HTTP/1.1\r\nHost: example.test\r\nX-Mode: all\r\nX-Set: old\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "4\r\nchun\r\n3\r\nked\r\n0\r\n\r\n")
            #expect(response.status == 200)
            #expect(response.originLine("body-bytes") == "13")
            #expect(response.originHeader("content-length") == ["13"])
            #expect(response.originHeader("transfer-encoding").isEmpty)
            #expect(response.originHeader("x-original") == ["POST /edit? old chunked"])
            // The client's dropped body does not spill into the next request.
            let next = try client.request("GET", "/edit")
            #expect(next.status == 200)
            #expect(next.originLine("method") == "GET")
        }
    }

    @Test func setBodyToEmptySendsNoBody() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request(
                "POST", "/edit", headers: ["X-Mode": "empty-body"], body: Array("dropped".utf8))
            #expect(response.status == 200)
            #expect(response.originLine("body-bytes") == "0")
            #expect(response.originHeader("content-length") == ["0"])
        }
    }

    @Test func framingHeadersSetByAPluginDoNotReachTheUpstream() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let response = try client.request("POST", "/edit", headers: ["X-Mode": "framing"], body: Array("hello".utf8))
            #expect(response.status == 200)
            #expect(response.originLine("body-bytes") == "5")
            #expect(response.originHeader("content-length") == ["5"])
            #expect(response.originHeader("transfer-encoding").isEmpty)
            #expect(response.originHeader("expect").isEmpty)
            // The connection is still in step for the next request.
            #expect(try client.request("GET", "/edit").status == 200)
        }
    }

    @Test func setQueryEncodesATable() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/edit?old=1", headers: ["X-Mode": "query"])
            #expect(response.status == 200)
            #expect(response.originLine("uri") == "/edit?flag&page=1&tag=a%20b&tag=c")
        }
    }

    @Test func setRawQueryToEmptyDropsTheQuery() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/edit/x?old=1", headers: ["X-Mode": "no-query"])
            #expect(response.status == 200)
            #expect(response.originLine("uri") == "/edit/x")
        }
    }

    @Test func serviceResponseIsTheUpstreamsAnswer() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/view")
            #expect(response.status == 201)
            #expect(response.header("x-upstream-status") == "200")
            #expect(response.header("x-upstream-origin") == "test")
            #expect(response.header("x-upstream-length") == String(response.body.count))
            #expect(response.header("x-upstream-private") == "hop-by-hop")
            #expect(response.header("x-client-private") == "nil")
            #expect(response.header("x-statuses") == "200/201")
            #expect(response.originLine("method") == "GET")
        }
    }
}

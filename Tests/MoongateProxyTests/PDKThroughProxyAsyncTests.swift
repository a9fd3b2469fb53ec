import Foundation
import HTTPTestSupport
import Testing

/// The waiting functions on real sockets: `gate.http.request` calls the test origin
/// from access and from log, and `gate.sleep` parks a hook; neither blocks the loop
/// that also serves the request.
@Suite struct PDKThroughProxyAsyncTests {
    static let config = """
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        routes:
          - name: call
            match: { paths: ["/call"] }
            upstream: origin
            plugins: [{ name: caller, config: { url: "http://ORIGIN/echo" } }]
          - { name: sleep, match: { paths: ["/sleep"] }, upstream: origin, plugins: [{ name: sleeper }] }
        """

    static let scripts = [
        "caller.lua": #"""
        return {
          priority = 1000,
          schema = { fields = { url = { type = "string", required = true } } },
          access = function(conf)
            if gate.request.get_query_arg("read_log") then
              local dict = gate.shared.dict("log-calls")
              return gate.response.exit(200, { status = dict:get("status"), body = dict:get("body") })
            end
            local res, err = gate.http.request({
              method = "POST", url = conf.url .. "?from=access", headers = { ["X-Probe"] = "yes" },
              body = "ping", timeout = 10,
            })
            local refused, refused_error = gate.http.request({ url = "http://127.0.0.1:1/", timeout = 5 })
            local tls, tls_error = gate.http.request({ url = "https://127.0.0.1/" })
            return gate.response.exit(200, {
              status = res and res.status, body = res and res.body, origin = res and res.headers["x-origin"],
              err = err, refused = refused == nil, refused_error = refused_error, tls = tls == nil, tls_error = tls_error,
            })
          end,
          log = function(conf)
            if gate.request.get_query_arg("read_log") then return end
            local res = gate.http.request({ url = conf.url .. "?from=log", timeout = 10 })
            local dict = gate.shared.dict("log-calls")
            dict:set("body", res and res.body or "no response")
            dict:set("status", res and res.status or 0)
          end,
        }
        """#,
        "sleeper.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            local before = gate.now()
            gate.sleep(0.05)
            gate.service.request.set_header("X-Slept", tostring(gate.now() - before >= 0.04))
            local ok, message = pcall(gate.sleep, -1)
            gate.service.request.set_header("X-Negative-Sleep", tostring(ok) .. "|" .. tostring(message))
          end,
        }
        """#,
    ]

    @Test func httpRequestReachesTheOriginFromAccess() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let report = try gateway.client().request("GET", "/call").pdkReport()
            #expect(report["status"] as? Int == 200)
            #expect(report["origin"] as? String == "test")
            let body = report["body"] as? String ?? ""
            #expect(body.contains("method=POST\n"))
            #expect(body.contains("uri=/echo?from=access\n"))
            #expect(body.contains("h:x-probe=yes\n"))
            #expect(body.contains("body-bytes=4\n"))
            #expect(report["err"] == nil)
            #expect(report["refused"] as? Bool == true)
            #expect((report["refused_error"] as? String)?.isEmpty == false)
            #expect(report["tls"] as? Bool == true)
            #expect((report["tls_error"] as? String)?.contains("https is not supported") == true)
        }
    }

    @Test func httpRequestWorksInTheLogPhase() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            #expect(try client.request("GET", "/call").status == 200)
            let report = try await eventually { () -> [String: Any]? in
                let report = try client.request("GET", "/call?read_log=1").pdkReport()
                return report["status"] == nil ? nil : report
            }
            #expect(report?["status"] as? Int == 200)
            #expect((report?["body"] as? String)?.contains("uri=/echo?from=log\n") == true)
        }
    }

    @Test func sleepParksTheHook() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/sleep")
            #expect(response.status == 200)
            #expect(response.originHeader("x-slept") == ["true"])
            let negative = response.originHeader("x-negative-sleep").first ?? ""
            #expect(negative.hasPrefix("false|") && negative.contains("gate.sleep"))
        }
    }
}

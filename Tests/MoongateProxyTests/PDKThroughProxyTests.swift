import Foundation
import HTTPTestSupport
import Testing

/// `gate.request` on real sockets: a plugin reads the request with every getter and
/// answers with what it saw, so each value is checked against the bytes the client
/// actually sent (SPEC §3: the request as the client sent it).
@Suite struct PDKThroughProxyTests {
    static let config = """
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        routes:
          - name: report
            match: { paths: ["/report"] }
            upstream: origin
            plugins: [{ name: request-report }]
        """

    static let scripts = [
        "request-report.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            return gate.response.exit(200, {
              method = gate.request.get_method(),
              scheme = gate.request.get_scheme(),
              host = gate.request.get_host(),
              port = gate.request.get_port(),
              path = gate.request.get_path(),
              raw_query = gate.request.get_raw_query(),
              query = gate.request.get_query(),
              tag = gate.request.get_query_arg("tag"),
              flag = gate.request.get_query_arg("flag"),
              name = gate.request.get_query_arg("name"),
              missing_arg = gate.request.get_query_arg("missing") == nil,
              multi = gate.request.get_header("X-MULTI"),
              custom = gate.request.get_header("x_custom_key"),
              missing_header = gate.request.get_header("x-none") == nil,
              multi_count = gate.request.get_header_count("x-multi"),
              custom_count = gate.request.get_header_count("X_CUSTOM_KEY"),
              missing_count = gate.request.get_header_count("x-none"),
              headers = gate.request.get_headers(),
              body = gate.request.get_body(),
              version = gate.request.get_http_version(),
            })
          end,
        }
        """#
    ]

    @Test func gettersSeeTheRequestAsTheClientSentIt() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().exchange(
                "GET /report/./a//b?tag=a&tag=b%20c&flag&name=x+y HTTP/1.1\r\nHost: Example.TEST:8080\r\n"
                    + "X-Multi: one\r\nX-Multi: two\r\nX-Custom-Key: k\r\n\r\n")
            #expect(response.status == 200)
            let report = try response.pdkReport()
            #expect(report["method"] as? String == "GET")
            #expect(report["scheme"] as? String == "http")
            #expect(report["host"] as? String == "example.test")
            #expect(report["port"] as? Int == gateway.port)
            #expect(report["path"] as? String == "/report/a/b")
            #expect(report["raw_query"] as? String == "tag=a&tag=b%20c&flag&name=x+y")
            let query = report["query"] as? [String: Any]
            #expect(query?["tag"] as? [String] == ["a", "b c"])
            #expect(query?["flag"] as? Bool == true)
            #expect(query?["name"] as? String == "x y")
            #expect(report["tag"] as? String == "a")
            #expect(report["flag"] as? Bool == true)
            #expect(report["name"] as? String == "x y")
            #expect(report["missing_arg"] as? Bool == true)
            #expect(report["multi"] as? String == "one")
            #expect(report["custom"] as? String == "k")
            #expect(report["missing_header"] as? Bool == true)
            #expect(report["multi_count"] as? Int == 2)
            #expect(report["custom_count"] as? Int == 1)
            #expect(report["missing_count"] as? Int == 0)
            let headers = report["headers"] as? [String: Any]
            #expect(headers?["x-multi"] as? [String] == ["one", "two"])
            #expect(headers?["x-custom-key"] as? String == "k")
            #expect(headers?["host"] as? String == "Example.TEST:8080")
            #expect(report["body"] as? String == "")
            #expect(report["version"] as? Double == 1.1)
        }
    }

    @Test func anHTTP10RequestWithoutQuery() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().exchange("GET /report HTTP/1.0\r\nHost: example.test\r\n\r\n")
            #expect(response.status == 200)
            let report = try response.pdkReport()
            #expect(report["version"] as? Double == 1.0)
            #expect(report["raw_query"] as? String == "")
            #expect((report["query"] as? [String: Any])?.isEmpty == true)
            #expect(report["missing_arg"] as? Bool == true)
        }
    }

    @Test func getBodyReadsAPostedBody() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("POST", "/report", body: Array("hello body".utf8))
            #expect(response.status == 200)
            let report = try response.pdkReport()
            #expect(report["method"] as? String == "POST")
            #expect(report["body"] as? String == "hello body")
        }
    }

    @Test func getBodyReadsAChunkedBody() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().exchange(
                "POST /report HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n6\r\n chunk\r\n0\r\n\r\n")
            #expect(response.status == 200)
            #expect(try response.pdkReport()["body"] as? String == "hello chunk")
        }
    }

    /// The hook asks for the body before it has arrived: its coroutine waits for the
    /// rest, which the client sends only after a pause.
    @Test func getBodyWaitsForABodyStillArriving() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            try client.send("POST /report HTTP/1.1\r\nHost: example.test\r\nContent-Length: 11\r\n\r\nfirst")
            try await Task.sleep(for: .milliseconds(300))
            try client.send(" later")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(try response.pdkReport()["body"] as? String == "first later")
        }
    }
}

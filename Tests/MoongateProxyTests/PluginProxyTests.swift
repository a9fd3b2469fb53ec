import Foundation
import HTTPTestSupport
import Testing

/// Plugins on real sockets: the proxy runs the phases around a real upstream.
@Suite struct PluginProxyTests {
    static let keyAuthConfig = """
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        consumers:
          - { username: alice, groups: [gold], credentials: { key-auth: [{ key: alice-key }] } }
        routes:
          - name: api
            match: { paths: ["/"] }
            upstream: origin
            plugins:
              - name: key-auth
                config: { hide_credentials: true }
        """

    @Test func bundledKeyAuthGuardsARoute() async throws {
        try await PluginGateway.with(yaml: Self.keyAuthConfig) { gateway in
            let client = try gateway.client()
            let missing = try client.request("GET", "/echo")
            #expect(missing.status == 401)
            #expect(missing.text.contains("No API key found"))
            let wrong = try client.request("GET", "/echo", headers: ["apikey": "nope"])
            #expect(wrong.status == 401)
            let ok = try client.request("GET", "/echo", headers: ["apikey": "alice-key"])
            #expect(ok.status == 200)
            #expect(ok.text.contains("h:x-consumer-username=alice"))
            #expect(!ok.text.contains("h:apikey="))
        }
    }
}

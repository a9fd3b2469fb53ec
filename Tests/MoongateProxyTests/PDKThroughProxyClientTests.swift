import Foundation
import HTTPTestSupport
import Testing

/// `gate.client` and `gate.consumers` on real sockets: who the peer is, who the client
/// is behind a trusted proxy, and a consumer set by one plugin, seen by another and
/// by the upstream (SPEC §3, as Kong does).
@Suite struct PDKThroughProxyClientTests {
    static func config(trusted: Bool) -> String {
        """
        \(trusted ? "proxy: { trusted_proxies: [\"127.0.0.1/32\"] }" : "")
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        consumers:
          - username: alice
            groups: [gold, beta]
            credentials:
              key-auth: [{ key: alice-key }]
              basic-auth: [{ username: alice, password_sha256: "0123abcd" }]
          - username: bob
            credentials:
              key-auth: [{ key: bob-key }]
        routes:
          - { name: client, match: { paths: ["/client"] }, upstream: origin, plugins: [{ name: client-report }] }
          - name: whoami
            match: { paths: ["/whoami"] }
            upstream: origin
            plugins: [{ name: login }, { name: whoami }]
        """
    }

    static let scripts = [
        "client-report.lua": #"""
        return {
          priority = 1000,
          access = function(conf)
            local alice, alice_credential = gate.consumers.find("basic-auth", "alice")
            local nobody = gate.consumers.find("key-auth", "no-such-key")
            return gate.response.exit(200, {
              ip = gate.client.get_ip(),
              forwarded_ip = gate.client.get_forwarded_ip(),
              port = gate.client.get_port(),
              basic_user = alice and alice.username,
              basic_hash = alice_credential and alice_credential.password_sha256,
              unknown_is_nil = nobody == nil,
            })
          end,
        }
        """#,
        // Authenticates by API key, as key-auth does, before `whoami` runs.
        "login.lua": #"""
        return {
          priority = 1200,
          access = function(conf)
            local key = gate.request.get_header("apikey")
            if not key then return end
            local consumer, credential = gate.consumers.find("key-auth", key)
            if consumer then gate.client.authenticate(consumer, credential) end
          end,
        }
        """#,
        "whoami.lua": #"""
        local function describe()
          local consumer, credential = gate.client.get_consumer(), gate.client.get_credential()
          return (consumer and consumer.username or "none") .. "/" .. (credential and credential.key or "none")
            .. "/" .. (consumer and table.concat(consumer.groups, "+") or "none")
        end
        return {
          priority = 900,
          access = function(conf) gate.service.request.set_header("X-Seen-In-Access", describe()) end,
          header_filter = function(conf) gate.response.set_header("X-Seen-In-Header-Filter", describe()) end,
        }
        """#,
    ]

    @Test func peerAddressAndPort() async throws {
        try await PluginGateway.with(yaml: Self.config(trusted: false), scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let first = try client.request("GET", "/client", headers: ["X-Forwarded-For": "203.0.113.9"]).pdkReport()
            let again = try client.request("GET", "/client").pdkReport()
            let other = try gateway.client().request("GET", "/client").pdkReport()
            #expect(first["ip"] as? String == "127.0.0.1")
            // The peer is not a trusted proxy: its X-Forwarded-For is not believed.
            #expect(first["forwarded_ip"] as? String == "127.0.0.1")
            let port = first["port"] as? Int
            #expect(port.map { (1...65535).contains($0) && $0 != gateway.port } == true)
            // The client's own port: the same on one connection, another on a new one.
            #expect(again["port"] as? Int == port)
            #expect(other["port"] as? Int != port)
        }
    }

    @Test func forwardedIPBehindATrustedProxy() async throws {
        try await PluginGateway.with(yaml: Self.config(trusted: true), scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let direct = try client.request("GET", "/client").pdkReport()
            #expect(direct["forwarded_ip"] as? String == "127.0.0.1")
            let forwarded = try client.request("GET", "/client", headers: ["X-Forwarded-For": "198.51.100.7, 203.0.113.9"]).pdkReport()
            #expect(forwarded["ip"] as? String == "127.0.0.1")
            // The nearest untrusted hop, not the farthest (which the client could forge).
            #expect(forwarded["forwarded_ip"] as? String == "203.0.113.9")
            let throughTrusted = try client.request("GET", "/client", headers: ["X-Forwarded-For": "203.0.113.9, 127.0.0.1"]).pdkReport()
            #expect(throughTrusted["forwarded_ip"] as? String == "203.0.113.9")
        }
    }

    @Test func consumersFindByKeyOrUsername() async throws {
        try await PluginGateway.with(yaml: Self.config(trusted: false), scripts: Self.scripts) { gateway in
            let report = try gateway.client().request("GET", "/client").pdkReport()
            #expect(report["basic_user"] as? String == "alice")
            #expect(report["basic_hash"] as? String == "0123abcd")
            #expect(report["unknown_is_nil"] as? Bool == true)
        }
    }

    @Test func authenticateSetsTheConsumerForLaterPluginsAndTheUpstream() async throws {
        try await PluginGateway.with(yaml: Self.config(trusted: false), scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let alice = try client.request("GET", "/whoami", headers: ["apikey": "alice-key"])
            #expect(alice.status == 200)
            #expect(alice.originHeader("x-consumer-username") == ["alice"])
            #expect(alice.originHeader("x-consumer-groups") == ["gold, beta"])
            #expect(alice.originHeader("x-seen-in-access") == ["alice/alice-key/gold+beta"])
            #expect(alice.header("x-seen-in-header-filter") == "alice/alice-key/gold+beta")

            let bob = try client.request("GET", "/whoami", headers: ["apikey": "bob-key"])
            #expect(bob.originHeader("x-consumer-username") == ["bob"])
            #expect(bob.originHeader("x-consumer-groups").isEmpty)
            #expect(bob.originHeader("x-seen-in-access") == ["bob/bob-key/"])

            // A client cannot pose as a consumer.
            let forged = try client.request(
                "GET", "/whoami", headers: ["X-Consumer-Username": "mallory", "X-Consumer-Groups": "admin"])
            #expect(forged.status == 200)
            #expect(forged.originHeader("x-consumer-username").isEmpty)
            #expect(forged.originHeader("x-consumer-groups").isEmpty)
            #expect(forged.originHeader("x-seen-in-access") == ["none/none/none"])
            #expect(forged.header("x-seen-in-header-filter") == "none/none/none")
        }
    }
}

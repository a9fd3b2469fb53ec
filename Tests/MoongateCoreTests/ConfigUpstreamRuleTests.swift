import Testing

@testable import MoongateCore

/// Each validation rule of `upstreams[]`: the message names the field path and line.
@Suite("Config: upstream rules")
struct ConfigUpstreamRuleTests {
    /// `upstreams:` on line 1, so the upstream under test starts on line 2.
    static func upstream(_ text: String) -> String { "upstreams:\n" + text }

    static let cases: [ConfigRuleCase] = [
        ConfigRuleCase(
            rule: "a target address has a port",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1" }]
                """),
            path: "upstreams[0].targets[0].address", line: 3,
            message: "expected 'host:port', found '127.0.0.1' (the port is missing)",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "a target port is 1-65535",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:70000" }]
                """),
            path: "upstreams[0].targets[0].address", line: 3, message: "port must be a number from 1 to 65535, found '70000'",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "an IPv6 target is bracketed",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "::1:9001" }]
                """),
            path: "upstreams[0].targets[0].address", line: 3, message: "IPv6 addresses need brackets: expected '[::1]:9001'",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "a target host is a host name",
            yaml: upstream(
                """
                  - name: orders
                    targets:
                      - { address: "orders..internal:80" }
                """),
            path: "upstreams[0].targets[0].address", line: 4, message: "has an empty label", object: "upstream orders"),
        ConfigRuleCase(
            rule: "target weights are 0 (drained) to 65535",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001", weight: 70000 }]
                """),
            path: "upstreams[0].targets[0].weight", line: 3, message: "expected an integer from 0 to 65535, found 70000",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "a target is listed once",
            yaml: upstream(
                """
                  - name: orders
                    targets:
                      - { address: "127.0.0.1:9001" }
                      - { address: "127.0.0.1:9001", weight: 5 }
                """),
            path: "upstreams[0].targets[1]", line: 5, message: "'127.0.0.1:9001' is listed twice", object: "upstream orders"),
        ConfigRuleCase(
            rule: "an upstream has targets or discovery",
            yaml: upstream(
                """
                  - name: orders
                    host_header: orders.internal
                """),
            path: "upstreams[0].targets", line: 2, message: "an upstream needs targets, discovery (registry or srv), or both",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "algorithm is one of five",
            yaml: upstream(
                """
                  - name: orders
                    algorithm: round-robbin
                    targets: [{ address: "127.0.0.1:9001" }]
                """),
            path: "upstreams[0].algorithm", line: 3,
            message:
                "expected one of 'round-robin', 'least-connections', 'consistent-hash', 'peak-ewma', 'random', found 'round-robbin'",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "hash_on names a source",
            yaml: upstream(
                """
                  - name: orders
                    algorithm: consistent-hash
                    hash_on: "header:"
                    targets: [{ address: "127.0.0.1:9001" }]
                """),
            path: "upstreams[0].hash_on", line: 4, message: "'' after 'header:' is not a valid name", object: "upstream orders"),
        ConfigRuleCase(
            rule: "durations have a unit",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    timeouts: { connect: 2 }
                """),
            path: "upstreams[0].timeouts.connect", line: 4, message: "found the number 2 (a duration needs a unit, e.g. '2s')",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "durations use ms, s, m or h",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    timeouts:
                      read: 2sec
                """),
            path: "upstreams[0].timeouts.read", line: 5,
            message: "expected a duration such as '250ms', '2s', '1m' or '1h', found '2sec'",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "upstream names are unique",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                  - name: orders
                    targets: [{ address: "127.0.0.1:9002" }]
                """),
            path: "upstreams[1].name", line: 4, message: "upstream name 'orders' is already used by upstreams[0] (line 2)",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "passive statuses are HTTP statuses",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    health: { passive: { statuses: [502, 700] } }
                """),
            path: "upstreams[0].health.passive.statuses[1]", line: 4, message: "expected an integer from 100 to 599, found 700",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "the active check path starts with '/'",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    health:
                      active: { path: healthz }
                """),
            path: "upstreams[0].health.active.path", line: 5, message: "health check path must start with '/', found 'healthz'",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "the active check timeout fits its interval",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    health:
                      active: { interval: 1s, timeout: 2s }
                """),
            path: "upstreams[0].health.active.timeout", line: 5,
            message: "the probe timeout '2s' must not exceed the interval '1s'",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "retry_on lists known conditions",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    retries: { attempts: 2, retry_on: [connect-failure, timout] }
                """),
            path: "upstreams[0].retries.retry_on[1]", line: 4,
            message: "expected 'connect-failure', 'reset', 'timeout' or a status from 400 to 599, found 'timout'",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "a client certificate comes with its key",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    tls: { enabled: true, client_cert: client.pem }
                """),
            path: "upstreams[0].tls.client_key", line: 4, message: "missing; client_cert needs the matching client_key",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "max_connections is positive",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    limits: { max_connections: 0 }
                """),
            path: "upstreams[0].limits.max_connections", line: 4, message: "expected an integer of at least 1, found 0",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "host_header is a host",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    host_header: "orders internal"
                """),
            path: "upstreams[0].host_header", line: 4, message: "contains ' '", object: "upstream orders"),
        ConfigRuleCase(
            rule: "discovery names a registry",
            yaml: upstream(
                """
                  - name: orders
                    discovery: { registry: "orders/v1" }
                """),
            path: "upstreams[0].discovery.registry", line: 3, message: "name 'orders/v1' may contain only",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "a TCP probe has no path or statuses",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    health: { active: { type: tcp, statuses: [200] } }
                """),
            path: "upstreams[0].health.active.statuses", line: 4, message: "apply to HTTP probes only",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "a probe type is http or tcp",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    health: { active: { type: grpc } }
                """),
            path: "upstreams[0].health.active.type", line: 4, message: "'grpc'", object: "upstream orders"),
        ConfigRuleCase(
            rule: "an SRV discovery name is a host name",
            yaml: upstream(
                """
                  - name: orders
                    discovery: { srv: "_http._tcp..orders" }
                """),
            path: "upstreams[0].discovery.srv", line: 3, message: "has an empty label", object: "upstream orders"),
        ConfigRuleCase(
            rule: "discovery names a registry or an SRV name",
            yaml: upstream(
                """
                  - name: orders
                    discovery: { }
                """),
            path: "upstreams[0].discovery", line: 3, message: "name a 'registry' service, an 'srv' DNS name, or both",
            object: "upstream orders"),
        ConfigRuleCase(
            rule: "non_idempotent is a boolean",
            yaml: upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001" }]
                    retries: { non_idempotent: "yes" }
                """),
            path: "upstreams[0].retries.non_idempotent", line: 4, message: "expected true or false", object: "upstream orders"),
        ConfigRuleCase(
            rule: "strings are not numbers",
            yaml: upstream(
                """
                  - name: 42
                    targets: [{ address: "127.0.0.1:9001" }]
                """),
            path: "upstreams[0].name", line: 2, message: "expected a string, found the number 42 (quote it to make it a string)",
            object: "upstream (unnamed)"),
    ]

    @Test("rule", arguments: cases)
    func rule(_ rule: ConfigRuleCase) throws {
        try expectRule(rule)
    }

    @Test("active probes: type, statuses and jitter; an HTTP probe passes on 2xx/3xx unless statuses are listed")
    func activeProbeSettings() throws {
        let document = try ConfigLoader.parse(
            yaml: Self.upstream(
                """
                  - name: orders
                    targets: [{ address: "127.0.0.1:9001", weight: 0 }]
                    discovery: { srv: "_HTTP._tcp.orders.internal", registry: orders }
                    health: { active: { path: /ready, statuses: [200, 204], jitter: 500ms } }
                """), file: "moongate.yaml")
        let orders = try #require(document.upstreams.first?.model)
        let active = try #require(orders.health.active)
        #expect(active.type == .http)
        #expect(active.statuses == [200, 204])
        #expect(active.jitter == .milliseconds(500))
        #expect(active.passes(status: 204) && !active.passes(status: 302))
        #expect(ActiveHealthCheckConfig().passes(status: 302) && !ActiveHealthCheckConfig().passes(status: 404))
        #expect(orders.targets[0].weight == 0)
        #expect(orders.discovery == UpstreamDiscovery(registry: "orders", srv: "_http._tcp.orders.internal"))
    }

    @Test("defaults: round-robin, weight 100, timeouts 2s/30s/30s, no TLS")
    func defaults() throws {
        let document = try ConfigLoader.parse(
            yaml: Self.upstream(
                """
                  - name: orders
                    targets: [{ address: "[::1]:9001" }, { address: "orders.internal:80", weight: 7 }]
                """), file: "moongate.yaml")
        let orders = try #require(document.upstreams.first?.model)
        #expect(orders.algorithm == .roundRobin)
        #expect(orders.hashOn == .ip)
        #expect(
            orders.targets == [
                BalancerTarget(address: "[::1]:9001", weight: 100), BalancerTarget(address: "orders.internal:80", weight: 7),
            ])
        #expect(orders.timeouts == UpstreamTimeouts(connect: .seconds(2), read: .seconds(30), write: .seconds(30)))
        #expect(orders.tls == UpstreamTLSConfig())
        #expect(orders.health == UpstreamHealthConfig())
        #expect(orders.retries == UpstreamRetryConfig())
    }
}

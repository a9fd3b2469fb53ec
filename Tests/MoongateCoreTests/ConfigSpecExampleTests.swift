import Testing

@testable import MoongateCore

/// The example document of SPEC §2, verbatim: it is the contract users copy from.
let specExampleDocument = #"""
    proxy:
      listen: ["0.0.0.0:8000"]            # HTTP/1.1 + h2c
      workers: auto                       # event loops (= Lua VMs); auto = one per core
      tls:
        listen: ["0.0.0.0:8443"]          # TLS with ALPN h2/http1.1
        certificates:
          - { cert: certs/api.pem, key: certs/api.key }   # SNI from the cert's SANs
      trusted_proxies: ["10.0.0.0/8"]     # whose X-Forwarded-For is believed
      limits: { max_header_bytes: 32k, max_body_bytes: 10m, header_timeout: 10s, idle_timeout: 60s }
      drain_timeout: 30s
    admin:
      listen: "127.0.0.1:8001"
      token_file: /etc/moongate/admin-token   # required when listen is not loopback
    scripts:
      paths: ["./plugins", "/etc/moongate/scripts"]   # dirs; ConfigMap mounts work as-is
      watch: true                                      # hot reload on change
      limits: { hook_timeout: 1s, slice: 2ms, instructions: 0, memory: 64m }
                                          # instructions: 0 = no instruction budget (default)
    plugins:                              # global plugin instances (every route)
      - name: correlation-id
        config: { header_name: X-Request-ID }
    consumers:
      - username: alice
        groups: [gold]
        credentials:
          key-auth: [{ key: alice-secret-key }]
          basic-auth: [{ username: alice, password_sha256: "<lowercase hex>" }]
          jwt: [{ key: alice-iss, algorithm: HS256, secret: "…" }]   # key matches the `iss` claim
    upstreams:
      - name: orders
        algorithm: round-robin   # round-robin | least-connections | consistent-hash | peak-ewma | random
        hash_on: header:X-User-Id   # consistent-hash: ip | header:N | cookie:N | path | query:N
        targets:
          - { address: "127.0.0.1:9001", weight: 100 }   # host names are re-resolved (A/AAAA/SRV)
        discovery: { registry: orders }                   # + instances self-registered via admin API
        host_header: orders.internal      # Host sent upstream when preserve_host is false (default: target address)
        health:
          active:  { path: /healthz, interval: 2s, timeout: 1s, healthy_after: 2, unhealthy_after: 3 }
          passive: { failures: 5, statuses: [500, 502, 503, 504], ejection: 30s, max_ejection_percent: 50 }
          panic_threshold: 0              # % healthy below which all targets are used; 0 = off (all unhealthy -> 503)
        retries: { attempts: 2, retry_on: [connect-failure, reset, timeout, 502, 503, 504],
                   per_try_timeout: 2s, budget_percent: 20, backoff: 25ms }
                   # attempts = retries after the first try; the budget always allows 3 concurrent retries;
                   # POST/PATCH are retried only when the request never reached the upstream
        timeouts: { connect: 2s, read: 30s, write: 30s }
        limits: { max_connections: 1024, max_requests: 1024, max_pending: 256 }
        tls: { enabled: false, verify: true, sni: orders.internal, ca_file: ca.pem,
               client_cert: client.pem, client_key: client.key }
        plugins: []                       # plugin instances for every route using this upstream
    routes:
      - name: orders-api
        match:
          hosts: ["api.example.com", "*.example.org"]
          paths: ["/orders"]            # prefix, element-wise (/orders matches /orders/1, not /ordersx)
                                        # "=/exact" exact; "~^/v(\\d+)/orders$" regex
          methods: [GET, POST]
          headers: { X-Version: "v2" }
        upstream: orders                # or a weighted split:
        # upstreams: [{ name: orders-v1, weight: 90 }, { name: orders-v2, weight: 10 }]
        strip_prefix: false
        preserve_host: false
        plugins:
          - name: key-auth
            config: { key_names: [apikey] }
    """#

@Suite("SPEC §2 example document")
struct ConfigSpecExampleTests {
    @Test("parses and compiles with zero issues")
    func noIssues() throws {
        let outcome = try compileConfig(specExampleDocument)
        #expect(outcome.rejected.isEmpty, "\(outcome.rejected.map(\.description))")
        #expect(outcome.isComplete)
        #expect(outcome.retained.isEmpty)
    }

    @Test("proxy settings carry every value, relative certificate paths resolved")
    func proxy() throws {
        let document = try ConfigLoader.parse(yaml: specExampleDocument, file: "moongate.yaml", baseDirectory: "/etc/moongate")
        let proxy = try #require(document.proxy.model)
        #expect(proxy.listen == ["0.0.0.0:8000"])
        #expect(proxy.workers == nil)
        #expect(
            proxy.tls
                == ProxyTLSConfig(
                    listen: ["0.0.0.0:8443"],
                    certificates: [TLSCertificateConfig(cert: "/etc/moongate/certs/api.pem", key: "/etc/moongate/certs/api.key")])
        )
        #expect(proxy.trustedProxies == [CIDR("10.0.0.0/8")!])
        #expect(
            proxy.limits
                == ProxyLimits(
                    maxHeaderBytes: 32 * 1024, maxBodyBytes: 10 * 1024 * 1024, headerTimeout: .seconds(10),
                    idleTimeout: .seconds(60)))
        #expect(proxy.drainTimeout == .seconds(30))
    }

    @Test("admin, scripts, plugins and consumers are modelled")
    func otherSections() throws {
        let document = try ConfigLoader.parse(yaml: specExampleDocument, file: "moongate.yaml", baseDirectory: "/etc/moongate")
        #expect(document.admin?.model == AdminConfig(listen: "127.0.0.1:8001", tokenFile: "/etc/moongate/admin-token"))
        #expect(
            document.scripts.model
                == ScriptsConfig(
                    paths: ["/etc/moongate/plugins", "/etc/moongate/scripts"], watch: true,
                    limits: ScriptLimitsConfig(
                        hookTimeout: .seconds(1), slice: .milliseconds(2), instructions: 0, memoryBytes: 64 << 20)))
        #expect(
            document.plugins.map(\.model) == [
                PluginInstanceConfig(name: "correlation-id", config: ["header_name": .string("X-Request-ID")])
            ])
        let alice = try #require(document.consumers.first?.model)
        #expect(alice.username == "alice")
        #expect(alice.groups == ["gold"])
        #expect(alice.credentials["key-auth"] == [["key": .string("alice-secret-key")]])
        #expect(
            alice.credentials["jwt"] == [["key": .string("alice-iss"), "algorithm": .string("HS256"), "secret": .string("…")]])
        #expect(alice.credentials.count == 3)
    }

    @Test("the upstream keeps every setting; the runtime gets targets, host header and timeouts")
    func upstream() throws {
        let outcome = try compileConfig(specExampleDocument)
        #expect(
            outcome.runtime.upstreams["orders"]
                == UpstreamSpec(
                    name: "orders", targets: [BalancerTarget(address: "127.0.0.1:9001", weight: 100)], hashOn: .header("x-user-id"),
                    discovery: UpstreamDiscovery(registry: "orders"), hostHeader: "orders.internal",
                    health: UpstreamHealthConfig(
                        active: ActiveHealthCheckConfig(path: "/healthz", interval: .seconds(2)), passive: PassiveHealthCheckConfig()),
                    retries: UpstreamRetryConfig(
                        attempts: 2, retryOn: [.connectFailure, .reset, .timeout, .status(502), .status(503), .status(504)],
                        perTryTimeout: .seconds(2))))

        let document = try ConfigLoader.parse(yaml: specExampleDocument, file: "moongate.yaml", baseDirectory: "/etc/moongate")
        let orders = try #require(document.upstreams.first?.model)
        #expect(orders.algorithm == .roundRobin)
        #expect(orders.hashOn == .header("x-user-id"))
        #expect(orders.discovery.registry == "orders")
        #expect(
            orders.health.active
                == ActiveHealthCheckConfig(
                    path: "/healthz", interval: .seconds(2), timeout: .seconds(1), healthyAfter: 2, unhealthyAfter: 3))
        #expect(orders.health.passive == PassiveHealthCheckConfig())
        #expect(
            orders.retries
                == UpstreamRetryConfig(
                    attempts: 2, retryOn: [.connectFailure, .reset, .timeout, .status(502), .status(503), .status(504)],
                    perTryTimeout: .seconds(2), budgetPercent: 20, backoff: .milliseconds(25)))
        #expect(orders.limits == UpstreamConnectionLimits(maxConnections: 1024, maxRequests: 1024, maxPending: 256))
        #expect(
            orders.tls
                == UpstreamTLSConfig(
                    enabled: false, verify: true, sni: "orders.internal", caFile: "/etc/moongate/ca.pem",
                    clientCert: "/etc/moongate/client.pem", clientKey: "/etc/moongate/client.key"))
        #expect(orders.plugins.isEmpty)
    }

    @Test("the route is normalised for the router and the proxy")
    func route() throws {
        let outcome = try compileConfig(specExampleDocument)
        #expect(
            outcome.runtime.routeSpecs == [
                RouteSpec(
                    name: "orders-api", hosts: ["api.example.com", "*.example.org"], paths: ["/orders"],
                    methods: ["GET", "POST"],
                    headers: ["x-version": "v2"])
            ])
        #expect(
            outcome.runtime.routes == [
                CompiledRoute(
                    name: "orders-api", upstreams: [WeightedUpstream(name: "orders", weight: 100)],
                    plugins: [PluginInstanceConfig(name: "key-auth", config: ["key_names": .list([.string("apikey")])])])
            ])
        _ = try Router(routes: outcome.runtime.routeSpecs)

        let document = try ConfigLoader.parse(yaml: specExampleDocument, file: "moongate.yaml", baseDirectory: "/etc/moongate")
        #expect(
            document.routes.first?.model?.plugins == [
                PluginInstanceConfig(name: "key-auth", config: ["key_names": .list([.string("apikey")])])
            ])
    }
}

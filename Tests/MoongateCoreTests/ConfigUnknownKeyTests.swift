import Testing

@testable import MoongateCore

/// SPEC §2: unknown keys are errors, so typos never pass silently.
@Suite("Config: unknown keys")
struct ConfigUnknownKeyTests {
    @Test("an unknown top-level section refuses the whole document, suggesting the intended one")
    func topLevel() throws {
        let error = try #require(configLoadError("proxy: {}\nrotues: []\n"))
        #expect(error.issues.count == 1)
        #expect(error.description == "moongate.yaml:2: rotues: unknown key 'rotues' (did you mean 'routes'?)")
    }

    @Test("without a close match the valid keys are listed")
    func listsValidKeys() throws {
        let error = try #require(configLoadError("extras: 1\n"))
        #expect(
            error.description
                == "moongate.yaml:1: extras: unknown key 'extras'; expected one of: proxy, admin, scripts, plugins, consumers, upstreams, routes"
        )
    }

    @Test(
        "unknown keys inside an object reject it, naming the key's path and line",
        arguments: [
            ConfigRuleCase(
                rule: "in a route",
                yaml: documentWithRoute(
                    """
                      - name: orders-api
                        match: { paths: ["/orders"] }
                        upstream: orders
                        strip_prefx: true
                    """),
                path: "routes[0].strip_prefx", line: 8, message: "unknown key 'strip_prefx' (did you mean 'strip_prefix'?)",
                object: "route orders-api"),
            ConfigRuleCase(
                rule: "in a route's match",
                yaml: documentWithRoute(
                    """
                      - name: orders-api
                        match:
                          paths: ["/orders"]
                          query: { a: b }
                        upstream: orders
                    """),
                path: "routes[0].match.query", line: 8,
                message: "unknown key 'query'; expected one of: hosts, paths, methods, headers",
                object: "route orders-api"),
            ConfigRuleCase(
                rule: "deep in an upstream",
                yaml: """
                    upstreams:
                      - name: orders
                        targets: [{ address: "127.0.0.1:9001" }]
                        health:
                          active:
                            intervall: 2s
                    """,
                path: "upstreams[0].health.active.intervall", line: 6,
                message: "unknown key 'intervall' (did you mean 'interval'?)",
                object: "upstream orders"),
            ConfigRuleCase(
                rule: "in proxy limits",
                yaml: "proxy:\n  limits: { max_body: 10m }",
                path: "proxy.limits.max_body", line: 2, message: "unknown key 'max_body'; expected one of: max_header_bytes",
                object: "proxy"),
            ConfigRuleCase(
                rule: "in a plugin instance",
                yaml: "plugins:\n  - name: cors\n    enable: false",
                path: "plugins[0].enable", line: 3, message: "unknown key 'enable' (did you mean 'enabled'?)",
                object: "plugin cors"),
            ConfigRuleCase(
                rule: "in a target",
                yaml: "upstreams:\n  - name: orders\n    targets: [{ address: \"127.0.0.1:9001\", wieght: 5 }]",
                path: "upstreams[0].targets[0].wieght", line: 3, message: "unknown key 'wieght' (did you mean 'weight'?)",
                object: "upstream orders"),
        ])
    func insideObjects(_ rule: ConfigRuleCase) throws {
        try expectRule(rule)
    }

    @Test("a typo rejects only its own object")
    func isolated() throws {
        let outcome = try compileConfig(
            documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders"] }
                    upstrem: orders
                  - name: orders-v2
                    match: { paths: ["/v2/orders"] }
                    upstream: orders
                """))
        #expect(outcome.rejectedObjects == [.route("orders-api")])
        #expect(outcome.runtime.routes.map(\.name) == ["orders-v2"])
        #expect(outcome.runtime.upstreams.keys.sorted() == ["orders"])
    }

    @Test("free-form plugin config and credentials accept any key")
    func freeForm() throws {
        let outcome = try compileConfig(
            """
            plugins:
              - name: rate-limiting
                config: { minute: 5, limit_by: consumer, nested: { anything: [1, 2.5, true, null] } }
            consumers:
              - username: bob
                credentials: { hmac-auth: [{ secret: s, whatever: 1 }] }
            """)
        #expect(outcome.rejected.isEmpty)
    }
}

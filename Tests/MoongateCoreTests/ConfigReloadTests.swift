import Testing

@testable import MoongateCore

/// SPEC §2 "Validation and reloads": invalid objects are rejected one by one and keep
/// their last good version; a route never serves in a weakened form.
@Suite("Config: reload isolation")
struct ConfigReloadTests {
    static let original = """
        upstreams:
          - name: orders
            targets: [{ address: "127.0.0.1:9001" }]
          - name: users
            targets: [{ address: "127.0.0.1:9002" }]
        routes:
          - name: orders-api
            match: { paths: ["/orders"] }
            upstream: orders
          - name: users-api
            match: { paths: ["/users"] }
            upstream: users
        """

    static func previous() throws -> RuntimeConfig {
        let outcome = try compileConfig(original)
        #expect(outcome.rejected.isEmpty)
        return outcome.runtime
    }

    @Test("an invalid route keeps its previous version, in its place; the rest applies")
    func invalidRouteKeepsPrevious() throws {
        let previous = try Self.previous()
        let outcome = try compileConfig(
            """
            upstreams:
              - name: orders
                targets: [{ address: "127.0.0.1:9001" }]
              - name: users
                targets: [{ address: "127.0.0.1:9002" }]
            routes:
              - name: orders-api
                match: { paths: ["orders/v2"] }
                upstream: orders
              - name: users-api
                match: { paths: ["/v2/users"] }
                upstream: users
            """, previous: previous)
        #expect(outcome.rejectedObjects == [.route("orders-api")])
        #expect(outcome.rejected.first?.path == "routes[0].match.paths[0]")
        #expect(outcome.retained == [.route("orders-api")])
        #expect(
            outcome.runtime.routeSpecs == [
                RouteSpec(name: "orders-api", paths: ["/orders"]), RouteSpec(name: "users-api", paths: ["/v2/users"]),
            ])
        #expect(outcome.runtime.routes.map(\.name) == ["orders-api", "users-api"])
    }

    @Test("a new invalid route is absent")
    func newInvalidRouteAbsent() throws {
        let outcome = try compileConfig(
            Self.original + "\n  - name: admin-api\n    match: { methods: [\"B@D\"] }\n    upstream: users",
            previous: try Self.previous())
        #expect(outcome.rejectedObjects == [.route("admin-api")])
        #expect(outcome.retained.isEmpty)
        #expect(outcome.runtime.routes.map(\.name) == ["orders-api", "users-api"])
    }

    @Test("an invalid upstream keeps its previous version and its routes keep working")
    func invalidUpstreamKeepsPrevious() throws {
        let previous = try Self.previous()
        let outcome = try compileConfig(
            """
            upstreams:
              - name: orders
                targets: [{ address: "127.0.0.1:0" }]
              - name: users
                targets: [{ address: "127.0.0.1:9003" }]
            routes:
              - name: orders-api
                match: { paths: ["/orders", "/v2/orders"] }
                upstream: orders
              - name: users-api
                match: { paths: ["/users"] }
                upstream: users
            """, previous: previous)
        #expect(outcome.rejectedObjects == [.upstream("orders")])
        #expect(outcome.retained == [.upstream("orders")])
        #expect(outcome.runtime.upstreams["orders"] == previous.upstreams["orders"])
        #expect(outcome.runtime.upstreams["users"]?.targets == [BalancerTarget(address: "127.0.0.1:9003")])
        #expect(outcome.runtime.routeSpecs.first == RouteSpec(name: "orders-api", paths: ["/orders", "/v2/orders"]))
    }

    @Test("a new invalid upstream takes its routes down; other routes apply")
    func newInvalidUpstreamTakesRoutesDown() throws {
        let outcome = try compileConfig(
            Self.original.replacingOccurrences(
                of: "routes:",
                with: """
                      - name: payments
                        targets: [{ address: "payments" }]
                    routes:
                      - name: payments-api
                        match: { paths: ["/payments"] }
                        upstream: payments
                    """), previous: try Self.previous())
        #expect(outcome.rejectedObjects == [.upstream("payments"), .route("payments-api")])
        let routeIssue = try #require(outcome.rejected.first { $0.object == .route("payments-api") })
        #expect(routeIssue.path == "routes[0].upstream")
        #expect(routeIssue.line == 11)
        #expect(
            routeIssue.message == "upstream 'payments' is rejected and has no previous version, so this route cannot be served")
        #expect(outcome.runtime.routes.map(\.name) == ["orders-api", "users-api"])
        #expect(outcome.runtime.upstreams["payments"] == nil)
    }

    @Test("at start-up (no previous) rejected objects are simply absent")
    func startUp() throws {
        let outcome = try compileConfig(
            Self.original.replacingOccurrences(of: "9001", with: "99999").replacingOccurrences(of: "\"/users\"", with: "users"))
        #expect(outcome.rejectedObjects == [.upstream("orders"), .route("orders-api"), .route("users-api")])
        #expect(outcome.retained.isEmpty)
        #expect(outcome.runtime.routes.isEmpty)
        #expect(outcome.runtime.upstreams.keys.sorted() == ["users"])
    }

    @Test("a kept route is dropped when its previous upstream is gone")
    func keptRouteNeedsItsUpstream() throws {
        let outcome = try compileConfig(
            """
            upstreams:
              - name: users
                targets: [{ address: "127.0.0.1:9002" }]
            routes:
              - name: orders-api
                match: { paths: ["/orders"] }
                upstream: nowhere
            """, previous: try Self.previous())
        #expect(outcome.rejectedObjects == [.route("orders-api")])
        #expect(outcome.retained.isEmpty)
        #expect(outcome.runtime.routes.isEmpty)
    }

    @Test("a duplicate name does not fall back on the previous version of that name")
    func duplicateDoesNotRetain() throws {
        let outcome = try compileConfig(
            Self.original + "\n  - name: users-api\n    match: { paths: [\"/u\"] }\n    upstream: users",
            previous: try Self.previous())
        #expect(outcome.rejected.map(\.path) == ["routes[2].name"])
        #expect(outcome.retained.isEmpty)
        #expect(outcome.runtime.routeSpecs.map(\.paths) == [["/orders"], ["/users"]])
    }

    @Test("invalid proxy settings keep the previous ones on reload, and are reported as the proxy's")
    func proxyKeepsPrevious() throws {
        let previous = try compileConfig("proxy: { drain_timeout: 5s }").runtime
        let outcome = try compileConfig("proxy: { drain_timeout: 5, listen: [\"0.0.0.0:9000\"] }", previous: previous)
        #expect(outcome.rejectedObjects == [.proxy])
        #expect(outcome.retained == [.proxy])
        #expect(outcome.runtime.proxy == previous.proxy)
    }

    @Test("a document that does not parse changes nothing: it is a load error, not a partial outcome")
    func unparseable() throws {
        for yaml in ["routes: [", "upstreams: {}\n", "routse: []\n"] {
            let error = try #require(configLoadError(yaml))
            #expect(error.issues.allSatisfy { $0.object == .document })
        }
    }

    @Test("a rejected route still has its upstream reference checked, so one pass lists every problem")
    func rejectedRouteReferences() throws {
        let outcome = try compileConfig(
            documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["orders"] }
                    upstream: ordrs
                """))
        #expect(outcome.rejected.map(\.path) == ["routes[0].match.paths[0]", "routes[0].upstream"])
    }

    @Test("issues are listed in document order")
    func order() throws {
        let outcome = try compileConfig(
            """
            routes:
              - name: a
                match: { paths: ["/a"] }
                upstream: missing
            upstreams:
              - name: b
                targets: [{ address: "x" }]
            """)
        #expect(outcome.rejected.compactMap(\.line) == [4, 7])
    }
}

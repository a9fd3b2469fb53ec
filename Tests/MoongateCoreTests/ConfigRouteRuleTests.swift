import Testing

@testable import MoongateCore

/// Each validation rule of `routes[]`: the message names the field path and line.
@Suite("Config: route rules")
struct ConfigRouteRuleTests {
    static let cases: [ConfigRuleCase] = [
        ConfigRuleCase(
            rule: "a route's retries cannot set the upstream's budget",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders"] }
                    upstream: orders
                    retries: { budget_percent: 50 }
                """),
            path: "routes[0].retries.budget_percent", line: 8, message: "budget_percent", object: "route orders-api"),
        ConfigRuleCase(
            rule: "a path starts with '/', '=/' or '~'",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["orders"] }
                    upstream: orders
                """),
            path: "routes[0].match.paths[0]", line: 6,
            message: "path 'orders' must start with '/' (or '=/' for exact, '~' for a regex)", object: "route orders-api"),
        ConfigRuleCase(
            rule: "a regex path compiles",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["~^/(unclosed"] }
                    upstream: orders
                """),
            path: "routes[0].match.paths[0]", line: 6, message: "invalid regular expression", object: "route orders-api"),
        ConfigRuleCase(
            rule: "a path can be normalised",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders%zz"] }
                    upstream: orders
                """),
            path: "routes[0].match.paths[0]", line: 6, message: "a '%' not followed by two hex digits", object: "route orders-api"
        ),
        ConfigRuleCase(
            rule: "methods are HTTP tokens",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { methods: ["GET POST"] }
                    upstream: orders
                """),
            path: "routes[0].match.methods[0]", line: 6, message: "'GET POST' is not an HTTP method name",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "a method is listed once, whatever its case",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match:
                      methods: [GET, get]
                    upstream: orders
                """),
            path: "routes[0].match.methods[1]", line: 7, message: "'GET' is listed twice (also at routes[0].match.methods[0])",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "hosts are host names",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { hosts: ["api!.example.com"] }
                    upstream: orders
                """),
            path: "routes[0].match.hosts[0]", line: 6, message: "contains '!'", object: "route orders-api"),
        ConfigRuleCase(
            rule: "a wildcard is the whole first label",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { hosts: ["api.*.example.com"] }
                    upstream: orders
                """),
            path: "routes[0].match.hosts[0]", line: 6, message: "a wildcard is allowed only as the whole first label",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "hosts carry no port",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { hosts: ["api.example.com:8000"] }
                    upstream: orders
                """),
            path: "routes[0].match.hosts[0]", line: 6, message: "without a port", object: "route orders-api"),
        ConfigRuleCase(
            rule: "header names are HTTP tokens",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { headers: { "X Version": v2 } }
                    upstream: orders
                """),
            path: "routes[0].match.headers.X Version", line: 6, message: "'X Version' is not a valid header name",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "a header is listed once, whatever its case",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match:
                      headers:
                        X-Version: v2
                        x-version: v3
                    upstream: orders
                """),
            path: "routes[0].match.headers.x-version", line: 9, message: "header 'x-version' is listed twice",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "header values are text",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { headers: { X-Version: [v2] } }
                    upstream: orders
                """),
            path: "routes[0].match.headers.X-Version", line: 6, message: "expected a text value, found a list",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "a route matches on something",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { hosts: [] }
                    upstream: orders
                """),
            path: "routes[0].match", line: 6, message: "at least one of hosts, paths, methods, headers; found none",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "match is required",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    upstream: orders
                """),
            path: "routes[0].match", line: 5, message: "missing; a route matches on at least one of", object: "route orders-api"),
        ConfigRuleCase(
            rule: "upstream and upstreams are mutually exclusive",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders"] }
                    upstream: orders
                    upstreams: [{ name: orders }]
                """),
            path: "routes[0].upstream", line: 7, message: "'upstream' and 'upstreams' are mutually exclusive",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "upstream or upstreams is required",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders"] }
                """),
            path: "routes[0].upstream", line: 5, message: "missing; a route needs 'upstream: NAME'", object: "route orders-api"),
        ConfigRuleCase(
            rule: "the upstream exists",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders"] }
                    upstream: ordrs
                """),
            path: "routes[0].upstream", line: 7, message: "no upstream named 'ordrs' (did you mean 'orders'?)",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "every upstream of a split exists",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders"] }
                    upstreams:
                      - { name: orders, weight: 90 }
                      - { name: payments, weight: 10 }
                """),
            path: "routes[0].upstreams[1].name", line: 9, message: "no upstream named 'payments'; defined upstreams: 'orders'",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "split weights are positive",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders"] }
                    upstreams: [{ name: orders, weight: 0 }]
                """),
            path: "routes[0].upstreams[0].weight", line: 7, message: "expected an integer from 1 to 65535, found 0",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "route names are unique",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders"] }
                    upstream: orders
                  - name: orders-api
                    match: { paths: ["/v2/orders"] }
                    upstream: orders
                """),
            path: "routes[1].name", line: 8, message: "route name 'orders-api' is already used by routes[0] (line 5)",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "route names need no escaping",
            yaml: documentWithRoute(
                """
                  - name: "orders api"
                    match: { paths: ["/orders"] }
                    upstream: orders
                """),
            path: "routes[0].name", line: 5, message: "name 'orders api' may contain only letters, digits",
            object: "route orders api"),
        ConfigRuleCase(
            rule: "a route has a name",
            yaml: documentWithRoute(
                """
                  - match: { paths: ["/orders"] }
                    upstream: orders
                """),
            path: "routes[0].name", line: 5, message: "missing; every route needs a unique name", object: "route (unnamed)"),
        ConfigRuleCase(
            rule: "strip_prefix is a boolean",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders"] }
                    upstream: orders
                    strip_prefix: "yes please"
                """),
            path: "routes[0].strip_prefix", line: 8, message: "expected true or false, found 'yes please'",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "a plugin is configured once per route",
            yaml: documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["/orders"] }
                    upstream: orders
                    plugins: [{ name: key-auth }, { name: key-auth, enabled: false }]
                """),
            path: "routes[0].plugins[1]", line: 8, message: "'key-auth' is listed twice (also at routes[0].plugins[0])",
            object: "route orders-api"),
        ConfigRuleCase(
            rule: "a route is a map",
            yaml: documentWithRoute(
                """
                  - orders-api
                """),
            path: "routes[0]", line: 5, message: "expected a map with keys name, match, upstream", object: "route (unnamed)"),
    ]

    @Test("rule", arguments: cases)
    func rule(_ rule: ConfigRuleCase) throws {
        try expectRule(rule)
    }

    @Test("a valid route is normalised: hosts and header names lowercase, methods uppercase")
    func normalisation() throws {
        let outcome = try compileConfig(
            documentWithRoute(
                """
                  - name: orders-api
                    match: { hosts: [API.Example.COM], methods: [get], headers: { X-Version: 2 } }
                    upstream: orders
                """))
        #expect(outcome.rejected.isEmpty)
        #expect(
            outcome.runtime.routeSpecs == [
                RouteSpec(name: "orders-api", hosts: ["api.example.com"], methods: ["GET"], headers: ["x-version": "2"])
            ])
    }

    @Test("defaults: strip_prefix and preserve_host false, split weight 100")
    func defaults() throws {
        let outcome = try compileConfig(
            documentWithRoute(
                """
                  - name: orders-api
                    match: { paths: ["=/orders"] }
                    upstreams: [{ name: orders }]
                """))
        #expect(
            outcome.runtime.routes == [
                CompiledRoute(
                    name: "orders-api", upstreams: [WeightedUpstream(name: "orders", weight: 100)], stripPrefix: false,
                    preserveHost: false)
            ])
    }
}

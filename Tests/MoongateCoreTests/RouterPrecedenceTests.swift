import MoongateCore
import Testing

/// One row of the precedence table: a small configuration, a request, and the route
/// (by name) and matched prefix the router must pick.
struct RoutingCase: Sendable, CustomTestStringConvertible {
    let label: String
    let routes: [RouteSpec]
    var host = "api.example.com"
    let path: String
    var method = "GET"
    var headers: [String: String] = [:]
    /// Name of the winning route; nil for no match.
    let expected: String?
    var expectedPrefix: String?

    var testDescription: String { label }
}

private func route(
    _ name: String, hosts: [String] = [], paths: [String] = [], methods: [String] = [], headers: [String: String] = [:]
) -> RouteSpec {
    RouteSpec(name: name, hosts: hosts, paths: paths, methods: methods, headers: headers)
}

private let precedenceCases: [RoutingCase] = [
    // Element-wise prefixes.
    RoutingCase(
        label: "/foo does not match /foobar", routes: [route("foo", paths: ["/foo"]), route("root", paths: ["/"])],
        path: "/foobar", expected: "root", expectedPrefix: "/"),
    RoutingCase(
        label: "/foobar beats /foo by length", routes: [route("foo", paths: ["/foo"]), route("foobar", paths: ["/foobar"])],
        path: "/foobar/1", expected: "foobar", expectedPrefix: "/foobar"),
    RoutingCase(
        label: "prefix matches itself", routes: [route("orders", paths: ["/orders"])],
        path: "/orders", expected: "orders", expectedPrefix: "/orders"),
    RoutingCase(
        label: "prefix matches with trailing slash", routes: [route("orders", paths: ["/orders"])],
        path: "/orders/", expected: "orders", expectedPrefix: "/orders"),
    RoutingCase(
        label: "prefix matches a sub-path", routes: [route("orders", paths: ["/orders"])],
        path: "/orders/1/items", expected: "orders", expectedPrefix: "/orders"),
    RoutingCase(
        label: "prefix /orders does not match /ordersx", routes: [route("orders", paths: ["/orders"])],
        path: "/ordersx", expected: nil),
    RoutingCase(
        label: "trailing-slash prefix does not match the bare directory", routes: [route("dir", paths: ["/orders/"])],
        path: "/orders", expected: nil),
    RoutingCase(
        label: "trailing-slash prefix matches the directory", routes: [route("dir", paths: ["/orders/"])],
        path: "/orders/", expected: "dir", expectedPrefix: "/orders/"),
    RoutingCase(
        label: "trailing-slash prefix beats the bare prefix (longer)",
        routes: [route("bare", paths: ["/orders"]), route("dir", paths: ["/orders/"])],
        path: "/orders/7", expected: "dir", expectedPrefix: "/orders/"),
    RoutingCase(
        label: "/ matches everything", routes: [route("root", paths: ["/"])],
        path: "/any/thing", expected: "root", expectedPrefix: "/"),
    RoutingCase(
        label: "paths are case-sensitive", routes: [route("orders", paths: ["/orders"])],
        path: "/Orders", expected: nil),
    RoutingCase(
        label: "exact paths are case-sensitive", routes: [route("exact", paths: ["=/Health"]), route("root", paths: ["/"])],
        path: "/health", expected: "root", expectedPrefix: "/"),
    // Path kinds.
    RoutingCase(
        label: "exact beats a longer prefix",
        routes: [route("prefix", paths: ["/a/b/c"]), route("exact", paths: ["=/a/b/c"])],
        path: "/a/b/c", expected: "exact"),
    RoutingCase(
        label: "exact matches only itself", routes: [route("exact", paths: ["=/x"])],
        path: "/x/", expected: nil),
    RoutingCase(
        label: "regex beats the longest prefix",
        routes: [route("prefix", paths: ["/v1/orders"]), route("regex", paths: ["~^/v[0-9]+/"])],
        path: "/v1/orders/3", expected: "regex"),
    RoutingCase(
        label: "exact beats regex",
        routes: [route("regex", paths: ["~^/v1/orders$"]), route("exact", paths: ["=/v1/orders"])],
        path: "/v1/orders", expected: "exact"),
    RoutingCase(
        label: "first listed regex wins over a more specific later one",
        routes: [route("loose", paths: ["~/orders"]), route("tight", paths: ["~^/v1/orders$"])],
        path: "/v1/orders", expected: "loose"),
    RoutingCase(
        label: "regex listing order counts paths within a route",
        routes: [route("first", paths: ["/x", "~^/b"]), route("second", paths: ["~^/a"]), route("third", paths: ["~^/a/b"])],
        path: "/a/b", expected: "second"),
    RoutingCase(
        label: "regex finds a match anywhere unless anchored", routes: [route("regex", paths: ["~items/[0-9]+"])],
        path: "/shop/items/42/detail", expected: "regex"),
    RoutingCase(
        label: "anchored regex must match the whole path", routes: [route("regex", paths: ["~^/items/[0-9]+$"])],
        path: "/items/42/detail", expected: nil),
    RoutingCase(
        label: "prefix beats a route without paths",
        routes: [route("nopath", hosts: ["api.example.com"]), route("prefix", paths: ["/"])],
        path: "/x", expected: "prefix", expectedPrefix: "/"),
    RoutingCase(
        label: "route without paths matches every path", routes: [route("nopath", hosts: ["api.example.com"])],
        path: "/whatever", expected: "nopath"),
    // Hosts.
    RoutingCase(
        label: "wildcard matches one label", routes: [route("wild", hosts: ["*.example.org"])],
        host: "a.example.org", path: "/", expected: "wild"),
    RoutingCase(
        label: "wildcard matches several labels", routes: [route("wild", hosts: ["*.example.org"])],
        host: "a.b.c.example.org", path: "/", expected: "wild"),
    RoutingCase(
        label: "wildcard does not match its bare suffix", routes: [route("wild", hosts: ["*.example.org"])],
        host: "example.org", path: "/", expected: nil),
    RoutingCase(
        label: "wildcard does not match a longer label", routes: [route("wild", hosts: ["*.example.org"])],
        host: "aexample.org", path: "/", expected: nil),
    RoutingCase(
        label: "exact host beats wildcard on the same path",
        routes: [route("wild", hosts: ["*.example.com"], paths: ["/"]), route("exact", hosts: ["api.example.com"], paths: ["/"])],
        path: "/x", expected: "exact", expectedPrefix: "/"),
    RoutingCase(
        label: "longer wildcard suffix beats shorter",
        routes: [route("short", hosts: ["*.example.org"]), route("long", hosts: ["*.eu.example.org"])],
        host: "shop.eu.example.org", path: "/", expected: "long"),
    RoutingCase(
        label: "shorter wildcard still applies where the longer one has no route",
        routes: [route("short", hosts: ["*.example.org"], paths: ["/a"]), route("long", hosts: ["*.eu.example.org"], paths: ["/b"])],
        host: "shop.eu.example.org", path: "/a/1", expected: "short", expectedPrefix: "/a"),
    RoutingCase(
        label: "wildcard beats a route without hosts",
        routes: [route("any", paths: ["/"]), route("wild", hosts: ["*.example.com"], paths: ["/"])],
        path: "/", expected: "wild", expectedPrefix: "/"),
    RoutingCase(
        label: "path kind beats host specificity",
        routes: [route("hosted", hosts: ["api.example.com"], paths: ["/"]), route("health", paths: ["=/health"])],
        path: "/health", expected: "health"),
    RoutingCase(
        label: "longer prefix on any host beats shorter prefix on exact host",
        routes: [route("hosted", hosts: ["api.example.com"], paths: ["/v1"]), route("any", paths: ["/v1/orders"])],
        path: "/v1/orders/9", expected: "any", expectedPrefix: "/v1/orders"),
    RoutingCase(
        label: "same prefix: exact host beats any host",
        routes: [route("any", paths: ["/v1"]), route("hosted", hosts: ["api.example.com"], paths: ["/v1"])],
        path: "/v1/x", expected: "hosted", expectedPrefix: "/v1"),
    RoutingCase(
        label: "unknown host falls back to routes without hosts",
        routes: [route("hosted", hosts: ["api.example.com"], paths: ["/"]), route("any", paths: ["/"])],
        host: "other.example.com", path: "/", expected: "any", expectedPrefix: "/"),
    RoutingCase(
        label: "host-bound route does not match another host", routes: [route("hosted", hosts: ["api.example.com"])],
        host: "api.example.co", path: "/", expected: nil),
    // Methods and headers.
    RoutingCase(
        label: "route with methods beats route without",
        routes: [route("plain", paths: ["/items"]), route("post", paths: ["/items"], methods: ["POST"])],
        path: "/items", method: "POST", expected: "post", expectedPrefix: "/items"),
    RoutingCase(
        label: "method mismatch falls back to the next candidate",
        routes: [route("plain", paths: ["/items"]), route("post", paths: ["/items"], methods: ["POST"])],
        path: "/items", method: "GET", expected: "plain", expectedPrefix: "/items"),
    RoutingCase(
        label: "method mismatch falls back to a shorter prefix",
        routes: [route("root", paths: ["/"]), route("post", paths: ["/items"], methods: ["POST"])],
        path: "/items", method: "DELETE", expected: "root", expectedPrefix: "/"),
    RoutingCase(
        label: "methods compare case-sensitively", routes: [route("get", paths: ["/"], methods: ["GET"])],
        path: "/", method: "get", expected: nil),
    RoutingCase(
        label: "header condition selects its route",
        routes: [route("v1", paths: ["/api"]), route("v2", paths: ["/api"], headers: ["x-version": "v2"])],
        path: "/api", headers: ["x-version": "v2"], expected: "v2", expectedPrefix: "/api"),
    RoutingCase(
        label: "header value must be exact",
        routes: [route("v1", paths: ["/api"]), route("v2", paths: ["/api"], headers: ["x-version": "v2"])],
        path: "/api", headers: ["x-version": "V2"], expected: "v1", expectedPrefix: "/api"),
    RoutingCase(
        label: "missing header falls back",
        routes: [route("v1", paths: ["/api"]), route("v2", paths: ["/api"], headers: ["x-version": "v2"])],
        path: "/api", expected: "v1", expectedPrefix: "/api"),
    RoutingCase(
        label: "all headers must match",
        routes: [route("both", paths: ["/"], headers: ["x-a": "1", "x-b": "2"]), route("plain", paths: ["/"])],
        path: "/", headers: ["x-a": "1"], expected: "plain", expectedPrefix: "/"),
    RoutingCase(
        label: "failing exact-path conditions fall back to a regex",
        routes: [route("exact", paths: ["=/v1/x"], methods: ["PUT"]), route("regex", paths: ["~^/v1/"])],
        path: "/v1/x", expected: "regex"),
    RoutingCase(
        label: "failing regex conditions fall back to the next regex",
        routes: [route("first", paths: ["~^/v1"], methods: ["PUT"]), route("second", paths: ["~^/v"])],
        path: "/v1/x", expected: "second"),
    RoutingCase(
        label: "failing regex conditions fall back to a prefix",
        routes: [route("regex", paths: ["~^/v1"], headers: ["x-beta": "1"]), route("prefix", paths: ["/v1"])],
        path: "/v1/x", expected: "prefix", expectedPrefix: "/v1"),
    RoutingCase(
        label: "conditions rank below host specificity",
        routes: [route("any-post", paths: ["/"], methods: ["POST"]), route("hosted", hosts: ["api.example.com"], paths: ["/"])],
        path: "/", method: "POST", expected: "hosted", expectedPrefix: "/"),
    // Ties.
    RoutingCase(
        label: "tie goes to the earlier route",
        routes: [route("first", paths: ["/x"]), route("second", paths: ["/x"])],
        path: "/x", expected: "first", expectedPrefix: "/x"),
    RoutingCase(
        label: "tie between exact paths goes to the earlier route",
        routes: [route("first", paths: ["=/x"]), route("second", paths: ["=/x"])],
        path: "/x", expected: "first"),
    RoutingCase(
        label: "tie between routes without paths goes to the earlier route",
        routes: [route("first"), route("second")],
        path: "/x", expected: "first"),
    RoutingCase(
        label: "a route's best path counts",
        routes: [route("short", paths: ["/a/b"]), route("multi", paths: ["/a", "/a/b/c"])],
        path: "/a/b/c/d", expected: "multi", expectedPrefix: "/a/b/c"),
    RoutingCase(
        label: "no route at all", routes: [], path: "/", expected: nil),
]

@Suite("Router precedence")
struct RouterPrecedenceTests {
    @Test("precedence table", arguments: precedenceCases)
    func precedence(_ testCase: RoutingCase) throws {
        let router = try Router(routes: testCase.routes)
        let match = router.match(
            host: testCase.host, path: testCase.path, method: testCase.method, header: { testCase.headers[$0] })
        #expect(match.map { testCase.routes[$0.routeIndex].name } == testCase.expected)
        #expect(match?.matchedPrefix == testCase.expectedPrefix)
    }
}

import MoongateCore
import Testing

@Suite("Router matching")
struct RouterMatchingTests {
    private func match(_ router: Router, host: String, path: String, method: String = "GET") -> Int? {
        router.match(host: host, path: path, method: method, header: { _ in nil })?.routeIndex
    }

    @Test("a route with several hosts and paths matches any combination")
    func severalHostsAndPaths() throws {
        let router = try Router(routes: [
            RouteSpec(name: "multi", hosts: ["a.example.com", "*.example.net"], paths: ["/x", "=/y", "~^/z[0-9]$"])
        ])
        for host in ["a.example.com", "q.example.net"] {
            for path in ["/x/1", "/y", "/z7"] { #expect(match(router, host: host, path: path) == 0) }
            #expect(match(router, host: host, path: "/y/1") == nil)
        }
        #expect(match(router, host: "b.example.com", path: "/x") == nil)
    }

    @Test("an exact host configured under a wildcard also gets the wildcard's routes")
    func exactHostInheritsWildcardRoutes() throws {
        let router = try Router(routes: [
            RouteSpec(name: "wild", hosts: ["*.example.org"], paths: ["/shared"]),
            RouteSpec(name: "exact", hosts: ["api.example.org"], paths: ["/own"]),
            RouteSpec(name: "any", paths: ["/fallback"]),
        ])
        #expect(match(router, host: "api.example.org", path: "/shared") == 0)
        #expect(match(router, host: "api.example.org", path: "/own") == 1)
        #expect(match(router, host: "api.example.org", path: "/fallback") == 2)
        #expect(match(router, host: "x.example.org", path: "/own") == nil)
    }

    @Test("bracketed IPv6 hosts match exactly")
    func ipv6Host() throws {
        let router = try Router(routes: [RouteSpec(name: "v6", hosts: ["[::1]"])])
        #expect(match(router, host: HostNormalizer.normalize("[::1]:8000"), path: "/") == 0)
        #expect(match(router, host: "[::2]", path: "/") == nil)
    }

    @Test("every one of many routes resolves to itself")
    func manyRoutes() throws {
        var routes: [RouteSpec] = []
        for index in 0..<300 {
            let host = "h\(index % 17).example.com"
            switch index % 3 {
            case 0: routes.append(RouteSpec(name: "p\(index)", hosts: [host], paths: ["/svc\(index)/api"]))
            case 1: routes.append(RouteSpec(name: "e\(index)", hosts: [host], paths: ["=/svc\(index)/health"]))
            default: routes.append(RouteSpec(name: "r\(index)", hosts: ["*.t\(index % 5).example.net"], paths: ["~^/v[0-9]+/svc\(index)$"]))
            }
        }
        let router = try Router(routes: routes)
        for index in 0..<300 {
            switch index % 3 {
            case 0: #expect(match(router, host: "h\(index % 17).example.com", path: "/svc\(index)/api/items") == index)
            case 1: #expect(match(router, host: "h\(index % 17).example.com", path: "/svc\(index)/health") == index)
            default: #expect(match(router, host: "x.y.t\(index % 5).example.net", path: "/v12/svc\(index)") == index)
            }
        }
        #expect(match(router, host: "h1.example.com", path: "/svc1/api") == nil)
    }

    @Test("a regex with inline options still matches (no literal pre-check)")
    func regexWithOptions() throws {
        let router = try Router(routes: [RouteSpec(name: "ci", paths: ["~(?i)^/admin"]), RouteSpec(name: "alt", paths: ["~^/a|^/b"])])
        #expect(match(router, host: "", path: "/ADMIN/x") == 0)
        #expect(match(router, host: "", path: "/b/x") == 1)
    }

    @Test("a quantified literal does not narrow the regex pre-check")
    func regexQuantifiedLiteral() throws {
        let router = try Router(routes: [RouteSpec(name: "opt", paths: ["~^/items?/[0-9]+$"])])
        #expect(match(router, host: "", path: "/item/1") == 0)
        #expect(match(router, host: "", path: "/items/1") == 0)
        #expect(match(router, host: "", path: "/itemz/1") == nil)
    }
}

@Suite("Host normalisation")
struct RouterHostNormalizerTests {
    @Test(
        "hosts",
        arguments: [
            ("api.example.com", "api.example.com"), ("API.Example.COM", "api.example.com"),
            ("api.example.com:8080", "api.example.com"), ("api.example.com.", "api.example.com"),
            ("Api.Example.com.:443", "api.example.com"), ("[::1]:8000", "[::1]"), ("[2001:DB8::1]", "[2001:db8::1]"),
            ("::1", "::1"), ("10.0.0.1:80", "10.0.0.1"), ("", ""),
        ])
    func normalize(raw: String, expected: String) {
        #expect(HostNormalizer.normalize(raw) == expected)
    }
}

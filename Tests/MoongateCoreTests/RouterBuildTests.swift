import MoongateCore
import Testing

@Suite("Router build")
struct RouterBuildTests {
    @Test("an invalid regex names the route index, name and path")
    func invalidRegex() {
        let routes = [
            RouteSpec(name: "fine", paths: ["/ok"]),
            RouteSpec(name: "broken", paths: ["/ok", "~^/v(\\d+"]),
        ]
        #expect {
            _ = try Router(routes: routes)
        } throws: { error in
            guard let error = error as? RouterBuildError else { return false }
            return error.routeIndex == 1 && error.routeName == "broken" && error.field == "match.paths[1]"
                && error.value == "~^/v(\\d+" && error.reason.contains("invalid regular expression")
                && error.description.hasPrefix("routes[1] (broken): match.paths[1] '~^/v(\\d+': ")
        }
    }

    @Test(
        "invalid paths and hosts are refused with the field at fault",
        arguments: [
            (RouteSpec(name: "r", paths: ["~"]), "match.paths[0]"),
            (RouteSpec(name: "r", paths: ["orders"]), "match.paths[0]"),
            (RouteSpec(name: "r", paths: ["/a", "=/bad%zz"]), "match.paths[1]"),
            (RouteSpec(name: "r", hosts: ["*"]), "match.hosts[0]"),
            (RouteSpec(name: "r", hosts: ["a.com", "*example.org"]), "match.hosts[1]"),
            (RouteSpec(name: "r", hosts: ["a.*.example.org"]), "match.hosts[0]"),
            (RouteSpec(name: "r", hosts: [""]), "match.hosts[0]"),
        ])
    func invalidPattern(route: RouteSpec, field: String) {
        #expect {
            _ = try Router(routes: [RouteSpec(name: "first"), route])
        } throws: { error in
            guard let error = error as? RouterBuildError else { return false }
            return error.routeIndex == 1 && error.field == field
        }
    }

    @Test("configured paths are normalised like request paths")
    func normalisedPatterns() throws {
        let router = try Router(routes: [
            RouteSpec(name: "prefix", paths: ["/a/./b//c"]),
            RouteSpec(name: "exact", paths: ["=/%7euser"]),
        ])
        #expect(router.match(host: "", path: "/a/b/c/d", method: "GET", header: { _ in nil })
            == RouteMatch(routeIndex: 0, matchedPrefix: "/a/b/c"))
        #expect(router.match(host: "", path: "/~user", method: "GET", header: { _ in nil })
            == RouteMatch(routeIndex: 1, matchedPrefix: nil))
    }

    @Test("configured hosts are normalised like request hosts")
    func normalisedHosts() throws {
        let router = try Router(routes: [
            RouteSpec(name: "exact", hosts: ["API.Example.com."]),
            RouteSpec(name: "wild", hosts: ["*.Example.ORG"]),
        ])
        #expect(router.match(host: "api.example.com", path: "/", method: "GET", header: { _ in nil })?.routeIndex == 0)
        #expect(router.match(host: "x.example.org", path: "/", method: "GET", header: { _ in nil })?.routeIndex == 1)
    }
}

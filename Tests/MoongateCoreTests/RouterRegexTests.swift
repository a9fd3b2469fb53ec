import MoongateCore
import Testing

/// The router skips a regex when a literal read from the pattern is missing from the
/// path; these tests hold it to Swift's `Regex` itself, so that the pre-check can never
/// make a matching route unreachable.
@Suite("Router regex paths")
struct RouterRegexTests {
    static let patterns = [
        "^/v[0-9]+/svc1/items/[0-9]+$", "^/a\\.b", "^/ab?c", "^/ab*c", "^/ab{0,2}c", "^/ab+c", "^/ab+?c", "^/a{2}b",
        "^/(x|y)/z", "/orders/[0-9]+$", "^/\\d+/x", "(?i)^/ADMIN", "^/a|^/b", "^/[\\]a]/x", "^/a\\/b", "^/a.c",
        "^/items/(?<id>[0-9]+)$", "^/x\\b", "^/foo(bar)?/baz", "^\\/api", "items", "^/a[/]b", "^/a\\-c$",
    ]
    static let paths = [
        "/v1/svc1/items/2", "/v1/svc1/items/x", "/a.b", "/axb", "/ac", "/abc", "/abbc", "/abbbc", "/x/z", "/y/z",
        "/orders/12", "/12/x", "/admin", "/ADMIN/x", "/b", "/]/x", "/a/x", "/a/b", "/a-c", "/items/5", "/x", "/x/y",
        "/aab", "/ab", "/foo/baz", "/foobar/baz", "/api/x", "/shop/items", "/",
    ]

    @Test("a regex route matches exactly when the regex finds a match", arguments: patterns)
    func agreesWithRegex(pattern: String) throws {
        let router = try Router(routes: [RouteSpec(name: "regex", paths: ["~" + pattern])])
        let regex = try Regex(pattern)
        for path in RouterRegexTests.paths {
            let routed = router.match(host: "", path: path, method: "GET", header: { _ in nil }) != nil
            #expect(routed == path.contains(regex), "\(pattern) on \(path)")
        }
    }

    @Test("one router serves concurrent lookups")
    func concurrentLookups() async throws {
        let router = try Router(routes: (0..<50).map { RouteSpec(name: "r\($0)", paths: ["~^/v[0-9]+/svc\($0)/items$"]) })
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    (0..<500).reduce(0) { count, lookup in
                        let index = (lookup + worker) % 50
                        let match = router.match(host: "", path: "/v2/svc\(index)/items", method: "GET", header: { _ in nil })
                        return count + (match?.routeIndex == index ? 0 : 1)
                    }
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}

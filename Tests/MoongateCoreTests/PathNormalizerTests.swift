import MoongateCore
import Testing

@Suite("Path normalisation")
struct PathNormalizerTests {
    @Test(
        "valid paths",
        arguments: [
            ("/", "/"), ("/orders/1", "/orders/1"), ("/orders/", "/orders/"),
            // Dot segments (RFC 3986 §5.2.4).
            ("/a/./b", "/a/b"), ("/a/b/../c", "/a/c"), ("/a/b/..", "/a/"), ("/a/.", "/a/"), ("/..", "/"),
            ("/../../a", "/a"), ("/a/..b/.c", "/a/..b/.c"), ("/a/...", "/a/..."), ("/.well-known/x", "/.well-known/x"),
            // Empty segments merge.
            ("//", "/"), ("/a//b", "/a/b"), ("/a///b//", "/a/b/"), ("//a/../b", "/b"),
            // Encoded dots are decoded before dot segments are removed.
            ("/a/%2e%2e/b", "/b"), ("/a/%2E/b", "/a/b"), ("/a/.%2e/b", "/b"), ("/%2e%2e/%2e%2e/etc", "/etc"),
            // Unreserved characters decode; other encodings stay, uppercased.
            ("/%41%62%7e%2D%5f", "/Ab~-_"), ("/a%2fb", "/a%2Fb"), ("/a%2F..%2Fb", "/a%2F..%2Fb"),
            ("/%3a%40", "/%3A%40"), ("/%00", "/%00"), ("/caf%c3%a9", "/caf%C3%A9"),
            // Reserved characters stay raw; characters not allowed raw are encoded.
            ("/a;b=c,d:e@f!$&'()*+", "/a;b=c,d:e@f!$&'()*+"), ("/a b", "/a%20b"), ("/café", "/caf%C3%A9"),
            ("/a\\b", "/a%5Cb"), ("/{x}|y", "/%7Bx%7D%7Cy"),
        ])
    func valid(raw: String, expected: String) {
        #expect(PathNormalizer.normalize(raw) == expected)
    }

    @Test(
        "invalid paths",
        arguments: ["", "orders", "*", "http://x/a", "/a%", "/a%2", "/a%zz", "/a%2g", "/a\u{0}b", "/a\tb", "/a\nb", "/a\u{7F}"])
    func invalid(raw: String) {
        #expect(PathNormalizer.normalize(raw) == nil)
    }

    @Test("substrings normalise like strings")
    func substring() {
        let target = "/a/../b?x=1"
        #expect(PathNormalizer.normalize(target.prefix(while: { $0 != "?" })) == "/b")
    }

    @Test("normalising is idempotent", arguments: ["/a/%2e%2e/b", "/caf%c3%a9/./x//", "/a b/%7e", "/%2F/..", "/x/%2e"])
    func idempotent(raw: String) throws {
        let once = try #require(PathNormalizer.normalize(raw))
        #expect(PathNormalizer.normalize(once) == once)
    }
}

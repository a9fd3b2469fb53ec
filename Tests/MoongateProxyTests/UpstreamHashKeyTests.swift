import MoongateCore
import NIOHTTP1
import Testing

@testable import MoongateProxy

/// What `consistent-hash` hashes for each `hash_on`, and the fallback to the client address.
@Suite("Upstream hash key")
struct UpstreamHashKeyTests {
    let headers: HTTPHeaders = ["X-User": "alice", "Cookie": "theme=dark; session=abc123", "cookie": "late=1"]

    func key(_ hashOn: HashKey, query: String? = "user=bob&flag&empty=", ip: String = "10.0.0.1") -> UInt64 {
        UpstreamHashKey.value(for: hashOn, headers: headers, path: "/orders/7", rawQuery: query, clientIP: ip)
    }

    @Test("each source hashes its own value")
    func sources() {
        #expect(key(.ip) == RequestHash.hash("10.0.0.1".utf8))
        #expect(key(.path) == RequestHash.hash("/orders/7".utf8))
        #expect(key(.header("x-user")) == RequestHash.hash("alice".utf8))
        #expect(key(.cookie("session")) == RequestHash.hash("abc123".utf8))
        #expect(key(.cookie("late")) == RequestHash.hash("1".utf8))
        #expect(key(.queryArgument("user")) == RequestHash.hash("bob".utf8))
        #expect(key(.queryArgument("flag")) == RequestHash.hash("".utf8))
    }

    @Test("a missing header, cookie or argument falls back to the client address")
    func fallback() {
        let ip = RequestHash.hash("10.0.0.1".utf8)
        #expect(key(.header("x-missing")) == ip)
        #expect(key(.cookie("sess")) == ip)  // a prefix of a name is not the name
        #expect(key(.queryArgument("use")) == ip)
        #expect(key(.queryArgument("user"), query: nil) == ip)
    }
}

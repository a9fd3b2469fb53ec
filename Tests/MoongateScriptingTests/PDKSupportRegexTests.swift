import MoongateScripting
import Testing

@Suite struct PDKSupportRegexTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    private func gsubText(_ subject: String, _ pattern: String, _ replacement: String) -> (String, Int)? {
        guard case .success(let outcome) = PDKRegex.gsub(bytes(subject), pattern, bytes(replacement), cache: RegexCache()) else { return nil }
        return (String(decoding: outcome.result, as: UTF8.self), outcome.count)
    }

    private func errorMessage<T>(_ result: Result<T, PDKRegexError>) -> String? {
        guard case .failure(let error) = result else { return nil }
        return error.message
    }

    @Test func matchReturnsCapturesByIndex() throws {
        let captures = try #require(try PDKRegex.match(bytes("GET /v2/orders/42"), #"/v(\d+)/orders/(\d+)"#).get())
        #expect(captures.count == 3)
        #expect(text(captures[0] ?? nil) == "/v2/orders/42")
        #expect(text(captures[1] ?? nil) == "2")
        #expect(text(captures[2] ?? nil) == "42")
    }

    @Test func groupsThatDidNotTakePartAreNil() throws {
        let captures = try #require(try PDKRegex.match(bytes("b"), "(a)|(b)").get())
        #expect(captures.count == 3)
        #expect(captures[1] == .some(nil))
        #expect(captures[2] == .some(bytes("b")))
    }

    @Test func noMatchIsNil() throws {
        #expect(try PDKRegex.match(bytes("abc"), #"\d"#).get() == nil)
        #expect(try PDKRegex.find(bytes("abc"), #"\d"#).get() == nil)
    }

    @Test func findGivesOneBasedInclusiveByteOffsets() throws {
        let subject = bytes("héllo wörld")
        #expect(try PDKRegex.find(subject, "w").get().map { [$0.from, $0.to] } == [8, 8])
        #expect(try PDKRegex.find(subject, "wörld").get().map { [$0.from, $0.to] } == [8, 13])
        #expect(try PDKRegex.find(subject, "é").get().map { [$0.from, $0.to] } == [2, 3])
        #expect(try PDKRegex.find(subject, "l+").get().map { [$0.from, $0.to] } == [4, 5])
        #expect(try PDKRegex.find(bytes("abc"), "").get().map { [$0.from, $0.to] } == [1, 0])
        #expect(try PDKRegex.find(bytes("abc"), "$").get().map { [$0.from, $0.to] } == [4, 3])
    }

    @Test func matchesUnicodeScalarsNotGraphemeClusters() throws {
        #expect(try PDKRegex.find(bytes("a\r\nb"), "\n").get().map { [$0.from, $0.to] } == [3, 3])
        // "e" followed by a combining acute accent: two scalars, one Character.
        #expect(try PDKRegex.find(bytes("cafe\u{301}"), "e").get().map { [$0.from, $0.to] } == [4, 4])
        let captures = try #require(try PDKRegex.match(bytes("✓x"), "^(.)").get())
        #expect(captures[1] == .some(bytes("✓")))
    }

    @Test func subjectsThatAreNotUTF8KeepTheirBytesAndOffsets() throws {
        let subject: [UInt8] = [0x61, 0xFF, 0x62, 0x63, 0xE2, 0x82, 0x64]
        #expect(try PDKRegex.find(subject, "bc").get().map { [$0.from, $0.to] } == [3, 4])
        #expect(try PDKRegex.find(subject, "d").get().map { [$0.from, $0.to] } == [7, 7])
        let captures = try #require(try PDKRegex.match(subject, "a(.)b").get())
        #expect(captures[1] == .some([0xFF]))
        let replaced = try PDKRegex.gsub(subject, "[bd]", bytes("_")).get()
        #expect(replaced.result == [0x61, 0xFF, 0x5F, 0x63, 0xE2, 0x82, 0x5F])
        #expect(replaced.count == 2)
    }

    @Test func gsubReplacesEveryMatch() {
        #expect(gsubText("a1b22c333", #"\d+"#, "#")! == ("a#b#c#", 3))
        #expect(gsubText("no digits", #"\d"#, "#")! == ("no digits", 0))
        #expect(gsubText("", "x", "y")! == ("", 0))
        #expect(gsubText("aaa", "a", "")! == ("", 3))
    }

    @Test func gsubExpandsCaptureReferences() {
        #expect(gsubText("john smith, ada lovelace", #"(\w+) (\w+)"#, "$2 $1")! == ("smith john, lovelace ada", 2))
        #expect(gsubText("price: 10", #"\d+"#, "$$$0.00")! == ("price: $10.00", 1))
        #expect(gsubText("ab", "(x)?(a)", "[$1|$2]")! == ("[|a]b", 1))
        #expect(gsubText("héllo", "(é)", "<$1$1>")! == ("h<éé>llo", 1))
    }

    @Test func gsubWithEmptyMatchesAdvancesByScalar() {
        #expect(gsubText("aé", "", "-")! == ("-a-é-", 3))
        #expect(gsubText("abc", "x*", "-")! == ("-a-b-c-", 4))
    }

    @Test func gsubRefusesMalformedReplacements() {
        #expect(errorMessage(PDKRegex.gsub(bytes("abc"), "b", bytes("$x")))
            == "invalid replacement '$x': '$' at byte 1 must be followed by a digit or '$' (write '$$' for a literal '$')")
        #expect(errorMessage(PDKRegex.gsub(bytes("abc"), "b", bytes("cost $"))) != nil)
        #expect(errorMessage(PDKRegex.gsub(bytes("abc"), "(b)", bytes("$2"))) == "invalid replacement '$2': regex '(b)' has no capture $2")
    }

    @Test func invalidPatternsNameThePattern() {
        let message = errorMessage(PDKRegex.match(bytes("abc"), "("))
        #expect(message?.hasPrefix("invalid regex '(': ") == true)
        #expect(errorMessage(PDKRegex.find(bytes("abc"), "[a-")) ?? "" != "")
        #expect(errorMessage(PDKRegex.gsub(bytes("abc"), "a{2,1}", bytes("x")))?.hasPrefix("invalid regex 'a{2,1}'") == true)
    }

    @Test func theCacheReusesCompiledPatterns() throws {
        let cache = RegexCache()
        let first = try cache.compiled("^/v(\\d+)/").get()
        let second = try cache.compiled("^/v(\\d+)/").get()
        #expect(first === second)
        #expect(first.pattern == "^/v(\\d+)/")
        _ = PDKRegex.find(bytes("/v1/"), "^/v(\\d+)/", cache: cache)
        #expect(cache.count == 1)
    }

    @Test func theCacheKeepsCompileErrors() {
        let cache = RegexCache()
        let first = cache.compiled("(")
        let second = cache.compiled("(")
        #expect(errorMessage(first)?.hasPrefix("invalid regex '('") == true)
        #expect(errorMessage(first) == errorMessage(second))
        #expect(cache.count == 1)
    }

    @Test func theCacheStaysWithinItsCapacity() throws {
        let cache = RegexCache(capacity: 3)
        for index in 0..<10 { _ = cache.compiled("a{\(index)}") }
        #expect(cache.count == 3)
        let latest = try cache.compiled("a{9}").get()
        #expect(try cache.compiled("a{9}").get() === latest)
    }

    @Test func theCacheIsSharedAcrossThreads() async {
        let cache = RegexCache(capacity: 8)
        let found = await withTaskGroup(of: Int.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let pattern = "item-(\\d)\(index % 12)"
                    let subject = Array("list item-\(index % 10)\(index % 12) end".utf8)
                    guard case .success(let range?) = PDKRegex.find(subject, pattern, cache: cache) else { return 0 }
                    return range.from == 6 ? 1 : 0
                }
            }
            return await group.reduce(0, +)
        }
        #expect(found == 64)
        #expect(cache.count <= 8)
    }
}

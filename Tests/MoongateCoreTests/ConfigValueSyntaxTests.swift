import Testing

@testable import MoongateCore

/// Value syntax of SPEC §2: durations, sizes, addresses, hash keys.
@Suite("Config: value syntax")
struct ConfigValueSyntaxTests {
    @Test(
        "durations",
        arguments: [
            ("250ms", Duration.milliseconds(250)), ("2s", .seconds(2)), ("1m", .seconds(60)), ("1h", .seconds(3600)),
            ("0s", .zero), ("90s", .seconds(90)), ("1500ms", .milliseconds(1500)),
        ])
    func duration(text: String, expected: Duration) {
        #expect(ConfigDuration.parse(text) == expected)
    }

    @Test("invalid durations", arguments: ["2", "2 s", "1.5s", "-1s", "s", "2sec", "", "1d", "2S", "1m30s", "9999999999999h"])
    func invalidDuration(text: String) {
        #expect(ConfigDuration.parse(text) == nil)
    }

    @Test(
        "sizes are 1024-based",
        arguments: [
            ("512", 512), ("0", 0), ("32k", 32 * 1024), ("32K", 32 * 1024), ("10m", 10 * 1024 * 1024), ("64M", 64 << 20),
            ("1g", 1 << 30),
        ])
    func size(text: String, expected: Int) {
        #expect(ConfigByteSize.parse(text) == expected)
    }

    @Test("invalid sizes", arguments: ["10x", "k", "1.5m", "-1k", "10mb", "", " 1k", "99999999999999999g"])
    func invalidSize(text: String) {
        #expect(ConfigByteSize.parse(text) == nil)
    }

    @Test("a size may be a YAML integer of bytes")
    func integerSize() throws {
        let document = try ConfigLoader.parse(
            yaml: "proxy:\n  limits: { max_body_bytes: 1048576, max_header_bytes: \"16k\" }", file: "m.yaml")
        #expect(document.proxy.model?.limits.maxBodyBytes == 1 << 20)
        #expect(document.proxy.model?.limits.maxHeaderBytes == 16 << 10)
    }

    @Test(
        "host:port addresses",
        arguments: [
            ("127.0.0.1:9001", "127.0.0.1", 9001), ("[::1]:8000", "::1", 8000), ("orders.internal:80", "orders.internal", 80),
            ("localhost:1", "localhost", 1), ("[2001:db8::5]:65535", "2001:db8::5", 65535),
            ("_http._tcp.example.org:443", "_http._tcp.example.org", 443),
        ])
    func hostPort(text: String, host: String, port: Int) throws {
        let address = try HostPort.parse(text).get()
        #expect(address == HostPort(host: host, port: port))
        #expect(address.description == text)
    }

    @Test(
        "invalid host:port addresses",
        arguments: [
            "127.0.0.1", ":80", "host:0", "host:65536", "host:8o", "::1:80", "[::1]", "[::1:80", "[nothost]:80", "a b:80",
            "300.1.1.1:80", "-a.b:80",
        ])
    func invalidHostPort(text: String) {
        #expect(throws: ConfigSyntaxError.self) { try HostPort.parse(text).get() }
    }

    @Test(
        "loopback addresses",
        arguments: [
            ("127.0.0.1:1", true), ("127.1.2.3:1", true), ("[::1]:1", true), ("localhost:1", true), ("0.0.0.0:1", false),
            ("10.0.0.1:1", false), ("[::]:1", false),
        ])
    func loopback(text: String, expected: Bool) throws {
        #expect(try HostPort.parse(text).get().isLoopback == expected)
    }

    @Test(
        "hash_on",
        arguments: [
            ("ip", HashKey.ip), ("path", .path), ("header:X-User-Id", .header("x-user-id")),
            ("cookie:session", .cookie("session")),
            ("query:user", .queryArgument("user")),
        ])
    func hashKey(text: String, expected: HashKey) throws {
        #expect(try HashKey.parse(text).get() == expected)
    }

    @Test("invalid hash_on", arguments: ["client", "header:", "cookie:a b", "body:x", "query:"])
    func invalidHashKey(text: String) {
        #expect(throws: ConfigSyntaxError.self) { try HashKey.parse(text).get() }
    }

    @Test("YAML booleans, numbers and quoted strings keep their types in free-form config")
    func freeFormTypes() throws {
        let document = try ConfigLoader.parse(
            yaml: "plugins:\n  - name: p\n    config: { a: true, b: 2, c: 2.5, d: \"2\", e: ~, f: [x] }", file: "m.yaml")
        #expect(
            document.plugins.first?.model?.config == [
                "a": .bool(true), "b": .int(2), "c": .double(2.5), "d": .string("2"), "e": .null, "f": .list([.string("x")]),
            ])
    }

    @Test("issues print as FILE:LINE: PATH: MESSAGE, leaving out unknown parts")
    func issueFormat() {
        let full = ConfigIssue(
            object: .route("a"), source: ConfigSource(file: "m.yaml", line: 14, path: "routes[1].name"), message: "bad")
        #expect(full.description == "m.yaml:14: routes[1].name: bad")
        let noPath = ConfigIssue(object: .document, source: ConfigSource(file: "m.yaml", line: 3, path: ""), message: "bad")
        #expect(noPath.description == "m.yaml:3: bad")
        let noLine = ConfigIssue(object: .document, source: ConfigSource(file: "m.yaml", line: nil, path: ""), message: "bad")
        #expect(noLine.description == "m.yaml: bad")
    }
}

import Testing

@testable import MoongateCore

/// Each validation rule of `proxy`, `admin`, `scripts`, `plugins` and `consumers`:
/// the message names the field path and line.
@Suite("Config: proxy, admin, scripts, plugins and consumers rules")
struct ConfigSectionRuleTests {
    static let cases: [ConfigRuleCase] = [
        ConfigRuleCase(
            rule: "the resolver is an IP address", yaml: "proxy:\n  resolver: \"dns.internal:53\"",
            path: "proxy.resolver", line: 2, message: "the resolver is an 'ip:port' address", object: "proxy"),
        ConfigRuleCase(
            rule: "listen addresses have a port", yaml: "proxy:\n  listen: [\"0.0.0.0\"]",
            path: "proxy.listen[0]", line: 2, message: "expected 'host:port', found '0.0.0.0' (the port is missing)",
            object: "proxy"),
        ConfigRuleCase(
            rule: "listen is a list", yaml: "proxy:\n  listen: \"0.0.0.0:8000\"",
            path: "proxy.listen", line: 2, message: "expected a list, found '0.0.0.0:8000'", object: "proxy"),
        ConfigRuleCase(
            rule: "listen is not empty", yaml: "proxy:\n  listen: []",
            path: "proxy.listen", line: 2, message: "the list is empty; give at least one 'host:port' to listen on",
            object: "proxy"),
        ConfigRuleCase(
            rule: "workers is auto or a count", yaml: "proxy:\n  workers: many",
            path: "proxy.workers", line: 2, message: "expected 'auto' or a number of event loops, found 'many'", object: "proxy"),
        ConfigRuleCase(
            rule: "workers is at least 1", yaml: "proxy:\n  workers: 0",
            path: "proxy.workers", line: 2, message: "expected an integer from 1 to 1024, found 0", object: "proxy"),
        ConfigRuleCase(
            rule: "trusted proxies are CIDR blocks", yaml: "proxy:\n  trusted_proxies: [\"10.0.0.0/8\", \"10.0.0.0/33\"]",
            path: "proxy.trusted_proxies[1]", line: 2, message: "expected an IP address or CIDR block such as '10.0.0.0/8'",
            object: "proxy"),
        ConfigRuleCase(
            rule: "sizes take k, m or g", yaml: "proxy:\n  limits:\n    max_body_bytes: 10x",
            path: "proxy.limits.max_body_bytes", line: 3,
            message: "expected a number of bytes or a string like '32k', '10m' or '1g', found '10x'", object: "proxy"),
        ConfigRuleCase(
            rule: "size limits are positive", yaml: "proxy:\n  limits: { max_header_bytes: 0 }",
            path: "proxy.limits.max_header_bytes", line: 2, message: "expected a size greater than zero, found the number 0",
            object: "proxy"),
        ConfigRuleCase(
            rule: "timeouts are positive", yaml: "proxy:\n  limits: { header_timeout: 0s }",
            path: "proxy.limits.header_timeout", line: 2, message: "expected a duration greater than zero, found '0s'",
            object: "proxy"),
        ConfigRuleCase(
            rule: "drain_timeout has a unit", yaml: "proxy:\n  drain_timeout: 30",
            path: "proxy.drain_timeout", line: 2, message: "a duration needs a unit, e.g. '30s'", object: "proxy"),
        ConfigRuleCase(
            rule: "TLS listeners have certificates", yaml: "proxy:\n  tls:\n    listen: [\"0.0.0.0:8443\"]",
            path: "proxy.tls.certificates", line: 3, message: "missing; TLS listeners need at least one certificate",
            object: "proxy"),
        ConfigRuleCase(
            rule: "a certificate has a key", yaml: "proxy:\n  tls:\n    certificates:\n      - cert: api.pem",
            path: "proxy.tls.certificates[0].key", line: 4, message: "missing; the PEM private key of the certificate",
            object: "proxy"),
        ConfigRuleCase(
            rule: "proxy is a map", yaml: "proxy: [\"0.0.0.0:8000\"]",
            path: "proxy", line: 1, message: "expected a map with keys listen, workers, tls", object: "proxy"),
        ConfigRuleCase(
            rule: "an admin API beyond loopback needs a token", yaml: "admin:\n  listen: \"0.0.0.0:8001\"",
            path: "admin.listen", line: 2, message: "reachable from other machines; set admin.token_file", object: "admin"),
        ConfigRuleCase(
            rule: "script time slices are positive", yaml: "scripts:\n  limits: { slice: 0ms }",
            path: "scripts.limits.slice", line: 2, message: "expected a duration greater than zero, found '0ms'",
            object: "scripts"),
        ConfigRuleCase(
            rule: "scripts.watch is a boolean", yaml: "scripts:\n  watch: sometimes",
            path: "scripts.watch", line: 2, message: "expected true or false, found 'sometimes'", object: "scripts"),
        ConfigRuleCase(
            rule: "script paths are strings", yaml: "scripts:\n  paths: [./plugins, 7]",
            path: "scripts.paths[1]", line: 2, message: "expected a string, found the number 7", object: "scripts"),
        ConfigRuleCase(
            rule: "plugin names are file names without dots", yaml: "plugins:\n  - name: key.auth",
            path: "plugins[0].name", line: 2, message: "plugin name 'key.auth' may contain only letters, digits, '_' and '-'",
            object: "plugin key.auth"),
        ConfigRuleCase(
            rule: "plugin config is a map", yaml: "plugins:\n  - name: key-auth\n    config: [apikey]",
            path: "plugins[0].config", line: 3, message: "expected a map, found a list", object: "plugin key-auth"),
        ConfigRuleCase(
            rule: "global plugins are configured once", yaml: "plugins:\n  - name: cors\n  - name: cors",
            path: "plugins[1].name", line: 3, message: "plugin 'cors' is already used by plugins[0] (line 2)",
            object: "plugin cors"),
        ConfigRuleCase(
            rule: "usernames are unique", yaml: "consumers:\n  - username: alice\n  - username: alice",
            path: "consumers[1].username", line: 3, message: "username 'alice' is already used by consumers[0] (line 2)",
            object: "consumer alice"),
        ConfigRuleCase(
            rule: "credentials are maps", yaml: "consumers:\n  - username: alice\n    credentials: { key-auth: [secret] }",
            path: "consumers[0].credentials.key-auth[0]", line: 3, message: "expected a map, found 'secret'",
            object: "consumer alice"),
        ConfigRuleCase(
            rule: "a consumer has a username", yaml: "consumers:\n  - groups: [gold]",
            path: "consumers[0].username", line: 2, message: "missing; every consumer needs a unique username",
            object: "consumer (unnamed)"),
    ]

    @Test("rule", arguments: cases)
    func rule(_ rule: ConfigRuleCase) throws {
        try expectRule(rule)
    }

    @Test("an empty document means the defaults: listen 0.0.0.0:8000, 32k/10m/10s/60s limits, drain 30s, no admin API")
    func defaults() throws {
        let document = try ConfigLoader.parse(yaml: "", file: "moongate.yaml")
        #expect(document.proxy.model == ProxyConfig())
        #expect(document.admin == nil)
        #expect(document.scripts.model == ScriptsConfig())
        let outcome = ConfigCompiler.compile(document, previous: nil)
        #expect(outcome.rejected.isEmpty)
        #expect(
            outcome.runtime.proxy
                == ProxySettings(
                    listen: ["0.0.0.0:8000"], workers: nil, trustedProxies: [],
                    limits: ProxyLimits(
                        maxHeaderBytes: 32 * 1024, maxBodyBytes: 10 * 1024 * 1024, headerTimeout: .seconds(10),
                        idleTimeout: .seconds(60)),
                    drainTimeout: .seconds(30)))
        #expect(outcome.runtime.routes.isEmpty && outcome.runtime.upstreams.isEmpty)
    }

    @Test("an admin API on loopback needs no token; its listen defaults to 127.0.0.1:8001")
    func adminLoopback() throws {
        let document = try ConfigLoader.parse(yaml: "admin:\n  listen: \"[::1]:9001\"", file: "moongate.yaml")
        #expect(document.admin?.model == AdminConfig(listen: "[::1]:9001"))
        let defaults = try ConfigLoader.parse(yaml: "admin: { token_file: token }", file: "conf/moongate.yaml")
        #expect(defaults.admin?.model == AdminConfig(listen: "127.0.0.1:8001", tokenFile: "conf/token"))
    }
}

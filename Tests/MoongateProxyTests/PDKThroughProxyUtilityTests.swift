import Foundation
import HTTPTestSupport
import Testing

/// The request-free `gate` functions on real sockets: JSON, base64, digests, JWT,
/// regexes, time, identifiers and logging, checked against known vectors. The JWT
/// comes from the client, so the plugin verifies a token it did not make.
@Suite struct PDKThroughProxyUtilityTests {
    static let config = """
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        routes:
          - { name: utilities, match: { paths: ["/utilities"] }, upstream: origin, plugins: [{ name: utilities }] }
        """

    /// jwt.io's HS256 example, signed with `your-256-bit-secret`.
    static let exampleToken =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
        + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

    static let scripts = [
        "utilities.lua": #"""
        -- Request-free functions work while the file loads, too.
        local empty_digest = gate.crypto.to_hex(gate.crypto.sha256(""))

        local function b64url_json(value) return gate.base64.encode(gate.json.encode(value), true) end

        return {
          priority = 1000,
          access = function(conf)
            local report = { empty_digest = empty_digest }

            local decoded = gate.json.decode('{"n":null,"arr":[1,2,3],"s":"x","o":{"k":true}}')
            report.json_roundtrip = gate.json.encode({ a = 1 })
            report.json_null_is_nil = decoded.n == nil
            report.json_array_length = #decoded.arr
            report.json_nested = decoded.o.k
            report.json_empty = gate.json.encode({})
            local bad, bad_error = gate.json.decode("not json")
            report.json_bad = bad == nil and type(bad_error) == "string"
            local unencodable, unencodable_error = gate.json.encode({ f = print or function() end })
            report.json_unencodable = unencodable == nil and type(unencodable_error) == "string"

            report.b64 = gate.base64.encode("hello?>")
            report.b64_url = gate.base64.encode("hello?>", true)
            report.b64_back = gate.base64.decode("aGVsbG8/Pg==")
            report.b64_url_back = gate.base64.decode("aGVsbG8_Pg", true)
            report.b64_bad_is_nil = gate.base64.decode("!!!") == nil

            report.sha256 = gate.crypto.to_hex(gate.crypto.sha256("abc"))
            report.hmac = gate.crypto.to_hex(gate.crypto.hmac_sha256("key", "The quick brown fox jumps over the lazy dog"))
            local random_a, random_b = gate.crypto.random_bytes(16), gate.crypto.random_bytes(16)
            report.random_length = #random_a
            report.random_differs = random_a ~= random_b

            local token = gate.request.get_header("Authorization"):match("^Bearer (.+)$")
            local header, claims = gate.jwt.decode(token)
            report.jwt_alg = header.alg
            report.jwt_name = claims.name
            local verified = gate.jwt.verify(token, "your-256-bit-secret", { "HS256" })
            report.jwt_sub = verified and verified.sub
            local forged, forged_error = gate.jwt.verify(token, "wrong-secret", { "HS256" })
            report.jwt_wrong_secret = forged == nil and forged_error
            local other_alg, other_alg_error = gate.jwt.verify(token, "your-256-bit-secret", { "HS512" })
            report.jwt_wrong_alg = other_alg == nil and other_alg_error
            local signing_input = b64url_json({ alg = "HS256", typ = "JWT" }) .. "." .. b64url_json({ sub = "made-in-lua" })
            local own = signing_input .. "." .. gate.base64.encode(gate.crypto.hmac_sha256("lua-secret", signing_input), true)
            local own_claims = gate.jwt.verify(own, "lua-secret", "HS256")
            report.jwt_own = own_claims and own_claims.sub

            local captures = gate.re.match("order-42-x", [[(\d+)-(y)?]])
            report.re_whole, report.re_group, report.re_missing_group = captures[0], captures[1], captures[2]
            report.re_no_match = gate.re.match("abc", [[\d]]) == nil
            local from, to = gate.re.find("hello world", "wor")
            report.re_find = from .. "-" .. to
            local replaced, count = gate.re.gsub("a1b22", [[\d+]], "<$0>")
            report.re_gsub = replaced .. "/" .. count
            local broken, broken_error = gate.re.match("x", "(")
            report.re_bad = broken == nil and type(broken_error) == "string"

            report.now = gate.now()
            report.uuid, report.uuid_other = gate.uuid(), gate.uuid()
            report.node = gate.node.get_id()

            gate.log.debug("debug", 1, nil, { x = 1 })
            gate.log.info("info", true)
            gate.log.warn("warn", 2.5)
            gate.log.err("err")
            gate.log.info()
            return gate.response.exit(200, report)
          end,
        }
        """#
    ]

    @Test func utilitiesMatchKnownVectors() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let response = try gateway.client().request("GET", "/utilities", headers: ["Authorization": "Bearer \(Self.exampleToken)"])
            #expect(response.status == 200)
            let report = try response.pdkReport()
            #expect(report["empty_digest"] as? String == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

            #expect(report["json_roundtrip"] as? String == #"{"a":1}"#)
            #expect(report["json_null_is_nil"] as? Bool == true)
            #expect(report["json_array_length"] as? Int == 3)
            #expect(report["json_nested"] as? Bool == true)
            #expect(report["json_empty"] as? String == "{}")
            #expect(report["json_bad"] as? Bool == true)
            #expect(report["json_unencodable"] as? Bool == true)

            #expect(report["b64"] as? String == "aGVsbG8/Pg==")
            #expect(report["b64_url"] as? String == "aGVsbG8_Pg")
            #expect(report["b64_back"] as? String == "hello?>")
            #expect(report["b64_url_back"] as? String == "hello?>")
            #expect(report["b64_bad_is_nil"] as? Bool == true)

            #expect(report["sha256"] as? String == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            #expect(report["hmac"] as? String == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
            #expect(report["random_length"] as? Int == 16)
            #expect(report["random_differs"] as? Bool == true)

            #expect(report["jwt_alg"] as? String == "HS256")
            #expect(report["jwt_name"] as? String == "John Doe")
            #expect(report["jwt_sub"] as? String == "1234567890")
            #expect((report["jwt_wrong_secret"] as? String)?.isEmpty == false)
            #expect((report["jwt_wrong_alg"] as? String)?.isEmpty == false)
            #expect(report["jwt_own"] as? String == "made-in-lua")

            #expect(report["re_whole"] as? String == "42-")
            #expect(report["re_group"] as? String == "42")
            #expect(report["re_missing_group"] as? Bool == false)
            #expect(report["re_no_match"] as? Bool == true)
            #expect(report["re_find"] as? String == "7-9")
            #expect(report["re_gsub"] as? String == "a<1>b<22>/2")
            #expect(report["re_bad"] as? Bool == true)

            let now = report["now"] as? Double ?? 0
            #expect(abs(now - Date().timeIntervalSince1970) < 300)
            let uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
            let uuid = report["uuid"] as? String ?? ""
            #expect(uuid.wholeMatch(of: uuidV4) != nil)
            #expect(report["uuid_other"] as? String != uuid)
            #expect(report["node"] as? String == gateway.services.nodeID)
        }
    }

    @Test func nodeIDIsStableAcrossRequests() async throws {
        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts) { gateway in
            let client = try gateway.client()
            let headers = ["Authorization": "Bearer \(Self.exampleToken)"]
            let first = try client.request("GET", "/utilities", headers: headers).pdkReport()
            let second = try client.request("GET", "/utilities", headers: headers).pdkReport()
            #expect(first["node"] as? String == second["node"] as? String)
            #expect(first["uuid"] as? String != second["uuid"] as? String)
        }
    }
}

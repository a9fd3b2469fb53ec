import Crypto
import LuaKit
import MoongateScripting
import Testing
import _CryptoExtras

/// Generating an RSA key takes a moment; one serves every test.
private let rsaSigningKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

@Suite struct PDKSupportJWTTests {
    private let ecSigningKey = P256.Signing.PrivateKey()
    private let secret = Array("correct horse battery staple".utf8)
    private let claimsJSON = #"{"iss":"alice-iss","sub":"42","exp":1700000000,"admin":true}"#
    private let expectedClaims: LuaValue = ["iss": "alice-iss", "sub": "42", "exp": 1_700_000_000, "admin": true]

    private func part(_ json: String) -> [UInt8] { LuaBase64.encode(Array(json.utf8), urlSafe: true) }

    /// `header.payload.signature`, signing the first two parts with `sign`.
    private func token(header: String, claims: String, sign: ([UInt8]) -> [UInt8]) -> [UInt8] {
        let signingInput = part(header) + [UInt8(ascii: ".")] + part(claims)
        return signingInput + [UInt8(ascii: ".")] + LuaBase64.encode(sign(signingInput), urlSafe: true)
    }

    private func hmacToken<H: HashFunction>(_ hash: H.Type, alg: String, key: [UInt8]? = nil, claims: String? = nil) -> [UInt8] {
        token(header: #"{"alg":"\#(alg)","typ":"JWT"}"#, claims: claims ?? claimsJSON) { input in
            Array(HMAC<H>.authenticationCode(for: input, using: SymmetricKey(data: key ?? secret)))
        }
    }

    private func rs256Token(alg: String = "RS256") -> [UInt8] {
        token(header: #"{"alg":"\#(alg)"}"#, claims: claimsJSON) { input in
            let signature = try! rsaSigningKey.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5)
            return Array(signature.rawRepresentation)
        }
    }

    private func es256Token() -> [UInt8] {
        token(header: #"{"alg":"ES256"}"#, claims: claimsJSON) { input in
            Array(try! ecSigningKey.signature(for: input).rawRepresentation)
        }
    }

    private var rsaPublicPEM: [UInt8] { Array(rsaSigningKey.publicKey.pemRepresentation.utf8) }
    private var ecPublicPEM: [UInt8] { Array(ecSigningKey.publicKey.pemRepresentation.utf8) }

    /// `token` with its three parts replaced where given.
    private func replacing(_ token: [UInt8], header: [UInt8]? = nil, claims: [UInt8]? = nil, signature: [UInt8]? = nil) -> [UInt8] {
        let parts = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Array.init)
        return (header ?? parts[0]) + [UInt8(ascii: ".")] + (claims ?? parts[1]) + [UInt8(ascii: ".")] + (signature ?? parts[2])
    }

    private func verify(_ token: [UInt8], key: [UInt8], _ algorithms: [String]) -> Result<LuaValue, JWTError> {
        JWTVerifier.verify(token, key: key, algorithms: algorithms)
    }

    @Test func decodeReadsHeaderAndClaimsWithoutAKey() throws {
        let decoded = try JWTVerifier.decode(hmacToken(SHA256.self, alg: "HS256", key: Array("unknown".utf8))).get()
        #expect(decoded.header == ["alg": "HS256", "typ": "JWT"])
        #expect(decoded.claims == expectedClaims)
        #expect(decoded.claims["iss"]?.stringValue == "alice-iss")
    }

    @Test func verifiesHMACFamilies() {
        #expect(verify(hmacToken(SHA256.self, alg: "HS256"), key: secret, ["HS256"]) == .success(expectedClaims))
        #expect(verify(hmacToken(SHA384.self, alg: "HS384"), key: secret, ["HS256", "HS384"]) == .success(expectedClaims))
        #expect(verify(hmacToken(SHA512.self, alg: "HS512"), key: secret, ["HS512"]) == .success(expectedClaims))
    }

    @Test func refusesTamperedHMACTokens() {
        let good = hmacToken(SHA256.self, alg: "HS256")
        let otherClaims = replacing(good, claims: part(#"{"iss":"alice-iss","sub":"1","admin":true}"#))
        #expect(verify(otherClaims, key: secret, ["HS256"]) == .failure(.invalidSignature))
        let otherHeader = replacing(good, header: part(#"{"alg":"HS384","typ":"JWT"}"#))
        #expect(verify(otherHeader, key: secret, ["HS256", "HS384"]) == .failure(.invalidSignature))
        var flipped = good
        flipped[flipped.count - 3] = flipped[flipped.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(verify(flipped, key: secret, ["HS256"]) == .failure(.invalidSignature))
        #expect(verify(replacing(good, signature: []), key: secret, ["HS256"]) == .failure(.invalidSignature))
        #expect(verify(good, key: Array("wrong secret".utf8), ["HS256"]) == .failure(.invalidSignature))
    }

    @Test func theCallerChoosesTheAlgorithms() {
        let hs256 = hmacToken(SHA256.self, alg: "HS256")
        #expect(verify(hs256, key: secret, ["HS512"]) == .failure(.algorithmNotAllowed))
        #expect(verify(hs256, key: secret, []) == .failure(.algorithmNotAllowed))
        #expect(verify(hs256, key: secret, ["hs256"]) == .failure(.algorithmNotAllowed))
        let unsupported = hmacToken(SHA256.self, alg: "PS256")
        #expect(verify(unsupported, key: secret, ["PS256"]) == .failure(.algorithmNotAllowed))
    }

    @Test func algorithmNoneIsAlwaysRefused() throws {
        let unsigned = token(header: #"{"alg":"none"}"#, claims: claimsJSON) { _ in [] }
        #expect(verify(unsigned, key: secret, ["none"]) == .failure(.algorithmNotAllowed))
        #expect(verify(unsigned, key: [], ["none", "HS256"]) == .failure(.algorithmNotAllowed))
        #expect(try JWTVerifier.decode(unsigned).get().header == ["alg": "none"])
    }

    @Test func refusesUnusableHMACSecrets() {
        #expect(verify(hmacToken(SHA256.self, alg: "HS256", key: []), key: [], ["HS256"]) == .failure(.invalidKey))
        // RS256 -> HS256 confusion: the attacker signs with the public key as an HMAC secret.
        let forged = hmacToken(SHA256.self, alg: "HS256", key: rsaPublicPEM)
        #expect(verify(forged, key: rsaPublicPEM, ["RS256", "HS256"]) == .failure(.invalidKey))
    }

    @Test func verifiesRS256() {
        let good = rs256Token()
        #expect(verify(good, key: rsaPublicPEM, ["RS256"]) == .success(expectedClaims))
        let otherClaims = replacing(good, claims: part(#"{"iss":"mallory"}"#))
        #expect(verify(otherClaims, key: rsaPublicPEM, ["RS256"]) == .failure(.invalidSignature))
        #expect(verify(replacing(good, signature: Array("AAAA".utf8)), key: rsaPublicPEM, ["RS256"]) == .failure(.invalidSignature))
        let otherKey = Array(try! _RSA.Signing.PrivateKey(keySize: .bits2048).publicKey.pemRepresentation.utf8)
        #expect(verify(good, key: otherKey, ["RS256"]) == .failure(.invalidSignature))
    }

    @Test func rs256NeedsAnRSAPublicKey() {
        let good = rs256Token()
        #expect(verify(good, key: secret, ["RS256"]) == .failure(.invalidKey))
        #expect(verify(good, key: ecPublicPEM, ["RS256"]) == .failure(.invalidKey))
        #expect(verify(good, key: Array("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----".utf8), ["RS256"]) == .failure(.invalidKey))
    }

    /// swift-crypto before 4.x freed the key twice when a public key failed to parse,
    /// an abort that came one time in a few; a malformed key in a consumer's
    /// credentials must fail verification, again and again, never the process.
    @Test func malformedRSAKeysFailQuietlyEveryTime() {
        let good = rs256Token()
        let malformed = Array("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----".utf8)
        for _ in 0..<500 {
            #expect(verify(good, key: malformed, ["RS256"]) == .failure(.invalidKey))
        }
    }

    @Test func verifiesES256() {
        let good = es256Token()
        #expect(verify(good, key: ecPublicPEM, ["ES256"]) == .success(expectedClaims))
        let otherClaims = replacing(good, claims: part(#"{"iss":"mallory"}"#))
        #expect(verify(otherClaims, key: ecPublicPEM, ["ES256"]) == .failure(.invalidSignature))
        let otherKey = Array(P256.Signing.PrivateKey().publicKey.pemRepresentation.utf8)
        #expect(verify(good, key: otherKey, ["ES256"]) == .failure(.invalidSignature))
    }

    @Test func es256SignaturesAreRawNotDER() {
        let derSigned = token(header: #"{"alg":"ES256"}"#, claims: claimsJSON) { input in
            Array(try! ecSigningKey.signature(for: input).derRepresentation)
        }
        #expect(verify(derSigned, key: ecPublicPEM, ["ES256"]) == .failure(.invalidSignature))
    }

    @Test func es256NeedsAP256PublicKey() {
        let good = es256Token()
        #expect(verify(good, key: rsaPublicPEM, ["ES256"]) == .failure(.invalidKey))
        #expect(verify(good, key: secret, ["ES256"]) == .failure(.invalidKey))
        let p384 = Array(P384.Signing.PrivateKey().publicKey.pemRepresentation.utf8)
        #expect(verify(good, key: p384, ["ES256"]) == .failure(.invalidKey))
    }

    @Test func refusesMalformedTokens() {
        let good = hmacToken(SHA256.self, alg: "HS256")
        let parts = good.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Array.init)
        let dot = [UInt8(ascii: ".")]
        let malformed: [[UInt8]] = [
            [],
            Array("not a token".utf8),
            parts[0] + dot + parts[1],
            good + dot + parts[2],
            dot + parts[1] + dot + parts[2],
            parts[0] + dot + dot + parts[2],
            replacing(good, signature: Array("***".utf8)),
            replacing(good, header: Array("e30=x".utf8)),
            replacing(good, header: part("not json")),
            replacing(good, header: part(#"["alg","HS256"]"#)),
            replacing(good, claims: part(#""just a string""#)),
            replacing(good, header: part(#"{"typ":"JWT"}"#)),
            replacing(good, header: part(#"{"alg":256}"#)),
        ]
        for token in malformed {
            let text = String(decoding: token, as: UTF8.self)
            #expect(verify(token, key: secret, ["HS256"]) == .failure(.invalidToken), "accepted \(text)")
        }
        #expect(throws: JWTError.invalidToken) { try JWTVerifier.decode(parts[0] + dot + parts[1]).get() }
    }

    @Test func errorsAreShortMessages() {
        #expect([JWTError.invalidToken, .algorithmNotAllowed, .invalidSignature, .invalidKey].map(\.message)
            == ["invalid token", "algorithm not allowed", "invalid signature", "invalid key"])
    }
}

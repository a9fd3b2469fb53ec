import Crypto
import LuaKit
import _CryptoExtras

/// Reads and verifies compact JWS tokens (RFC 7515/7519) for `gate.jwt` and the jwt
/// plugin: HS256/HS384/HS512, RS256 (PKCS#1 v1.5) and ES256.
///
/// Only the signature and the algorithm are checked here; `exp` and `nbf` are left to
/// the caller, which knows which claims its configuration asks to verify (as Kong's jwt
/// plugin does with `claims_to_verify`).
public enum JWTVerifier {
    /// The header and claims of `token` without checking its signature: a plugin reads
    /// `iss` (or `kid`) from them to find the key, then calls `verify`.
    public static func decode(_ token: [UInt8]) -> Result<(header: LuaValue, claims: LuaValue), JWTError> {
        parse(token).map { ($0.header, $0.claims) }
    }

    /// The claims of `token` when its signature verifies with `key` under the header's
    /// `alg`, which must be one of `algorithms` (the caller pins the algorithm, so a
    /// token cannot choose a weaker one). `none` is refused whatever the list says.
    ///
    /// `key` is the shared secret for HS*, and a PEM `PUBLIC KEY` for RS256 (2048 bits
    /// or more) and ES256 (P-256).
    public static func verify(_ token: [UInt8], key: [UInt8], algorithms: [String]) -> Result<LuaValue, JWTError> {
        let parsed: ParsedToken
        switch parse(token) {
        case .success(let value): parsed = value
        case .failure(let error): return .failure(error)
        }
        guard let algorithm = parsed.header["alg"]?.stringValue else { return .failure(.invalidToken) }
        guard algorithm != "none", algorithms.contains(algorithm) else { return .failure(.algorithmNotAllowed) }
        let verification: Result<Bool, JWTError>
        switch algorithm {
        case "HS256": verification = verifyHMAC(SHA256.self, parsed, key: key)
        case "HS384": verification = verifyHMAC(SHA384.self, parsed, key: key)
        case "HS512": verification = verifyHMAC(SHA512.self, parsed, key: key)
        case "RS256": verification = verifyRS256(parsed, key: key)
        case "ES256": verification = verifyES256(parsed, key: key)
        default: return .failure(.algorithmNotAllowed)
        }
        switch verification {
        case .success(true): return .success(parsed.claims)
        case .success(false): return .failure(.invalidSignature)
        case .failure(let error): return .failure(error)
        }
    }

    /// A token split into its parts, header and claims decoded.
    private struct ParsedToken {
        var header: LuaValue
        var claims: LuaValue
        /// `BASE64URL(header) "." BASE64URL(payload)` exactly as received: the bytes signed.
        var signingInput: ArraySlice<UInt8>
        var signature: [UInt8]
    }

    private static func parse(_ token: [UInt8]) -> Result<ParsedToken, JWTError> {
        let parts = token.split(separator: UInt8(ascii: "."), maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
            let header = decodeJSONObject(parts[0]),
            let claims = decodeJSONObject(parts[1]),
            let signature = LuaBase64.decode(Array(parts[2]), urlSafe: true)
        else { return .failure(.invalidToken) }
        return .success(ParsedToken(header: header, claims: claims, signingInput: token[..<parts[1].endIndex], signature: signature))
    }

    private static func decodeJSONObject(_ part: ArraySlice<UInt8>) -> LuaValue? {
        guard let json = LuaBase64.decode(Array(part), urlSafe: true),
            case .success(let value) = LuaJSON.decode(json)
        else { return nil }
        // `{}` decodes as an empty map; a JSON array (even an empty one) is not a header.
        guard case .map = value else { return nil }
        return value
    }

    /// HMAC with a constant-time comparison. A secret that is a PEM document is refused:
    /// that is the RS256 -> HS256 confusion attack (signing with the public key as the
    /// secret), should a caller ever allow both families with one key.
    private static func verifyHMAC<H: HashFunction>(_: H.Type, _ token: ParsedToken, key: [UInt8]) -> Result<Bool, JWTError> {
        guard !key.isEmpty, !looksLikePEM(key) else { return .failure(.invalidKey) }
        let valid = HMAC<H>.isValidAuthenticationCode(token.signature, authenticating: token.signingInput, using: SymmetricKey(data: key))
        return .success(valid)
    }

    private static func verifyRS256(_ token: ParsedToken, key: [UInt8]) -> Result<Bool, JWTError> {
        guard let publicKey = try? _RSA.Signing.PublicKey(pemRepresentation: String(decoding: key, as: UTF8.self)) else {
            return .failure(.invalidKey)
        }
        let signature = _RSA.Signing.RSASignature(rawRepresentation: token.signature)
        return .success(publicKey.isValidSignature(signature, for: SHA256.hash(data: token.signingInput), padding: .insecurePKCS1v1_5))
    }

    private static func verifyES256(_ token: ParsedToken, key: [UInt8]) -> Result<Bool, JWTError> {
        guard let publicKey = try? P256.Signing.PublicKey(pemRepresentation: String(decoding: key, as: UTF8.self)) else {
            return .failure(.invalidKey)
        }
        // JWS carries r || s (RFC 7518 §3.4), not DER; any other length is simply wrong.
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: token.signature) else {
            return .success(false)
        }
        return .success(publicKey.isValidSignature(signature, for: SHA256.hash(data: token.signingInput)))
    }

    private static func looksLikePEM(_ key: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN".utf8)
        let trimmed = key.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        return trimmed.starts(with: marker)
    }
}

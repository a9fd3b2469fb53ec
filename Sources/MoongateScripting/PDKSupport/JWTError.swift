/// Why a JWT was refused. The messages are deliberately short and reveal nothing about
/// the key: a plugin can put them in a 401 body as they are.
public enum JWTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a compact JWS: wrong number of parts, bad base64url, header or claims not a
    /// JSON object, no `alg`.
    case invalidToken
    /// `alg` is `none`, not in the caller's list, or not one this verifier implements.
    case algorithmNotAllowed
    case invalidSignature
    /// The key does not fit the algorithm: not a PEM public key of the right type for
    /// RS256/ES256, or an empty or PEM-shaped secret for HMAC.
    case invalidKey

    public var message: String {
        switch self {
        case .invalidToken: "invalid token"
        case .algorithmNotAllowed: "algorithm not allowed"
        case .invalidSignature: "invalid signature"
        case .invalidKey: "invalid key"
        }
    }

    public var description: String { message }
}

/// `upstreams[].hash_on` (SPEC §2): what `consistent-hash` hashes, so the same client,
/// user or resource keeps reaching the same target.
public enum HashKey: Sendable, Equatable, CustomStringConvertible {
    /// The client address (after `trusted_proxies`).
    case ip
    case path
    /// A request header; the name is lowercase.
    case header(String)
    case cookie(String)
    case queryArgument(String)

    static let syntax = "'ip', 'path', 'header:NAME', 'cookie:NAME' or 'query:NAME'"

    public var description: String {
        switch self {
        case .ip: "ip"
        case .path: "path"
        case .header(let name): "header:\(name)"
        case .cookie(let name): "cookie:\(name)"
        case .queryArgument(let name): "query:\(name)"
        }
    }

    public static func parse(_ text: String) -> Result<HashKey, ConfigSyntaxError> {
        switch text {
        case "ip": return .success(.ip)
        case "path": return .success(.path)
        default: break
        }
        guard let colon = text.firstIndex(of: ":") else {
            return .failure(ConfigSyntaxError("expected \(syntax), found '\(text)'"))
        }
        let source = text[..<colon]
        let name = String(text[text.index(after: colon)...])
        // Cookie names are tokens too (RFC 6265 §4.1.1).
        guard HTTPToken.isValid(name) || (source == "query" && !name.isEmpty) else {
            return .failure(ConfigSyntaxError("'\(name)' after '\(source):' is not a valid name (in '\(text)')"))
        }
        switch source {
        case "header": return .success(.header(name.lowercased()))
        case "cookie": return .success(.cookie(name))
        case "query": return .success(.queryArgument(name))
        default: return .failure(ConfigSyntaxError("expected \(syntax), found '\(text)'"))
        }
    }
}

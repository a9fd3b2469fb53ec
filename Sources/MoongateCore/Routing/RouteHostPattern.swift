/// One entry of `routes[].match.hosts`: an exact name (`api.example.com`) or a
/// wildcard (`*.example.org`) that matches one or more labels before the suffix
/// (`a.example.org`, `a.b.example.org`), never the suffix itself.
enum RouteHostPattern: Equatable {
    case exact(String)
    /// The part after `*.`, normalised.
    case wildcard(suffix: String)

    /// The pattern, normalised like request hosts (`HostNormalizer`), or why it is invalid.
    static func parse(_ text: String) -> Result<RouteHostPattern, RouteHostPatternError> {
        guard text.hasPrefix("*") else {
            guard !text.utf8.contains(UInt8(ascii: "*")) else {
                return .failure(.init(reason: "'*' is allowed only as the whole first label, as in '*.example.org'"))
            }
            let host = HostNormalizer.normalize(text)
            guard !host.isEmpty else { return .failure(.init(reason: "empty host name")) }
            return .success(.exact(host))
        }
        guard text.hasPrefix("*.") else {
            return .failure(.init(reason: "a wildcard host must start with '*.', as in '*.example.org'"))
        }
        let suffix = HostNormalizer.normalize(text.dropFirst(2))
        guard !suffix.isEmpty, !suffix.utf8.contains(UInt8(ascii: "*")), !suffix.hasPrefix(".") else {
            return .failure(.init(reason: "expected a domain after '*.', as in '*.example.org'"))
        }
        return .success(.wildcard(suffix: suffix))
    }
}

/// Why a configured host pattern was refused.
struct RouteHostPatternError: Error, Equatable {
    let reason: String
}

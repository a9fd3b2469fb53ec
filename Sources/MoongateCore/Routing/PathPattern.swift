/// One entry of `routes[].match.paths` (SPEC §2): `/prefix` matches element-wise
/// (`/orders` matches `/orders` and `/orders/1`, not `/ordersx`), `=/exact` matches
/// only that path, `~regex` matches when the regular expression finds a match.
public enum PathPattern: Sendable, Equatable {
    case prefix(String)
    case exact(String)
    case regex(String)

    /// Parses a configured path; the error message says what is wrong.
    public static func parse(_ text: String) -> Result<PathPattern, PathPatternError> {
        if text.hasPrefix("~") {
            let source = String(text.dropFirst())
            guard !source.isEmpty else { return .failure(PathPatternError(message: "empty regular expression after '~'")) }
            do {
                _ = try Regex(source)
            } catch {
                return .failure(PathPatternError(message: "invalid regular expression '\(source)': \(error)"))
            }
            return .success(.regex(source))
        }
        let isExact = text.hasPrefix("=")
        let path = isExact ? String(text.dropFirst()) : text
        guard path.hasPrefix("/") else {
            return .failure(PathPatternError(message: "path '\(text)' must start with '/' (or '=/' for exact, '~' for a regex)"))
        }
        return .success(isExact ? .exact(path) : .prefix(path))
    }
}

public struct PathPatternError: Error, Equatable, Sendable {
    public let message: String
}

/// Duration syntax of the configuration (SPEC §2): a whole number followed by a unit,
/// `250ms`, `2s`, `1m`, `1h`. Bare numbers are refused by the reader because `30`
/// could mean seconds or milliseconds depending on which gateway a person came from.
public enum ConfigDuration {
    /// What the error messages show as valid examples.
    static let examples = "'250ms', '2s', '1m' or '1h'"

    public static func parse(_ text: String) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        // Twelve digits of hours still fit in Int64 seconds.
        guard !digits.isEmpty, digits.count <= 12, let amount = Int64(digits) else { return nil }
        switch text.dropFirst(digits.count) {
        case "ms": return .milliseconds(amount)
        case "s": return .seconds(amount)
        case "m": return .seconds(amount * 60)
        case "h": return .seconds(amount * 3600)
        default: return nil
        }
    }
}

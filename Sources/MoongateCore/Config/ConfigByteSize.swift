/// Size syntax of the configuration (SPEC §2): a whole number of bytes, or a string
/// with a 1024-based `k`, `m` or `g` suffix (`32k`, `10m`, either case).
public enum ConfigByteSize {
    static let examples = "a number of bytes or a string like '32k', '10m' or '1g'"

    public static func parse(_ text: String) -> Int? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 18, let amount = Int(digits) else { return nil }
        let multiplier: Int
        switch text.dropFirst(digits.count).lowercased() {
        case "": multiplier = 1
        case "k": multiplier = 1 << 10
        case "m": multiplier = 1 << 20
        case "g": multiplier = 1 << 30
        default: return nil
        }
        let (bytes, overflow) = amount.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }
}

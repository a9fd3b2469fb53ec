/// A `gate.re` pattern compiled once and shared by every request that uses it.
///
/// Matching uses Unicode-scalar semantics rather than Swift's default grapheme clusters:
/// PCRE in UTF mode (what `ngx.re` runs in Kong) treats `\r\n` as two characters and
/// `e` + combining accent as two, and plugin patterns ported from there expect that.
///
/// A class so the cache hands out one instance per pattern (identity shows reuse).
/// `@unchecked Sendable` because `Regex` does not declare it although it is immutable
/// once its program is lowered to the matching engine's form; that lowering is lazy (and
/// atomically published by the standard library), and `compile` forces it before the
/// instance is shared, so every thread only reads.
public final class CompiledRegex: @unchecked Sendable {
    public let pattern: String
    let regex: Regex<AnyRegexOutput>

    /// Compiles `pattern` (Swift Regex syntax, a superset of PCRE's common core).
    static func compile(_ pattern: String) -> Result<CompiledRegex, PDKRegexError> {
        do {
            let regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
            _ = "".firstMatch(of: regex)  // lowers the program now, see above
            return .success(CompiledRegex(pattern: pattern, regex: regex))
        } catch {
            return .failure(PDKRegexError("invalid regex '\(pattern)': \(error)"))
        }
    }

    private init(pattern: String, regex: Regex<AnyRegexOutput>) {
        self.pattern = pattern
        self.regex = regex
    }
}

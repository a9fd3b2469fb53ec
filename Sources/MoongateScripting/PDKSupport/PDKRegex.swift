/// `gate.re.match`, `gate.re.find` and `gate.re.gsub`: regular expressions over Lua byte
/// strings, with patterns compiled once through a `RegexCache`.
///
/// Positions are byte offsets, 1-based and inclusive as in Lua's `string.find`, even
/// when the subject holds multi-byte UTF-8 (Swift matches on Unicode scalars).
public enum PDKRegex {
    /// The first match of `pattern` in `subject`: capture index -> captured bytes, 0
    /// being the whole match and nil a group that did not take part; nil when nothing
    /// matches.
    public static func match(_ subject: [UInt8], _ pattern: String, cache: RegexCache = .shared) -> Result<[Int: [UInt8]?]?, PDKRegexError> {
        cache.compiled(pattern).map { compiled in
            let prepared = RegexSubject(subject)
            guard let found = prepared.text.firstMatch(of: compiled.regex) else { return nil }
            var captures: [Int: [UInt8]?] = [:]
            for (index, capture) in found.output.enumerated() {
                // updateValue, not subscript assignment: assigning a nil `[UInt8]?`
                // through the subscript would remove the key instead of storing nil.
                captures.updateValue(capture.range.map { prepared.bytes(in: $0) }, forKey: index)
            }
            return captures
        }
    }

    /// Where the first match of `pattern` lies in `subject`, as 1-based inclusive byte
    /// offsets (an empty match at byte n gives `(n, n - 1)`, like `string.find`); nil
    /// when nothing matches.
    public static func find(_ subject: [UInt8], _ pattern: String, cache: RegexCache = .shared) -> Result<(from: Int, to: Int)?, PDKRegexError> {
        cache.compiled(pattern).map { compiled in
            let prepared = RegexSubject(subject)
            guard let found = prepared.text.firstMatch(of: compiled.regex) else { return nil }
            let range = prepared.byteRange(of: found.range)
            return (range.lowerBound + 1, range.upperBound)
        }
    }

    /// `subject` with every non-overlapping match of `pattern` replaced by
    /// `replacement`, in which `$0`...`$9` stand for the captures (empty when a group did
    /// not take part) and `$$` for a `$`; also the number of replacements. A reference
    /// to a group the pattern does not have is an error once something matches.
    public static func gsub(
        _ subject: [UInt8], _ pattern: String, _ replacement: [UInt8], cache: RegexCache = .shared
    ) -> Result<(result: [UInt8], count: Int), PDKRegexError> {
        let compiled: CompiledRegex
        let template: ReplacementTemplate
        switch (cache.compiled(pattern), ReplacementTemplate.parse(replacement)) {
        case (.failure(let error), _), (_, .failure(let error)): return .failure(error)
        case (.success(let regex), .success(let parsed)): (compiled, template) = (regex, parsed)
        }
        let prepared = RegexSubject(subject)
        var result: [UInt8] = []
        result.reserveCapacity(subject.count)
        var copiedUpTo = 0
        var count = 0
        for found in prepared.text.matches(of: compiled.regex) {
            let range = prepared.byteRange(of: found.range)
            result.append(contentsOf: subject[copiedUpTo..<range.lowerBound])
            for piece in template.pieces {
                switch piece {
                case .literal(let bytes):
                    result.append(contentsOf: bytes)
                case .capture(let index):
                    guard index < found.output.count else {
                        return .failure(PDKRegexError(
                            "invalid replacement '\(String(decoding: replacement, as: UTF8.self))': "
                                + "regex '\(pattern)' has no capture $\(index)"))
                    }
                    if let captured = found.output[index].range { result.append(contentsOf: prepared.bytes(in: captured)) }
                }
            }
            copiedUpTo = range.upperBound
            count += 1
        }
        result.append(contentsOf: subject[copiedUpTo...])
        return .success((result, count))
    }
}

/// A `gsub` replacement split into literal bytes and capture references.
struct ReplacementTemplate {
    enum Piece: Equatable {
        case literal([UInt8])
        case capture(Int)
    }

    var pieces: [Piece]

    /// `$0`...`$9` refer to captures and `$$` is a literal `$`; any other `$` is an
    /// error rather than silently kept, so a typo such as `$x` is noticed.
    static func parse(_ replacement: [UInt8]) -> Result<ReplacementTemplate, PDKRegexError> {
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        var index = 0
        while index < replacement.count {
            let byte = replacement[index]
            guard byte == UInt8(ascii: "$") else {
                literal.append(byte)
                index += 1
                continue
            }
            let next = index + 1 < replacement.count ? replacement[index + 1] : nil
            switch next {
            case UInt8(ascii: "$"):
                literal.append(byte)
            case let digit? where digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9"):
                if !literal.isEmpty { pieces.append(.literal(literal)) }
                literal = []
                pieces.append(.capture(Int(digit - UInt8(ascii: "0"))))
            default:
                return .failure(PDKRegexError(
                    "invalid replacement '\(String(decoding: replacement, as: UTF8.self))': "
                        + "'$' at byte \(index + 1) must be followed by a digit or '$' (write '$$' for a literal '$')"))
            }
            index += 2
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        return .success(ReplacementTemplate(pieces: pieces))
    }
}

/// Literal text that every match of a path regex must contain, found by reading the
/// pattern, so that the router can rule a regex out with a byte comparison before
/// running Swift's `Regex`, which costs hundreds of nanoseconds per attempt even when
/// it fails at once. The same idea as the literal prefilters of RE2 and Rust's regex.
///
/// In `^/v[0-9]+/svc12/items/[0-9]+$` every match starts with `/v` and contains
/// `/svc12/items/`: a request for `/v2/svc7/items/1` on the same host is ruled out
/// without running the regex.
///
/// The reading is deliberately conservative, since a literal that a match need not
/// contain would make a route unreachable: only literal runs outside groups and
/// classes count; a character followed by a quantifier is not counted; and nothing is
/// required at all when the pattern has a top-level alternation (`^/a|/b`), options or
/// other `(?…)` syntax (which may change case sensitivity), or an escape other than an
/// escaped punctuation character or `\d \D \w \W \s \S \b \B`. Normalised paths are
/// ASCII without newlines, so `^` can only match at the start.
struct RegexLiteralPrefilter: Sendable {
    /// The first bytes of the anchored prefix (up to 8), packed into a word: a check
    /// that most paths fail, small enough to be stored inline in route lists so that
    /// scanning a host's regexes does not touch each regex object.
    struct Head: Sendable {
        /// The first bytes of a path, packed like `Head`, computed once per request.
        struct PathWord {
            fileprivate let bytes: UInt64
            fileprivate let pathCount: Int

            init(_ path: UnsafeBufferPointer<UInt8>) {
                pathCount = path.count
                bytes = Head.pack(path.prefix(8))
            }
        }

        private let bytes: UInt64
        private let mask: UInt64
        private let count: Int

        init(_ prefix: [UInt8]) {
            count = min(8, prefix.count)
            bytes = Head.pack(prefix.prefix(8))
            mask = count == 8 ? ~0 : (1 << (8 * UInt64(count))) - 1
        }

        /// False when the path does not start with these bytes.
        func admits(_ path: PathWord) -> Bool {
            path.pathCount >= count && path.bytes & mask == bytes
        }

        private static func pack(_ bytes: some Collection<UInt8>) -> UInt64 {
            bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        }
    }

    let head: Head
    /// Bytes every match starts with (the path must start with them); may be empty.
    private let anchoredPrefix: [UInt8]
    /// The longest literal every match contains; may be empty.
    private let requiredLiteral: [UInt8]

    init(pattern: String) {
        let runs = RegexLiteralPrefilter.topLevelLiteralRuns(Array(pattern.utf8)) ?? []
        anchoredPrefix = runs.first { $0.startsAtAnchor }?.bytes ?? []
        requiredLiteral = runs.max { $0.bytes.count < $1.bytes.count }?.bytes ?? []
        head = Head(anchoredPrefix)
    }

    /// False when `path` (UTF-8) cannot contain a match.
    func admits(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard path.starts(with: anchoredPrefix) else { return false }
        return requiredLiteral.isEmpty || RegexLiteralPrefilter.contains(path, requiredLiteral)
    }

    private static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        let first = needle[0]
        for start in 0...(haystack.count - needle.count) where haystack[start] == first {
            var offset = 1
            while offset < needle.count && haystack[start + offset] == needle[offset] { offset += 1 }
            if offset == needle.count { return true }
        }
        return false
    }

    private struct LiteralRun {
        var bytes: [UInt8] = []
        /// The run follows a leading `^` directly.
        var startsAtAnchor = false
    }

    /// The literal runs at nesting depth 0, or nil when the pattern uses syntax this
    /// reading does not understand well enough to promise anything.
    private static func topLevelLiteralRuns(_ pattern: [UInt8]) -> [LiteralRun]? {
        var runs: [LiteralRun] = []
        var current = LiteralRun(startsAtAnchor: pattern.first == UInt8(ascii: "^"))
        var depth = 0
        var index = current.startsAtAnchor ? 1 : 0
        /// Whether the last byte of `current` came from the token just before `index`.
        var lastTokenWasLiteral = false

        func endRun() {
            if !current.bytes.isEmpty { runs.append(current) }
            current = LiteralRun()
            lastTokenWasLiteral = false
        }
        func appendLiteral(_ literal: UInt8) {
            if depth == 0 {
                current.bytes.append(literal)
                lastTokenWasLiteral = true
            }
        }

        while index < pattern.count {
            let byte = pattern[index]
            index += 1
            switch byte {
            case UInt8(ascii: "("):
                if index < pattern.count && pattern[index] == UInt8(ascii: "?") { return nil }
                endRun()
                depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                endRun()
            case UInt8(ascii: "|"):
                if depth == 0 { return nil }
            case UInt8(ascii: "["):
                guard let end = endOfClass(pattern, from: index) else { return nil }
                index = end
                endRun()
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"):
                if lastTokenWasLiteral && depth == 0 { current.bytes.removeLast() }
                endRun()
                if byte == UInt8(ascii: "{") {
                    guard let close = pattern[index...].firstIndex(of: UInt8(ascii: "}")) else { return nil }
                    index = close + 1
                }
            case UInt8(ascii: "\\"):
                guard index < pattern.count else { return nil }
                let escaped = pattern[index]
                index += 1
                // `\<` and `\>` are word boundaries in some dialects; refuse to guess.
                if isASCIIPunctuation(escaped) && escaped != UInt8(ascii: "<") && escaped != UInt8(ascii: ">") {
                    appendLiteral(escaped)
                } else if "dDwWsSbB".utf8.contains(escaped) {
                    endRun()
                } else {
                    return nil
                }
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                endRun()
            default:
                guard byte >= 0x20 && byte < 0x7F else { return nil }
                appendLiteral(byte)
            }
        }
        endRun()
        return runs
    }

    /// The index after the `]` closing a class whose `[` is just before `start`,
    /// allowing nested classes and escapes; nil if unterminated.
    private static func endOfClass(_ pattern: [UInt8], from start: Int) -> Int? {
        var index = start
        var depth = 1
        while index < pattern.count {
            switch pattern[index] {
            case UInt8(ascii: "\\"): index += 1
            case UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return index + 1 }
            default: break
            }
            index += 1
        }
        return nil
    }

    private static func isASCIIPunctuation(_ byte: UInt8) -> Bool {
        (0x21...0x2F).contains(byte) || (0x3A...0x40).contains(byte) || (0x5B...0x60).contains(byte)
            || (0x7B...0x7E).contains(byte)
    }
}

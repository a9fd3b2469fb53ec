import NIOConcurrencyHelpers

/// Compiled `gate.re` patterns by pattern text, shared across event loops.
///
/// Plugins pass pattern strings on every call (as with `ngx.re` and its "o" option),
/// and compiling a Swift Regex costs far more than matching a header with it. Failures
/// are cached too, so a bad pattern in a hot path costs one compile, not one per call.
/// The cache is bounded because patterns may be built from request data: when full, a
/// random entry makes room (cheap, and no worse than LRU for the rare overflow).
public final class RegexCache: Sendable {
    /// The cache `PDKRegex` uses unless told otherwise.
    public static let shared = RegexCache()

    public let capacity: Int
    private let entries: NIOLockedValueBox<[String: Result<CompiledRegex, PDKRegexError>]>

    public init(capacity: Int = 512) {
        precondition(capacity > 0, "RegexCache capacity must be positive")
        self.capacity = capacity
        self.entries = NIOLockedValueBox([:])
    }

    /// Number of cached patterns (compiled or failed).
    public var count: Int { entries.withLockedValue { $0.count } }

    /// The compiled `pattern`, from the cache when possible.
    public func compiled(_ pattern: String) -> Result<CompiledRegex, PDKRegexError> {
        if let cached = entries.withLockedValue({ $0[pattern] }) { return cached }
        // Compile outside the lock: other threads keep matching meanwhile. Two threads
        // compiling the same new pattern is harmless; the first stored result wins.
        let compiled = CompiledRegex.compile(pattern)
        return entries.withLockedValue { entries in
            if let stored = entries[pattern] { return stored }
            if entries.count >= capacity {
                let victim = entries.index(entries.startIndex, offsetBy: Int.random(in: 0..<entries.count))
                entries.remove(at: victim)
            }
            entries[pattern] = compiled
            return compiled
        }
    }
}

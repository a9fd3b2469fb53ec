/// A compiled `~regex` path pattern, with a cheap pre-check (`RegexLiteralPrefilter`)
/// that spares most requests from running it.
///
/// A class, so that the `Regex` value, whose layout the standard library keeps
/// resilient, sits behind one pointer: route lists holding it keep a fixed layout and
/// are read without generic value-witness copies.
///
/// `@unchecked Sendable`: `Regex` is not declared `Sendable`, but it is an immutable
/// value whose only shared state, the lazily compiled matching program, is published
/// with an atomic compare-and-swap by the standard library, so concurrent matching
/// from several event loops is safe.
final class RoutePathRegex: @unchecked Sendable {
    let prefilter: RegexLiteralPrefilter
    private let regex: Regex<AnyRegexOutput>

    /// Compiles `source` (the pattern after `~`); throws the parser's error when it is
    /// not a valid regex.
    init(source: String) throws {
        regex = try Regex(source)
        prefilter = RegexLiteralPrefilter(pattern: source)
        // Matching once builds the matching program now, at config load, rather than
        // on the first request that reaches this regex.
        _ = "/".contains(regex)
    }

    /// True when the regex finds a match anywhere in `path` (anchors decide whole-path);
    /// `utf8` is the path's UTF-8, for the pre-check.
    func matches(_ path: String, utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        prefilter.admits(utf8) && path.contains(regex)
    }
}

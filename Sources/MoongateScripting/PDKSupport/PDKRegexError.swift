/// Why `gate.re` could not run: the pattern does not compile, or the replacement
/// template of `gsub` is malformed. The message names the pattern or template.
public struct PDKRegexError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

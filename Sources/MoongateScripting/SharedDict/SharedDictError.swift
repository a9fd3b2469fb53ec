/// Why `incr` refused, with the messages OpenResty's `ngx.shared.DICT:incr` returns,
/// which Lua code ported from it already tests for.
public enum SharedDictError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key is absent (or expired) and no initial value was given.
    case notFound
    /// The key holds a string or a boolean.
    case notANumber

    public var description: String {
        switch self {
        case .notFound: "not found"
        case .notANumber: "not a number"
        }
    }
}

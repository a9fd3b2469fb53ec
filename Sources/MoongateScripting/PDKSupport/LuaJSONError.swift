/// Why `gate.json.encode` or `gate.json.decode` failed, worded for the plugin author.
public struct LuaJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The complete message, e.g. "invalid JSON at byte 17: expected ':'".
    public let message: String
    /// For decoding errors: the 1-based offset (Lua style) of the byte at fault; one past
    /// the end when the input ended too early. Nil for encoding errors.
    public let byteOffset: Int?

    init(encoding message: String) {
        self.message = message
        self.byteOffset = nil
    }

    init(decodingAt byteOffset: Int, _ problem: String) {
        self.message = "invalid JSON at byte \(byteOffset): \(problem)"
        self.byteOffset = byteOffset
    }

    public var description: String { message }
}

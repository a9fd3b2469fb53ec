/// Why a configuration value does not parse, worded for the person who wrote it;
/// the reader prefixes it with the file, line and path.
public struct ConfigSyntaxError: Error, Sendable, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }
}

/// Why bytes are not a DNS message, or why a name cannot be put in a query. The
/// message names the byte offset and the field being read, since the input usually
/// comes from a server the operator has to go and fix.
public struct DNSMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// True when the bytes simply ran out: with the TC bit set that is expected (RFC 2181
    /// §9), and the records decoded so far are kept.
    let isEndOfData: Bool

    init(_ message: String, isEndOfData: Bool = false) {
        self.message = message
        self.isEndOfData = isEndOfData
    }

    public var description: String { message }
}

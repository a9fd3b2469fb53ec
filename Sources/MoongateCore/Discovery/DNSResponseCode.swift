/// The RCODE of a response header (RFC 1035 §4.1.1): whether the server answered, and
/// if not, why. Only the four header bits; the EDNS extended bits are not combined in,
/// since queries here never use an EDNS version that could produce them.
public struct DNSResponseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static let noError = DNSResponseCode(rawValue: 0)
    public static let formatError = DNSResponseCode(rawValue: 1)
    public static let serverFailure = DNSResponseCode(rawValue: 2)
    /// NXDOMAIN: the name does not exist (authoritative for every record type).
    public static let nameError = DNSResponseCode(rawValue: 3)
    public static let notImplemented = DNSResponseCode(rawValue: 4)
    public static let refused = DNSResponseCode(rawValue: 5)

    public var description: String {
        switch self {
        case .noError: "NOERROR"
        case .formatError: "FORMERR (the server could not read the query)"
        case .serverFailure: "SERVFAIL (the server failed to resolve the name)"
        case .nameError: "NXDOMAIN (no such name)"
        case .notImplemented: "NOTIMP (the server does not support this kind of query)"
        case .refused: "REFUSED (the server refuses to answer this client)"
        default: "RCODE \(rawValue)"
        }
    }
}

/// The TYPE field of a question or resource record (RFC 1035 §3.2.2). A struct rather
/// than an enum so that records of types this code does not interpret still decode and
/// can be skipped by their length.
public struct DNSRecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// An IPv4 host address (RFC 1035).
    public static let a = DNSRecordType(rawValue: 1)
    /// The canonical name of an alias (RFC 1035).
    public static let cname = DNSRecordType(rawValue: 5)
    /// A zone's start of authority, sent in the authority section of negative answers.
    public static let soa = DNSRecordType(rawValue: 6)
    /// An IPv6 host address (RFC 3596).
    public static let aaaa = DNSRecordType(rawValue: 28)
    /// A service location: priority, weight, port and target host (RFC 2782).
    public static let srv = DNSRecordType(rawValue: 33)
    /// The EDNS(0) pseudo-record carrying the sender's UDP payload size (RFC 6891).
    public static let opt = DNSRecordType(rawValue: 41)

    public var description: String {
        switch self {
        case .a: "A"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .aaaa: "AAAA"
        case .srv: "SRV"
        case .opt: "OPT"
        default: "TYPE\(rawValue)"
        }
    }
}

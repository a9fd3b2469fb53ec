/// One resource record of an answer, authority or additional section.
public struct DNSRecord: Sendable, Hashable {
    /// CLASS IN, the only class the resolver asks for.
    public static let internetClass: UInt16 = 1

    /// The owner name, lower-cased, without the trailing dot.
    public var name: String
    public var type: DNSRecordType
    public var recordClass: UInt16
    /// Seconds the record may be cached. Values with the top bit set read as 0, as
    /// RFC 2181 §8 asks.
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: String, type: DNSRecordType, recordClass: UInt16 = internetClass, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }
}

/// The RDATA of a record, interpreted for the types discovery needs.
public enum DNSRecordData: Sendable, Hashable {
    /// Dotted-quad IPv4 text ("192.0.2.1").
    case a(String)
    /// IPv6 text in RFC 5952 form ("2001:db8::1").
    case aaaa(String)
    /// The alias's canonical name, lower-cased, without the trailing dot.
    case cname(String)
    case srv(DNSServiceRecord)
    /// Any other type (or class), kept as raw bytes.
    case other([UInt8])
}

/// The RDATA of an SRV record (RFC 2782).
public struct DNSServiceRecord: Sendable, Hashable {
    /// Lower values are tried first; only the lowest group is used while it has targets.
    public var priority: UInt16
    /// Relative share of traffic within a priority group.
    public var weight: UInt16
    public var port: UInt16
    /// The host offering the service, lower-cased, without the trailing dot; "" (the
    /// root, written ".") means the service is decidedly not available at this name.
    public var target: String

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: String) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }
}

/// A decoded DNS message (RFC 1035 §4): the header and its four sections, with the
/// record types discovery uses (A, AAAA per RFC 3596, CNAME, SRV per RFC 2782)
/// interpreted. Decoding never traps: anything malformed is a `DNSMessageError` that
/// says which byte and which field.
public struct DNSMessage: Sendable, Hashable {
    public var id: UInt16
    /// The header's second 16 bits: QR, OPCODE, AA, TC, RD, RA, Z and RCODE.
    public var flags: UInt16
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]
    public var authority: [DNSRecord]
    public var additional: [DNSRecord]

    public var isResponse: Bool { flags & 0x8000 != 0 }
    /// 0 for a standard query.
    public var opcode: UInt8 { UInt8(truncatingIfNeeded: flags >> 11) & 0x0F }
    public var isAuthoritative: Bool { flags & 0x0400 != 0 }
    /// TC: the server cut the answer to fit a UDP datagram.
    public var isTruncated: Bool { flags & 0x0200 != 0 }
    public var recursionDesired: Bool { flags & 0x0100 != 0 }
    public var recursionAvailable: Bool { flags & 0x0080 != 0 }
    public var responseCode: DNSResponseCode { DNSResponseCode(rawValue: UInt8(flags & 0x000F)) }

    /// Header size; the sections follow.
    static let headerLength = 12

    /// Decodes a message. When the TC bit is set, records cut off at the end of the
    /// packet are dropped and the complete ones kept (the resolver uses truncated
    /// answers as they are); otherwise a short packet is an error. Bytes after the last
    /// section are ignored.
    public init(decoding bytes: [UInt8]) throws(DNSMessageError) {
        guard bytes.count >= Self.headerLength else {
            throw DNSMessageError(
                "a DNS message has a \(Self.headerLength)-byte header, but the packet has only \(bytes.count) bytes",
                isEndOfData: true)
        }
        var reader = DNSWireReader(bytes)
        id = try reader.readUInt16("the header")
        flags = try reader.readUInt16("the header")
        let questionCount = try reader.readUInt16("the header")
        let answerCount = try reader.readUInt16("the header")
        let authorityCount = try reader.readUInt16("the header")
        let additionalCount = try reader.readUInt16("the header")

        questions = []
        for index in 0..<Int(questionCount) {
            let name = try reader.readName("the name of question \(index + 1)")
            let type = try reader.readUInt16("the type of question \(index + 1)")
            let recordClass = try reader.readUInt16("the class of question \(index + 1)")
            questions.append(DNSQuestion(name: name, type: DNSRecordType(rawValue: type), recordClass: recordClass))
        }

        answers = []
        authority = []
        additional = []
        let truncated = flags & 0x0200 != 0
        do {
            for index in 0..<Int(answerCount) {
                answers.append(try Self.readRecord(&reader, "answer \(index + 1)"))
            }
            for index in 0..<Int(authorityCount) {
                authority.append(try Self.readRecord(&reader, "authority record \(index + 1)"))
            }
            for index in 0..<Int(additionalCount) {
                additional.append(try Self.readRecord(&reader, "additional record \(index + 1)"))
            }
        } catch where truncated && error.isEndOfData {
            return
        }
    }

    /// Reads one resource record (RFC 1035 §4.1.3). The RDATA of known types must fill
    /// RDLENGTH exactly; names inside it may be compressed (servers do compress SRV
    /// targets although RFC 2782 says not to).
    private static func readRecord(_ reader: inout DNSWireReader, _ what: String) throws(DNSMessageError) -> DNSRecord {
        let name = try reader.readName("the owner name of \(what)")
        let type = DNSRecordType(rawValue: try reader.readUInt16("the type of \(what)"))
        let recordClass = try reader.readUInt16("the class of \(what)")
        let rawTTL = try reader.readUInt32("the TTL of \(what)")
        let ttl = rawTTL > UInt32(Int32.max) ? 0 : rawTTL
        let dataLength = Int(try reader.readUInt16("the data length of \(what)"))
        let dataStart = reader.offset
        let dataEnd = dataStart + dataLength
        guard dataLength <= reader.remaining else {
            throw DNSMessageError(
                "the packet ends at byte \(reader.bytes.count) inside the \(dataLength)-byte data of \(what) (\(type)) that starts at byte \(dataStart)",
                isEndOfData: true)
        }
        let data: DNSRecordData
        switch recordClass == DNSRecord.internetClass ? type : DNSRecordType(rawValue: 0) {
        case .a:
            guard dataLength == 4 else {
                throw DNSMessageError("\(what) is an A record with \(dataLength) bytes of data; an IPv4 address has 4")
            }
            data = .a(IPAddressBytes.ipv4Text(try reader.readBytes(4, "the address of \(what)")))
        case .aaaa:
            guard dataLength == 16 else {
                throw DNSMessageError("\(what) is an AAAA record with \(dataLength) bytes of data; an IPv6 address has 16")
            }
            data = .aaaa(IPAddressBytes.ipv6Text(try reader.readBytes(16, "the address of \(what)")))
        case .cname, .srv:
            var inner = DNSWireReader(Array(reader.bytes[..<dataEnd]), offset: dataStart)
            do throws(DNSMessageError) {
                data = try readNameData(&inner, type, what)
            } catch where error.isEndOfData {
                throw DNSMessageError(
                    "the \(dataLength)-byte data of \(what) (\(type)) at byte \(dataStart) is too short for its content")
            }
            guard inner.offset == dataEnd else {
                throw DNSMessageError("\(what) (\(type)) has \(dataEnd - inner.offset) unused bytes at the end of its data")
            }
            try reader.seek(to: dataEnd, "the data of \(what)")
        default:
            data = .other(try reader.readBytes(dataLength, "the data of \(what)"))
        }
        return DNSRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data)
    }

    /// CNAME and SRV data, read from a copy of the packet cut at the data's end so that a
    /// name running past RDLENGTH cannot borrow the next record's bytes.
    private static func readNameData(
        _ inner: inout DNSWireReader, _ type: DNSRecordType, _ what: String
    ) throws(DNSMessageError) -> DNSRecordData {
        if type == .cname { return .cname(try inner.readName("the canonical name of \(what)")) }
        let priority = try inner.readUInt16("the priority of \(what) (SRV)")
        let weight = try inner.readUInt16("the weight of \(what) (SRV)")
        let port = try inner.readUInt16("the port of \(what) (SRV)")
        let target = try inner.readName("the target of \(what) (SRV)")
        return .srv(DNSServiceRecord(priority: priority, weight: weight, port: port, target: target))
    }
}

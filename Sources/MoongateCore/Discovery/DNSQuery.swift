/// A standard query with one question and recursion desired: what a stub resolver
/// sends to its recursive nameserver (RFC 1035 §4.1).
public struct DNSQuery: Sendable, Hashable {
    public var id: UInt16
    /// Dotted labels, optionally ending in "."; no escapes.
    public var name: String
    public var type: DNSRecordType
    /// When set, an EDNS(0) OPT record (RFC 6891) tells the server it may answer in
    /// datagrams up to this size instead of 512 bytes, so SRV answers with many targets
    /// arrive whole over UDP.
    public var udpPayloadSize: UInt16?

    public init(id: UInt16, name: String, type: DNSRecordType, udpPayloadSize: UInt16? = nil) {
        self.id = id
        self.name = name
        self.type = type
        self.udpPayloadSize = udpPayloadSize
    }

    /// The question as answers carry it: lower-cased, without the trailing dot.
    public var question: DNSQuestion {
        var normalized = name.lowercased()
        if normalized.hasSuffix(".") { normalized.removeLast() }
        return DNSQuestion(name: normalized, type: type)
    }

    /// The wire form. Names are limited to printable ASCII without '\' (the characters the
    /// decoder reads back unescaped), labels to 63 bytes, and the whole name to 255.
    public func encoded() throws(DNSMessageError) -> [UInt8] {
        var bytes: [UInt8] = [
            UInt8(id >> 8), UInt8(id & 0xFF),
            0x01, 0x00,  // QR = 0 (query), OPCODE = 0, RD = 1
            0x00, 0x01,  // QDCOUNT
            0x00, 0x00,  // ANCOUNT
            0x00, 0x00,  // NSCOUNT
            0x00, udpPayloadSize == nil ? 0x00 : 0x01,  // ARCOUNT
        ]
        try Self.appendName(name, to: &bytes)
        bytes += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0x00, UInt8(DNSRecord.internetClass)]
        if let udpPayloadSize {
            bytes += [
                0x00,  // the root name
                0x00, UInt8(DNSRecordType.opt.rawValue),
                UInt8(udpPayloadSize >> 8), UInt8(udpPayloadSize & 0xFF),  // CLASS carries the payload size
                0x00, 0x00, 0x00, 0x00,  // extended RCODE, version 0, no flags
                0x00, 0x00,  // no options
            ]
        }
        return bytes
    }

    private static func appendName(_ name: String, to bytes: inout [UInt8]) throws(DNSMessageError) {
        var text = Array(name.utf8)
        if text.last == UInt8(ascii: ".") { text.removeLast() }
        guard !text.isEmpty else { throw DNSMessageError("cannot ask about '\(name)': the name is empty") }
        if let bad = text.first(where: { !(0x21...0x7E).contains($0) || $0 == UInt8(ascii: "\\") }) {
            let shown = (0x21...0x7E).contains(bad) ? "'\(Character(Unicode.Scalar(bad)))'" : "byte 0x\(String(bad, radix: 16))"
            throw DNSMessageError("cannot ask about '\(name)': it contains \(shown); names here are printable ASCII without '\\'")
        }
        var wireLength = 1
        for label in text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty else {
                throw DNSMessageError("cannot ask about '\(name)': it has an empty label (a leading or doubled '.')")
            }
            guard label.count <= 63 else {
                throw DNSMessageError(
                    "cannot ask about '\(name)': label '\(String(decoding: label, as: UTF8.self))' is \(label.count) bytes; at most 63 are allowed")
            }
            wireLength += label.count + 1
            bytes.append(UInt8(label.count))
            bytes += label
        }
        guard wireLength <= DNSWireReader.maximumNameLength else {
            throw DNSMessageError(
                "cannot ask about '\(name)': it takes \(wireLength) bytes on the wire; at most \(DNSWireReader.maximumNameLength) are allowed")
        }
        bytes.append(0)
    }
}

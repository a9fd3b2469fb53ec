/// A bounds-checked cursor over a DNS message. Every read names what it was reading,
/// so a short or corrupt packet becomes an error that says where, never a trap.
struct DNSWireReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    /// Wire length limit of a name, length octets and the final zero included (RFC 1035 §2.3.4).
    static let maximumNameLength = 255

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func readUInt8(_ what: @autoclosure () -> String) throws(DNSMessageError) -> UInt8 {
        try require(1, what())
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16(_ what: @autoclosure () -> String) throws(DNSMessageError) -> UInt16 {
        try require(2, what())
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32(_ what: @autoclosure () -> String) throws(DNSMessageError) -> UInt32 {
        try require(4, what())
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    mutating func readBytes(_ count: Int, _ what: @autoclosure () -> String) throws(DNSMessageError) -> [UInt8] {
        try require(count, what())
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// Moves to `newOffset`, which must lie within the message.
    mutating func seek(to newOffset: Int, _ what: @autoclosure () -> String) throws(DNSMessageError) {
        guard newOffset <= bytes.count else { throw endOfData(newOffset - offset, what()) }
        offset = newOffset
    }

    /// Reads a possibly compressed name (RFC 1035 §4.1.4) and leaves the cursor after its
    /// inline part. A compression pointer must point before the start of the labels it
    /// continues, so the positions visited strictly decrease and a loop is impossible;
    /// pointers that do not are reported as loops rather than followed.
    mutating func readName(_ what: @autoclosure () -> String) throws(DNSMessageError) -> String {
        var text: [UInt8] = []
        var wireLength = 1
        var position = offset
        var segmentStart = offset
        var resumeOffset: Int?
        while true {
            guard position < bytes.count else {
                throw DNSMessageError(
                    "the packet ends at byte \(bytes.count) inside \(what()) (a name must end with a zero-length label)",
                    isEndOfData: true)
            }
            let length = bytes[position]
            switch length >> 6 {
            case 0:
                if length == 0 {
                    offset = resumeOffset ?? position + 1
                    return String(decoding: text, as: UTF8.self)
                }
                let start = position + 1
                let end = start + Int(length)
                guard end <= bytes.count else {
                    throw DNSMessageError(
                        "the packet ends at byte \(bytes.count) inside a \(length)-byte label of \(what()) that starts at byte \(position)",
                        isEndOfData: true)
                }
                wireLength += Int(length) + 1
                guard wireLength <= Self.maximumNameLength else {
                    throw DNSMessageError("\(what()) is longer than \(Self.maximumNameLength) bytes")
                }
                if !text.isEmpty { text.append(UInt8(ascii: ".")) }
                Self.appendPresentation(of: bytes[start..<end], to: &text)
                position = end
            case 3:
                guard position + 1 < bytes.count else {
                    throw DNSMessageError(
                        "the packet ends at byte \(bytes.count) inside a compression pointer of \(what())", isEndOfData: true)
                }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < bytes.count else {
                    throw DNSMessageError(
                        "a compression pointer of \(what()) at byte \(position) points to byte \(target), past the end of the \(bytes.count)-byte packet"
                    )
                }
                guard target < segmentStart else {
                    throw DNSMessageError(
                        "a compression pointer of \(what()) at byte \(position) points to byte \(target), which is not before the labels it continues (a pointer loop)"
                    )
                }
                if resumeOffset == nil { resumeOffset = position + 2 }
                segmentStart = target
                position = target
            default:
                throw DNSMessageError(
                    "the label of \(what()) at byte \(position) starts with the reserved bits \(length >> 6 == 1 ? "01" : "10") (0x\(String(length, radix: 16)))"
                )
            }
        }
    }

    /// Master-file presentation of a label (RFC 1035 §5.1): ASCII lower-cased, '.' and
    /// '\' escaped, and bytes outside printable ASCII as `\DDD`.
    private static func appendPresentation(of label: ArraySlice<UInt8>, to text: inout [UInt8]) {
        for byte in label {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                text.append(byte + 32)
            case UInt8(ascii: "."), UInt8(ascii: "\\"):
                text.append(UInt8(ascii: "\\"))
                text.append(byte)
            case 0x21...0x7E:
                text.append(byte)
            default:
                text.append(UInt8(ascii: "\\"))
                text.append(contentsOf: [byte / 100, byte / 10 % 10, byte % 10].map { $0 + UInt8(ascii: "0") })
            }
        }
    }

    private func require(_ count: Int, _ what: @autoclosure () -> String) throws(DNSMessageError) {
        guard count <= remaining else { throw endOfData(count, what()) }
    }

    private func endOfData(_ count: Int, _ what: String) -> DNSMessageError {
        DNSMessageError(
            "the packet ends at byte \(bytes.count) inside \(what) (\(count) bytes needed from byte \(offset))",
            isEndOfData: true)
    }
}

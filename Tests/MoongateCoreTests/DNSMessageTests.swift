import MoongateCore
import Testing

/// Hand-built packets: the bytes are written out field by field, so a test reads as the
/// wire layout it checks.
private enum Wire {
    static func name(_ text: String) -> [UInt8] {
        text.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    static func pointer(to offset: Int) -> [UInt8] { [0xC0 | UInt8(offset >> 8), UInt8(offset & 0xFF)] }

    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    static func u32(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }

    static func header(id: UInt16 = 0xBEEF, flags: UInt16 = 0x8180, questions: UInt16 = 1, answers: UInt16 = 0,
                       authority: UInt16 = 0, additional: UInt16 = 0) -> [UInt8] {
        u16(id) + u16(flags) + u16(questions) + u16(answers) + u16(authority) + u16(additional)
    }

    static func question(_ owner: [UInt8], type: UInt16) -> [UInt8] { owner + u16(type) + u16(1) }

    static func record(_ owner: [UInt8], type: UInt16, ttl: UInt32, data: [UInt8], recordClass: UInt16 = 1) -> [UInt8] {
        owner + u16(type) + u16(recordClass) + u32(ttl) + u16(UInt16(data.count)) + data
    }

    static func srvData(priority: UInt16, weight: UInt16, port: UInt16, target: [UInt8]) -> [UInt8] {
        u16(priority) + u16(weight) + u16(port) + target
    }
}

/// The question name always starts right after the header.
private let questionOffset = 12

@Suite("DNS message encoding and decoding")
struct DNSMessageTests {
    // MARK: queries

    @Test("a query has the id, RD set, one question of class IN, and keeps the name's case")
    func encodesQuery() throws {
        let bytes = try DNSQuery(id: 0x1234, name: "Orders.internal.", type: .aaaa).encoded()
        #expect(bytes == Wire.header(id: 0x1234, flags: 0x0100) + Wire.name("Orders.internal") + [0, 28, 0, 1])
    }

    @Test("an EDNS(0) query adds an OPT record advertising the payload size")
    func encodesEDNS() throws {
        let bytes = try DNSQuery(id: 7, name: "a.b", type: .srv, udpPayloadSize: 1232).encoded()
        #expect(
            bytes == Wire.header(id: 7, flags: 0x0100, additional: 1) + Wire.name("a.b") + [0, 33, 0, 1]
                + [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0])
    }

    @Test("the question of a query is lower-cased without the trailing dot")
    func normalizedQuestion() {
        #expect(DNSQuery(id: 1, name: "API.Example.ORG.", type: .a).question == DNSQuestion(name: "api.example.org", type: .a))
    }

    @Test(
        "names that cannot be asked about are refused with the reason",
        arguments: [
            ("", "the name is empty"), (".", "the name is empty"), ("a..b", "empty label"), (".a", "empty label"),
            (String(repeating: "x", count: 64) + ".com", "is 64 bytes; at most 63"),
            (Array(repeating: String(repeating: "x", count: 60), count: 5).joined(separator: "."), "at most 255"),
            ("héllo.com", "byte 0xc3"), ("a b.com", "byte 0x20"), ("a\\.b", "contains '\\'"),
        ])
    func rejectsBadNames(name: String, reason: String) {
        let error = #expect(throws: DNSMessageError.self) { try DNSQuery(id: 1, name: name, type: .a).encoded() }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
    }

    // MARK: answers

    @Test("an A answer whose owner is compressed to the question")
    func decodesA() throws {
        let bytes =
            Wire.header(id: 0xBEEF, flags: 0x8580, answers: 1) + Wire.question(Wire.name("Orders.Internal"), type: 1)
            + Wire.record(Wire.pointer(to: questionOffset), type: 1, ttl: 42, data: [192, 0, 2, 1])
        let message = try DNSMessage(decoding: bytes)
        #expect(message.id == 0xBEEF)
        #expect(message.isResponse && message.isAuthoritative && message.recursionDesired && message.recursionAvailable)
        #expect(!message.isTruncated)
        #expect(message.opcode == 0)
        #expect(message.responseCode == .noError)
        #expect(message.questions == [DNSQuestion(name: "orders.internal", type: .a)])
        #expect(message.answers == [DNSRecord(name: "orders.internal", type: .a, ttl: 42, data: .a("192.0.2.1"))])
    }

    @Test("an AAAA answer reads as RFC 5952 text")
    func decodesAAAA() throws {
        let address: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1]
        let bytes =
            Wire.header(answers: 1) + Wire.question(Wire.name("v6.test"), type: 28)
            + Wire.record(Wire.pointer(to: questionOffset), type: 28, ttl: 5, data: address)
        #expect(try DNSMessage(decoding: bytes).answers(for: "v6.test", type: .aaaa).map(\.data) == [.aaaa("2001:db8::1")])
    }

    @Test(
        "IPv6 text: longest zero run shortened, the first on a tie, a lone zero group kept",
        arguments: [
            ([0, 0, 0, 0, 0, 0, 0, 0], "::"), ([0, 0, 0, 0, 0, 0, 0, 1], "::1"), ([1, 0, 0, 0, 0, 0, 0, 0], "1::"),
            ([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"), ([1, 0, 0, 2, 0, 0, 3, 4], "1::2:0:0:3:4"),
            ([1, 0, 0, 2, 0, 0, 0, 3], "1:0:0:2::3"), ([0xFE80, 0, 0, 0, 0xABCD, 0xEF, 0x12, 0x3456], "fe80::abcd:ef:12:3456"),
        ] as [([UInt16], String)])
    func ipv6Text(groups: [UInt16], text: String) {
        #expect(IPAddressBytes.ipv6Text(groups.flatMap(Wire.u16)) == text)
        #expect(IPAddressBytes.parse(text).map(IPAddressBytes.text) == text, "parses back to the same text")
    }

    /// `_http._tcp.orders.internal SRV` with two targets, one of them compressed into
    /// the other's name, and glue A/AAAA records in the additional section.
    private func serviceResponse(flags: UInt16 = 0x8180) -> [UInt8] {
        var bytes = Wire.header(flags: flags, answers: 2, additional: 2)
        bytes += Wire.question(Wire.name("_http._tcp.orders.internal"), type: 33)
        let firstTargetOffset = bytes.count + 2 + 10 + 6
        bytes += Wire.record(
            Wire.pointer(to: questionOffset), type: 33, ttl: 60,
            data: Wire.srvData(priority: 10, weight: 5, port: 8080, target: Wire.name("a.orders.internal")))
        let ordersOffset = firstTargetOffset + 2
        bytes += Wire.record(
            Wire.pointer(to: questionOffset), type: 33, ttl: 30,
            data: Wire.srvData(priority: 20, weight: 0, port: 8081, target: [1, UInt8(ascii: "b")] + Wire.pointer(to: ordersOffset)))
        bytes += Wire.record(Wire.pointer(to: firstTargetOffset), type: 1, ttl: 15, data: [10, 0, 0, 1])
        bytes += Wire.record(Wire.pointer(to: firstTargetOffset), type: 28, ttl: 15, data: Array(repeating: 0, count: 15) + [1])
        return bytes
    }

    @Test("SRV answers with compressed targets and glue addresses in the additional section")
    func decodesSRV() throws {
        let message = try DNSMessage(decoding: serviceResponse())
        let services = message.answers(for: "_http._tcp.orders.internal", type: .srv)
        #expect(
            services.map(\.data) == [
                .srv(DNSServiceRecord(priority: 10, weight: 5, port: 8080, target: "a.orders.internal")),
                .srv(DNSServiceRecord(priority: 20, weight: 0, port: 8081, target: "b.orders.internal")),
            ])
        #expect(services.map(\.ttl) == [60, 30])
        #expect(message.additionalAddresses(for: "a.orders.internal").map(\.data) == [.a("10.0.0.1"), .aaaa("::1")])
        #expect(message.additionalAddresses(for: "b.orders.internal").isEmpty)
    }

    @Test("a CNAME chain is followed; TTLs drop to the chain's smallest; records for other names are ignored")
    func followsCNAME() throws {
        var bytes = Wire.header(answers: 4) + Wire.question(Wire.name("www.example.com"), type: 1)
        let aliasTargetOffset = bytes.count + 12
        bytes += Wire.record(Wire.pointer(to: questionOffset), type: 5, ttl: 300, data: Wire.name("web.example.com"))
        bytes += Wire.record(Wire.pointer(to: aliasTargetOffset), type: 1, ttl: 600, data: [10, 1, 1, 1])
        bytes += Wire.record(Wire.pointer(to: aliasTargetOffset), type: 1, ttl: 100, data: [10, 1, 1, 2])
        bytes += Wire.record(Wire.name("evil.example"), type: 1, ttl: 600, data: [6, 6, 6, 6])
        let message = try DNSMessage(decoding: bytes)
        let answers = message.answers(for: "www.example.com", type: .a)
        #expect(answers.map(\.data) == [.a("10.1.1.1"), .a("10.1.1.2")])
        #expect(answers.map(\.ttl) == [300, 100])
        #expect(answers.allSatisfy { $0.name == "web.example.com" })
        #expect(message.answers(for: "www.example.com", type: .cname).map(\.data) == [.cname("web.example.com")])
    }

    @Test("a CNAME loop in the answer section ends the chain instead of spinning")
    func cnameLoop() throws {
        let bytes =
            Wire.header(answers: 2) + Wire.question(Wire.name("a.test"), type: 1)
            + Wire.record(Wire.name("a.test"), type: 5, ttl: 1, data: Wire.name("b.test"))
            + Wire.record(Wire.name("b.test"), type: 5, ttl: 1, data: Wire.name("a.test"))
        #expect(try DNSMessage(decoding: bytes).answers(for: "a.test", type: .a).isEmpty)
    }

    @Test("NXDOMAIN: the response code says no such name, with an SOA in the authority section")
    func nameError() throws {
        let bytes =
            Wire.header(flags: 0x8183, authority: 1) + Wire.question(Wire.name("missing.test"), type: 1)
            + Wire.record(Wire.name("test"), type: 6, ttl: 900, data: [1, 2, 3])
        let message = try DNSMessage(decoding: bytes)
        #expect(message.responseCode == .nameError)
        #expect(message.responseCode.description.contains("NXDOMAIN"))
        #expect(message.answers.isEmpty)
        #expect(message.authority == [DNSRecord(name: "test", type: .soa, ttl: 900, data: .other([1, 2, 3]))])
    }

    @Test("records of unknown types and classes are kept raw and skipped by their length")
    func unknownTypes() throws {
        let bytes =
            Wire.header(answers: 3) + Wire.question(Wire.name("x.test"), type: 1)
            + Wire.record(Wire.pointer(to: questionOffset), type: 16, ttl: 1, data: [3, 0x61, 0x62, 0x63])
            + Wire.record(Wire.pointer(to: questionOffset), type: 1, ttl: 1, data: [1, 2, 3, 4], recordClass: 3)
            + Wire.record(Wire.pointer(to: questionOffset), type: 1, ttl: 1, data: [5, 6, 7, 8])
        let message = try DNSMessage(decoding: bytes)
        #expect(message.answers.map(\.data) == [.other([3, 0x61, 0x62, 0x63]), .other([1, 2, 3, 4]), .a("5.6.7.8")])
        #expect(message.answers(for: "x.test", type: .a).map(\.data) == [.a("5.6.7.8")])
    }

    @Test("a TTL with the top bit set reads as 0 (RFC 2181)")
    func hugeTTL() throws {
        let bytes =
            Wire.header(answers: 1) + Wire.question(Wire.name("t.test"), type: 1)
            + Wire.record(Wire.pointer(to: questionOffset), type: 1, ttl: 0x8000_0001, data: [1, 1, 1, 1])
        #expect(try DNSMessage(decoding: bytes).answers.map(\.ttl) == [0])
    }

    @Test("labels are lower-cased; '.' inside a label and other bytes are escaped")
    func labelPresentation() throws {
        let owner: [UInt8] = [5] + Array("A.b\u{7F}C".utf8) + [3] + Array("ORG".utf8) + [0]
        let message = try DNSMessage(decoding: Wire.header(questions: 1) + Wire.question(owner, type: 1))
        #expect(message.questions.map(\.name) == ["a\\.b\\127c.org"])
    }

    // MARK: malformed input

    private func decodingError(_ bytes: [UInt8]) -> String? {
        do {
            _ = try DNSMessage(decoding: bytes)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("a packet shorter than the header")
    func shortHeader() {
        #expect(decodingError([0x12, 0x34, 0x81]) == "a DNS message has a 12-byte header, but the packet has only 3 bytes")
    }

    @Test("every cut of a response without TC is an error naming where it ends, never a crash")
    func everyTruncation() {
        let bytes = serviceResponse()
        for length in 0..<bytes.count {
            let message = decodingError(Array(bytes[..<length]))
            let expected = length < 12 ? "12-byte header" : "the packet ends at byte \(length) inside"
            #expect(message?.contains(expected) == true, "cut at \(length): \(message ?? "decoded")")
        }
        #expect(decodingError(bytes) == nil)
    }

    @Test("with TC set, a record cut off at the end is dropped and the complete ones kept")
    func truncatedFlag() throws {
        let bytes = serviceResponse(flags: 0x8380)
        let cut = Array(bytes[..<(bytes.count - 20)])
        let message = try DNSMessage(decoding: cut)
        #expect(message.isTruncated)
        #expect(message.answers.count == 2)
        #expect(message.additional.map(\.data) == [.a("10.0.0.1")])
    }

    @Test("with TC set, a cut question is still an error")
    func truncatedQuestion() {
        #expect(decodingError(Array(serviceResponse(flags: 0x8380)[..<20]))?.contains("question 1") == true)
    }

    @Test("a pointer to itself is a loop")
    func selfPointer() {
        let bytes = Wire.header() + Wire.pointer(to: questionOffset) + [0, 1, 0, 1]
        #expect(
            decodingError(bytes)
                == "a compression pointer of the name of question 1 at byte 12 points to byte 12, which is not before the labels it continues (a pointer loop)"
        )
    }

    @Test("a pointer back into its own labels is a loop")
    func pointerIntoOwnName() {
        let bytes = Wire.header() + [1, UInt8(ascii: "a")] + Wire.pointer(to: questionOffset) + [0, 1, 0, 1]
        #expect(decodingError(bytes)?.contains("a pointer loop") == true)
    }

    @Test("two pointers to each other are a loop")
    func mutualPointers() {
        var bytes = Wire.header(answers: 2) + Wire.question(Wire.name("a.test"), type: 1)
        let dataOffset = bytes.count + 12
        let secondOwnerOffset = dataOffset + 2
        bytes += Wire.record(Wire.pointer(to: questionOffset), type: 16, ttl: 1, data: Wire.pointer(to: secondOwnerOffset))
        bytes += Wire.record(Wire.pointer(to: dataOffset), type: 1, ttl: 1, data: [1, 2, 3, 4])
        #expect(
            decodingError(bytes)
                == "a compression pointer of the owner name of answer 2 at byte \(dataOffset) points to byte \(secondOwnerOffset), which is not before the labels it continues (a pointer loop)"
        )
    }

    @Test("a pointer forward is refused like a loop")
    func forwardPointer() {
        let bytes = Wire.header() + Wire.pointer(to: 16) + [0, 1, 0, 1] + Wire.name("later")
        #expect(decodingError(bytes)?.contains("points to byte 16, which is not before") == true)
    }

    @Test("a pointer past the end of the packet")
    func outOfRangePointer() {
        let bytes = Wire.header() + [0xC1, 0x00] + [0, 1, 0, 1]
        #expect(
            decodingError(bytes)
                == "a compression pointer of the name of question 1 at byte 12 points to byte 256, past the end of the 18-byte packet")
    }

    @Test("label type bits 01 and 10 are reserved")
    func reservedLabelBits() {
        #expect(decodingError(Wire.header() + [0x41, 0x61, 0] + [0, 1, 0, 1])?.contains("reserved bits 01") == true)
        #expect(decodingError(Wire.header() + [0x81, 0x61, 0] + [0, 1, 0, 1])?.contains("reserved bits 10") == true)
    }

    @Test("a name longer than 255 bytes, built from pointers to earlier labels")
    func overlongName() {
        let label63: [UInt8] = [63] + Array(repeating: 0x61, count: 63)
        var bytes = Wire.header(questions: 2) + Wire.question(label63 + label63 + label63 + [0], type: 1)
        bytes += label63 + Wire.pointer(to: questionOffset) + [0, 1, 0, 1]
        #expect(decodingError(bytes) == "the name of question 2 is longer than 255 bytes")
    }

    @Test("an A record whose data is not 4 bytes")
    func badALength() {
        let bytes =
            Wire.header(answers: 1) + Wire.question(Wire.name("a.test"), type: 1)
            + Wire.record(Wire.pointer(to: questionOffset), type: 1, ttl: 1, data: [1, 2, 3, 4, 5])
        #expect(decodingError(bytes) == "answer 1 is an A record with 5 bytes of data; an IPv4 address has 4")
    }

    @Test("an SRV target running past the record's data length does not borrow the next record's bytes")
    func srvOverrun() {
        let data = Wire.srvData(priority: 1, weight: 1, port: 80, target: Wire.name("target.test"))
        var record = Wire.record(Wire.pointer(to: questionOffset), type: 33, ttl: 1, data: data)
        record[11] -= 3
        let bytes = Wire.header(answers: 1) + Wire.question(Wire.name("s.test"), type: 33) + record
        #expect(decodingError(bytes)?.contains("is too short for its content") == true)
    }

    @Test("SRV data with bytes left after the target")
    func srvLeftover() {
        let data = Wire.srvData(priority: 1, weight: 1, port: 80, target: Wire.name("t.test")) + [9, 9]
        let bytes =
            Wire.header(answers: 1) + Wire.question(Wire.name("s.test"), type: 33)
            + Wire.record(Wire.pointer(to: questionOffset), type: 33, ttl: 1, data: data)
        #expect(decodingError(bytes) == "answer 1 (SRV) has 2 unused bytes at the end of its data")
    }

    @Test("10 000 randomly corrupted responses decode or throw, never trap")
    func corruptedResponses() {
        var generator = SplitMix(seed: 0x5EED)
        let original = serviceResponse()
        for _ in 0..<10_000 {
            var bytes = original
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.next() % 3 == 0 { bytes.removeLast(Int(generator.next() % UInt64(bytes.count))) }
            _ = try? DNSMessage(decoding: bytes)
        }
    }
}

/// A deterministic generator, so a failing corruption can be reproduced.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

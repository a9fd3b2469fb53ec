import NIOCore
import NIOPosix
import Synchronization

/// An authoritative DNS server for the tests, over UDP on 127.0.0.1 with an ephemeral
/// port. Its zone (A, AAAA, CNAME, SRV with optional glue in the additional section)
/// and TTLs can change while it runs; it counts the queries it receives, and can be
/// told to stop answering to simulate an unreachable server.
///
/// It encodes answers by hand (this target does not see MoongateCore), with the answer
/// owner names compressed to the question so the decoder's pointer handling is used.
/// Unknown names get NXDOMAIN; known names without records of the asked type get an
/// empty NOERROR answer.
public final class TestDNSServer: Sendable {
    public struct Service: Sendable, Equatable {
        public var priority: UInt16
        public var weight: UInt16
        public var port: UInt16
        public var target: String

        public init(priority: UInt16 = 10, weight: UInt16, port: UInt16, target: String) {
            self.priority = priority
            self.weight = weight
            self.port = port
            self.target = target
        }
    }

    public let channel: Channel
    private let zone: TestDNSZone

    public var port: Int { channel.localAddress!.port! }
    /// `127.0.0.1:port`, as a resolver's nameserver.
    public var address: String { "127.0.0.1:\(port)" }

    public init(group: EventLoopGroup) async throws {
        let zone = TestDNSZone()
        channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TestDNSHandler(zone: zone))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.zone = zone
    }

    /// Replaces the A and AAAA records of `name`.
    public func setAddresses(_ name: String, ipv4: [String] = [], ipv6: [String] = [], ttl: UInt32 = 60) {
        zone.update(name) {
            $0.ipv4 = ipv4.map(Self.ipv4Bytes)
            $0.ipv6 = ipv6.map(Self.ipv6Bytes)
            $0.addressTTL = ttl
        }
    }

    /// Replaces the SRV records of `name`. With `glue`, answers carry the targets' A and
    /// AAAA records (as the zone has them at the time) in the additional section.
    public func setServices(_ name: String, _ services: [Service], ttl: UInt32 = 60, glue: Bool = true) {
        zone.update(name) {
            $0.services = services
            $0.serviceTTL = ttl
            $0.glue = glue
        }
    }

    /// Makes `name` a CNAME for `target`.
    public func setAlias(_ name: String, to target: String, ttl: UInt32 = 60) {
        zone.update(name) {
            $0.alias = target.lowercased()
            $0.aliasTTL = ttl
        }
    }

    /// Forgets `name`: queries for it get NXDOMAIN.
    public func remove(_ name: String) {
        zone.state.withLock { _ = $0.names.removeValue(forKey: name.lowercased()) }
    }

    /// When false, queries are counted but never answered.
    public func setAnswering(_ answering: Bool) {
        zone.state.withLock { $0.answering = answering }
    }

    public var queryCount: Int { zone.state.withLock { $0.queries.count } }

    /// Queries received, as "name TYPE" ("orders.test A"), oldest first.
    public var queries: [String] { zone.state.withLock { $0.queries } }

    public func close() async { try? await channel.close() }

    static func ipv4Bytes(_ text: String) -> [UInt8] {
        let octets = text.split(separator: ".").compactMap { UInt8($0) }
        precondition(octets.count == 4, "'\(text)' is not an IPv4 address")
        return octets
    }

    static func ipv6Bytes(_ text: String) -> [UInt8] {
        func groups(_ part: Substring) -> [UInt8] {
            part.split(separator: ":").flatMap { group -> [UInt8] in
                let value = UInt16(group, radix: 16)!
                return [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
        }
        let halves = text.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        let head = groups(halves[0])
        let tail = halves.count == 2 ? groups(halves[1]) : []
        let bytes = head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
        precondition(bytes.count == 16, "'\(text)' is not an IPv6 address")
        return bytes
    }
}

/// The records of one name.
struct TestDNSEntry {
    var ipv4: [[UInt8]] = []
    var ipv6: [[UInt8]] = []
    var addressTTL: UInt32 = 60
    var services: [TestDNSServer.Service] = []
    var serviceTTL: UInt32 = 60
    var glue = true
    var alias: String?
    var aliasTTL: UInt32 = 60
}

/// The records and the query log, shared by the server handle and its channel handler.
final class TestDNSZone: Sendable {
    struct State {
        var names: [String: TestDNSEntry] = [:]
        var answering = true
        var queries: [String] = []
    }

    let state = Mutex(State())

    func update(_ name: String, _ change: (inout TestDNSEntry) -> Void) {
        state.withLock { change(&$0.names[name.lowercased(), default: TestDNSEntry()]) }
    }
}

/// Reads a query, records it, and answers from the zone.
final class TestDNSHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private static let typeA: UInt16 = 1
    private static let typeCNAME: UInt16 = 5
    private static let typeAAAA: UInt16 = 28
    private static let typeSRV: UInt16 = 33

    let zone: TestDNSZone

    init(zone: TestDNSZone) { self.zone = zone }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let query = Array(envelope.data.readableBytesView)
        guard let (labels, questionEnd) = Self.question(in: query), questionEnd + 4 <= query.count else { return }
        let type = UInt16(query[questionEnd]) << 8 | UInt16(query[questionEnd + 1])
        let name = labels.joined(separator: ".").lowercased()
        let (answering, names) = zone.state.withLock { state in
            state.queries.append("\(name) \(Self.typeName(type))")
            return (state.answering, state.names)
        }
        guard answering else { return }
        let response = Self.response(to: query, questionEnd: questionEnd + 4, name: name, type: type, names: names)
        context.writeAndFlush(
            wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: context.channel.allocator.buffer(bytes: response))),
            promise: nil)
    }

    /// The question's labels and the offset just after its name; nil for anything that is
    /// not a plain query with one question.
    private static func question(in query: [UInt8]) -> ([String], Int)? {
        guard query.count > 12, query[2] & 0x80 == 0, query[4] == 0, query[5] == 1 else { return nil }
        var labels: [String] = []
        var offset = 12
        while offset < query.count {
            let length = Int(query[offset])
            if length == 0 { return (labels, offset + 1) }
            guard length < 64, offset + 1 + length <= query.count else { return nil }
            labels.append(String(decoding: query[(offset + 1)...(offset + length)], as: UTF8.self))
            offset += 1 + length
        }
        return nil
    }

    private static func response(
        to query: [UInt8], questionEnd: Int, name: String, type: UInt16, names: [String: TestDNSEntry]
    ) -> [UInt8] {
        var answers: [[UInt8]] = []
        var additional: [[UInt8]] = []
        var owner = name
        var ownerName = [0xC0, 12] as [UInt8]
        var hops = 0
        while type != typeCNAME, let alias = names[owner]?.alias, hops < 8 {
            answers.append(record(ownerName, typeCNAME, names[owner]!.aliasTTL, encode(alias)))
            owner = alias
            ownerName = encode(alias)
            hops += 1
        }
        guard let entry = names[owner] else {
            return header(query, rcode: 3, answers: answers.count, additional: 0) + query[12..<questionEnd] + answers.joined()
        }
        switch type {
        case typeA:
            answers += entry.ipv4.map { record(ownerName, typeA, entry.addressTTL, $0) }
        case typeAAAA:
            answers += entry.ipv6.map { record(ownerName, typeAAAA, entry.addressTTL, $0) }
        case typeSRV:
            for service in entry.services {
                let data =
                    bytes(service.priority) + bytes(service.weight) + bytes(service.port) + encode(service.target)
                answers.append(record(ownerName, typeSRV, entry.serviceTTL, data))
                guard entry.glue, let target = names[service.target.lowercased()] else { continue }
                additional += target.ipv4.map { record(encode(service.target), typeA, target.addressTTL, $0) }
                additional += target.ipv6.map { record(encode(service.target), typeAAAA, target.addressTTL, $0) }
            }
        default:
            break
        }
        return header(query, rcode: 0, answers: answers.count, additional: additional.count) + query[12..<questionEnd]
            + answers.joined() + additional.joined()
    }

    /// The query's id and RD bit, with QR, AA and RA set.
    private static func header(_ query: [UInt8], rcode: UInt8, answers: Int, additional: Int) -> [UInt8] {
        [query[0], query[1], 0x84 | (query[2] & 0x01), 0x80 | rcode, 0, 1] + bytes(UInt16(answers)) + [0, 0]
            + bytes(UInt16(additional))
    }

    private static func record(_ owner: [UInt8], _ type: UInt16, _ ttl: UInt32, _ data: [UInt8]) -> [UInt8] {
        owner + bytes(type) + [0, 1] + bytes(UInt16(ttl >> 16)) + bytes(UInt16(ttl & 0xFFFF)) + bytes(UInt16(data.count)) + data
    }

    private static func encode(_ name: String) -> [UInt8] {
        name.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    private static func bytes(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    private static func typeName(_ type: UInt16) -> String {
        switch type {
        case typeA: "A"
        case typeAAAA: "AAAA"
        case typeCNAME: "CNAME"
        case typeSRV: "SRV"
        default: "TYPE\(type)"
        }
    }
}

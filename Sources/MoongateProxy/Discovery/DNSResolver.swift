import MoongateCore
import NIOCore
import NIOPosix

/// A stub resolver for service discovery: asks one recursive nameserver over UDP from
/// an event loop, so resolution never blocks a thread (no getaddrinfo). Each question
/// goes out on its own connected socket (a fresh source port and a random id per try),
/// is asked again once after `timeout`, and fails with a `DNSResolverError` naming the
/// name and the server. Truncated answers are used as they are (no TCP fallback); EDNS
/// makes room for `udpPayloadSize` bytes, enough for dozens of SRV targets with glue.
public final class DNSResolver: Sendable {
    /// Every query, timer and callback of this resolver runs here.
    public let eventLoop: EventLoop
    /// As given, for messages.
    public let nameserver: String
    /// The parsed nameserver, or why it is not usable.
    private let server: Nameserver
    private enum Nameserver: Sendable {
        case address(SocketAddress)
        case unusable(DNSResolverError.Reason)
    }
    private let timeout: TimeAmount

    /// A query and its one retry.
    static let tries = 2
    /// The EDNS(0) payload size of DNS Flag Day 2020: large answers without IP fragmentation.
    static let udpPayloadSize: UInt16 = 1232
    /// The weight of addresses found by A/AAAA lookups: the SPEC's default target weight.
    /// Callers with a configured weight for the name use theirs.
    public static let addressWeight = 100
    /// The TTL reported for an IP literal, which never needs resolving again: the largest
    /// TTL DNS allows (RFC 2181 §8).
    public static let literalTTL = Duration.seconds(Int64(Int32.max))

    /// `nameserver` is `ip:port` (`[ip]:port` for IPv6) or a bare IP (port 53). Anything
    /// else is kept as a failure that every lookup reports, since the resolver cannot
    /// resolve its own server's name.
    public init(nameserver: String, eventLoopGroup: EventLoopGroup, timeout: Duration = .seconds(2)) {
        self.eventLoop = eventLoopGroup.next()
        self.nameserver = nameserver
        self.timeout = TimeAmount(timeout)
        self.server = Self.parseNameserver(nameserver)
    }

    /// The first usable `nameserver` of resolv.conf as `ip:53`, or 127.0.0.1:53 when the
    /// file is missing or lists none (what the C library assumes too). Reads the file:
    /// call it while setting up, not on an event loop.
    public static func systemNameserver(resolvConf: String = "/etc/resolv.conf") -> String {
        ResolvConf.load(path: resolvConf)?.nameservers.first ?? "127.0.0.1:53"
    }

    /// A and AAAA for `name` (both asked at once; either may be empty), each with `port`
    /// and `addressWeight`, following CNAMEs. An IP literal (IPv6 with or without
    /// brackets) resolves to itself without a query. The lookup fails when either question
    /// fails, so a transient failure of one family never passes for an answer without it;
    /// NXDOMAIN fails it too (an existing name without addresses gives an empty list).
    public func resolveAddresses(_ name: String, port: Int) -> EventLoopFuture<[ResolvedAddress]> {
        guard (1...65535).contains(port) else {
            return eventLoop.makeFailedFuture(
                error(.invalidQuery("port must be from 1 to 65535, found \(port)"), name: name, type: .a))
        }
        var literal = Substring(name)
        if literal.hasPrefix("[") && literal.hasSuffix("]") { literal = literal.dropFirst().dropLast() }
        if let address = IPAddressBytes.parse(String(literal)) {
            return eventLoop.makeSucceededFuture([
                ResolvedAddress(host: IPAddressBytes.text(address), port: port, weight: Self.addressWeight, ttl: Self.literalTTL)
            ])
        }
        let owner = DNSQuery(id: 0, name: name, type: .a).question.name
        return query(name, .a).and(query(name, .aaaa)).map { v4, v6 in
            var seen: Set<String> = []
            return (v4.answers(for: owner, type: .a) + v6.answers(for: owner, type: .aaaa)).compactMap { record in
                guard let host = Self.addressText(record), seen.insert(host).inserted else { return nil }
                return ResolvedAddress(host: host, port: port, weight: Self.addressWeight, ttl: .seconds(Int64(record.ttl)))
            }
        }
    }

    /// SRV for `name` (e.g. "_http._tcp.orders.internal"). Only the group with the lowest
    /// priority is used (the others are backups for when it is gone from DNS). Targets are
    /// resolved from the additional section when it has addresses for them, else by A/AAAA
    /// lookups; a target that does not exist (NXDOMAIN) contributes nothing, any other
    /// failure fails the lookup. SRV weight 0 becomes weight 1: RFC 2782 gives such
    /// targets "a very small chance" rather than none, and a set published all at 0 must
    /// still share traffic evenly; weight 0 in the balancer would drain them. Every address
    /// of a target gets the target's weight. A target of "." (service not offered) and
    /// port 0 are skipped. TTLs are the smaller of the SRV's and the address's.
    public func resolveService(_ name: String) -> EventLoopFuture<[ResolvedAddress]> {
        let owner = DNSQuery(id: 0, name: name, type: .srv).question.name
        return query(name, .srv).flatMap { [self] message in
            let services = message.answers(for: owner, type: .srv).compactMap { record -> (DNSServiceRecord, UInt32)? in
                guard case .srv(let service) = record.data, service.port != 0, !service.target.isEmpty else { return nil }
                return (service, record.ttl)
            }
            guard let priority = services.map(\.0.priority).min() else { return eventLoop.makeSucceededFuture([]) }
            let group = services.filter { $0.0.priority == priority }
            let targets = group.map { service, ttl in
                targetAddresses(service, ttl: ttl, glue: message.additionalAddresses(for: service.target))
            }
            return EventLoopFuture.whenAllSucceed(targets, on: eventLoop).map { lists in
                var seen: Set<ResolvedAddress.Key> = []
                return lists.joined().filter { seen.insert($0.key).inserted }
            }
        }
    }

    private func targetAddresses(_ service: DNSServiceRecord, ttl: UInt32, glue: [DNSRecord]) -> EventLoopFuture<[ResolvedAddress]> {
        let port = Int(service.port)
        let weight = max(1, Int(service.weight))
        let srvTTL = Duration.seconds(Int64(ttl))
        if !glue.isEmpty {
            return eventLoop.makeSucceededFuture(
                glue.compactMap { record in
                    Self.addressText(record).map {
                        ResolvedAddress(host: $0, port: port, weight: weight, ttl: min(srvTTL, .seconds(Int64(record.ttl))))
                    }
                })
        }
        return resolveAddresses(service.target, port: port)
            .map { addresses in
                addresses.map { ResolvedAddress(host: $0.host, port: port, weight: weight, ttl: min(srvTTL, $0.ttl)) }
            }
            .flatMapErrorThrowing { error in
                guard let error = error as? DNSResolverError, error.reason == .nameNotFound else { throw error }
                return []
            }
    }

    /// One question; the answer only when its RCODE is NOERROR.
    func query(_ name: String, _ type: DNSRecordType) -> EventLoopFuture<DNSMessage> {
        let server: SocketAddress
        switch self.server {
        case .address(let address): server = address
        case .unusable(let reason): return eventLoop.makeFailedFuture(error(reason, name: name, type: type))
        }
        let nameserver = self.nameserver
        let makeError: @Sendable (DNSResolverError.Reason) -> DNSResolverError = { reason in
            DNSResolverError(reason, name: name, type: type, server: nameserver)
        }
        let query = DNSQuery(id: 0, name: name, type: type, udpPayloadSize: Self.udpPayloadSize)
        let promise = eventLoop.makePromise(of: DNSMessage.self)
        let timeout = self.timeout
        DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        DNSExchangeHandler(query: query, tries: Self.tries, timeout: timeout, promise: promise, makeError: makeError))
                }
            }
            .connect(to: server)
            .whenFailure { error in promise.fail(makeError(.unreachable("cannot open a socket to the server: \(error)"))) }
        return promise.futureResult.flatMapThrowing { message in
            switch message.responseCode {
            case .noError: return message
            case .nameError: throw makeError(.nameNotFound)
            default: throw makeError(.serverError(message.responseCode))
            }
        }
    }

    private func error(_ reason: DNSResolverError.Reason, name: String, type: DNSRecordType) -> DNSResolverError {
        DNSResolverError(reason, name: name, type: type, server: nameserver)
    }

    private static func addressText(_ record: DNSRecord) -> String? {
        switch record.data {
        case .a(let text), .aaaa(let text): text
        default: nil
        }
    }

    private static func parseNameserver(_ text: String) -> Nameserver {
        let hostPort: HostPort
        if let bare = IPAddressBytes.parse(text) {
            hostPort = HostPort(host: IPAddressBytes.text(bare), port: 53)
        } else {
            switch HostPort.parse(text) {
            case .success(let parsed): hostPort = parsed
            case .failure(let error): return .unusable(.invalidNameserver("nameserver '\(text)': \(error.message)"))
            }
        }
        guard IPAddressBytes.parse(hostPort.host) != nil,
            let address = try? SocketAddress(ipAddress: hostPort.host, port: hostPort.port)
        else {
            return .unusable(.invalidNameserver("nameserver '\(text)' must be an IP address and port, such as 10.0.0.2:53"))
        }
        return .address(address)
    }
}

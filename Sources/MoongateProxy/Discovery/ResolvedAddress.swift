/// One address discovery found for an upstream: an IP, the port to connect to, the
/// balancing weight and how long DNS allows the answer to be used.
public struct ResolvedAddress: Sendable, Hashable {
    /// IP text as `IPAddressBytes.parse` reads it ("10.0.0.1", "2001:db8::1"), no brackets.
    public let host: String
    public let port: Int
    public let weight: Int
    public let ttl: Duration

    public init(host: String, port: Int, weight: Int, ttl: Duration) {
        self.host = host
        self.port = port
        self.weight = weight
        self.ttl = ttl
    }

    /// `host:port`, IPv6 in brackets: the form upstream targets are written in.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension ResolvedAddress {
    /// What makes two answers the same endpoint, for dropping duplicates when two SRV
    /// records lead to the same address.
    struct Key: Hashable {
        let host: String
        let port: Int
    }

    var key: Key { Key(host: host, port: port) }
}

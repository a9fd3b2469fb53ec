/// The compiled, immutable configuration the data plane serves from. Built by
/// `ConfigCompiler` from a validated document; swapped atomically on reload.
public struct RuntimeConfig: Sendable {
    public var proxy: ProxySettings
    /// What the router matches on, index-aligned with `routes`.
    public var routeSpecs: [RouteSpec]
    public var routes: [CompiledRoute]
    public var upstreams: [String: UpstreamSpec]
    /// Global plugin instances (top-level `plugins:`), in document order.
    public var globalPlugins: [PluginInstanceConfig]
    public var consumers: [ConsumerConfig]
    public var scripts: ScriptsConfig

    public init(
        proxy: ProxySettings, routeSpecs: [RouteSpec], routes: [CompiledRoute], upstreams: [String: UpstreamSpec],
        globalPlugins: [PluginInstanceConfig] = [], consumers: [ConsumerConfig] = [], scripts: ScriptsConfig = ScriptsConfig()
    ) {
        self.proxy = proxy
        self.routeSpecs = routeSpecs
        self.routes = routes
        self.upstreams = upstreams
        self.globalPlugins = globalPlugins
        self.consumers = consumers
        self.scripts = scripts
    }
}

/// The matching part of a route (`routes[].match`), as the router takes it.
public struct RouteSpec: Sendable, Equatable {
    public var name: String
    /// "api.example.com" (exact) or "*.example.org" (one or more labels); lowercase.
    public var hosts: [String]
    /// "/orders" (element-wise prefix), "=/exact" (exact), "~^/v(\\d+)/orders$" (regex); see `PathPattern`.
    public var paths: [String]
    /// Uppercase method names.
    public var methods: [String]
    /// Header name (lowercase) -> exact value.
    public var headers: [String: String]

    public init(name: String, hosts: [String] = [], paths: [String] = [], methods: [String] = [], headers: [String: String] = [:]) {
        self.name = name
        self.hosts = hosts
        self.paths = paths
        self.methods = methods
        self.headers = headers
    }
}

/// `proxy:` of the configuration (SPEC §2).
public struct ProxySettings: Sendable, Equatable {
    /// "host:port" strings, e.g. "0.0.0.0:8000".
    public var listen: [String]
    /// Event loops; nil = one per core ("auto").
    public var workers: Int?
    /// CIDR blocks whose X-Forwarded-For is believed.
    public var trustedProxies: [CIDR]
    public var limits: ProxyLimits
    public var drainTimeout: Duration
    /// "ip:port" of the DNS server for discovery; nil = the system's.
    public var resolver: String?

    public init(
        listen: [String] = ["0.0.0.0:8000"], workers: Int? = nil, trustedProxies: [CIDR] = [],
        limits: ProxyLimits = ProxyLimits(), drainTimeout: Duration = .seconds(30), resolver: String? = nil
    ) {
        self.resolver = resolver
        self.listen = listen
        self.workers = workers
        self.trustedProxies = trustedProxies
        self.limits = limits
        self.drainTimeout = drainTimeout
    }
}

/// `proxy.limits` (SPEC §2). Defaults: 32k headers, 10m body, 10s header timeout, 60s idle.
public struct ProxyLimits: Sendable, Equatable {
    public var maxHeaderBytes: Int
    public var maxBodyBytes: Int
    public var headerTimeout: Duration
    public var idleTimeout: Duration

    public init(
        maxHeaderBytes: Int = 32 * 1024, maxBodyBytes: Int = 10 * 1024 * 1024,
        headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60)
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
    }
}

/// A route as the proxy serves it (its matching part lives in the router).
public struct CompiledRoute: Sendable, Equatable {
    public var name: String
    /// One entry for `upstream: x`, several for a weighted split (`upstreams:`).
    public var upstreams: [WeightedUpstream]
    public var stripPrefix: Bool
    public var preserveHost: Bool
    public var plugins: [PluginInstanceConfig]
    /// Replaces fields of the upstream's retry policy for this route.
    public var retries: RetryOverride?

    public init(
        name: String, upstreams: [WeightedUpstream], stripPrefix: Bool = false, preserveHost: Bool = false,
        plugins: [PluginInstanceConfig] = [], retries: RetryOverride? = nil
    ) {
        self.name = name
        self.upstreams = upstreams
        self.stripPrefix = stripPrefix
        self.preserveHost = preserveHost
        self.plugins = plugins
        self.retries = retries
    }
}

public struct WeightedUpstream: Sendable, Equatable {
    public var name: String
    public var weight: Int

    public init(name: String, weight: Int) {
        self.name = name
        self.weight = weight
    }
}

/// An upstream as the proxy uses it. Its live targets (static ones, what DNS and the
/// registry found) and their health are kept apart, across reloads, by the proxy.
public struct UpstreamSpec: Sendable, Equatable {
    public var name: String
    public var algorithm: LoadBalancingAlgorithm
    public var hashOn: HashKey
    /// As configured; host names among them are resolved by the proxy.
    public var targets: [BalancerTarget]
    public var discovery: UpstreamDiscovery
    /// Host header sent when the route does not preserve the client's (default: the target address).
    public var hostHeader: String?
    public var health: UpstreamHealthConfig
    public var retries: UpstreamRetryConfig
    public var timeouts: UpstreamTimeouts
    public var limits: UpstreamConnectionLimits
    /// Plugin instances for every route using this upstream.
    public var plugins: [PluginInstanceConfig]

    public init(
        name: String, targets: [BalancerTarget], algorithm: LoadBalancingAlgorithm = .roundRobin, hashOn: HashKey = .ip,
        discovery: UpstreamDiscovery = UpstreamDiscovery(), hostHeader: String? = nil,
        health: UpstreamHealthConfig = UpstreamHealthConfig(), retries: UpstreamRetryConfig = UpstreamRetryConfig(),
        timeouts: UpstreamTimeouts = UpstreamTimeouts(), limits: UpstreamConnectionLimits = UpstreamConnectionLimits(),
        plugins: [PluginInstanceConfig] = []
    ) {
        self.name = name
        self.algorithm = algorithm
        self.hashOn = hashOn
        self.targets = targets
        self.discovery = discovery
        self.hostHeader = hostHeader
        self.health = health
        self.retries = retries
        self.timeouts = timeouts
        self.limits = limits
        self.plugins = plugins
    }
}

/// `upstreams[].discovery` (SPEC §2): where targets come from besides `targets:`.
public struct UpstreamDiscovery: Sendable, Equatable {
    /// Self-registered instances of this registry service join the targets.
    public var registry: String?
    /// A DNS SRV name ("_http._tcp.orders.internal") whose records are targets.
    public var srv: String?

    public init(registry: String? = nil, srv: String? = nil) {
        self.registry = registry
        self.srv = srv
    }
}

/// `upstreams[].timeouts` (SPEC §2). Defaults: connect 2s, read 30s, write 30s.
public struct UpstreamTimeouts: Sendable, Equatable {
    public var connect: Duration
    public var read: Duration
    public var write: Duration

    public init(connect: Duration = .seconds(2), read: Duration = .seconds(30), write: Duration = .seconds(30)) {
        self.connect = connect
        self.read = read
        self.write = write
    }
}

/// An IPv4 or IPv6 network in CIDR notation ("10.0.0.0/8", "::1/128"; a bare address is a /32 or /128).
public struct CIDR: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// 16 bytes; IPv4 is stored as an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
    public let network: [UInt8]
    /// Prefix length over the 128-bit form.
    public let prefixLength: Int
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddressBytes.parse(String(parts[0])) else { return nil }
        let maxLength = address.isIPv4 ? 32 : 128
        var length = maxLength
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parsed >= 0, parsed <= maxLength else { return nil }
            length = parsed
        }
        prefixLength = address.isIPv4 ? length + 96 : length
        network = IPAddressBytes.masked(address.bytes, prefixLength: prefixLength)
        description = text
    }

    /// True when `address` (text form) lies in this network.
    public func contains(_ address: String) -> Bool {
        guard let parsed = IPAddressBytes.parse(address) else { return false }
        return IPAddressBytes.masked(parsed.bytes, prefixLength: prefixLength) == network
    }
}

/// Parsing of textual IPv4/IPv6 addresses into 16 bytes, without Foundation or sockets.
public enum IPAddressBytes {
    public static func parse(_ text: String) -> (bytes: [UInt8], isIPv4: Bool)? {
        if let v4 = parseIPv4(Substring(text)) { return ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + v4, true) }
        if let v6 = parseIPv6(text) { return (v6, false) }
        return nil
    }

    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = UInt8(octet)
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if text.hasPrefix("[") && text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: Substring) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains("."), let v4 = parseIPv4(piece) {
                    bytes += v4
                    continue
                }
                guard !piece.isEmpty, piece.count <= 4, let value = UInt16(piece, radix: 16) else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    static func masked(_ bytes: [UInt8], prefixLength: Int) -> [UInt8] {
        var result = bytes
        for index in 0..<16 {
            let bitsHere = max(0, min(8, prefixLength - index * 8))
            result[index] &= bitsHere == 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
        }
        return result
    }
}

extension Substring {
    func components(separatedBy separator: String) -> [Substring] {
        var result: [Substring] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            result.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        result.append(rest)
        return result
    }
}

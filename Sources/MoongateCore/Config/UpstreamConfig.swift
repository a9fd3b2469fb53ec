/// One `upstreams:` entry (SPEC §2): a named group of targets and how requests reach
/// them. The parts the proxy serves from today become an `UpstreamSpec`; the rest is
/// validated now so typos fail at load time rather than when the feature ships.
public struct UpstreamConfig: Sendable, Equatable {
    public var name: String
    public var algorithm: LoadBalancingAlgorithm
    /// What `consistent-hash` hashes; ignored by the other algorithms.
    public var hashOn: HashKey
    public var targets: [BalancerTarget]
    public var discovery: UpstreamDiscovery
    /// Host header sent when the route does not preserve the client's; nil = the target address.
    public var hostHeader: String?
    public var health: UpstreamHealthConfig
    public var retries: UpstreamRetryConfig
    public var timeouts: UpstreamTimeouts
    public var limits: UpstreamConnectionLimits
    public var tls: UpstreamTLSConfig
    /// Plugin instances for every route using this upstream.
    public var plugins: [PluginInstanceConfig]

    public init(name: String, targets: [BalancerTarget] = []) {
        self.name = name
        algorithm = .roundRobin
        hashOn = .ip
        self.targets = targets
        discovery = UpstreamDiscovery()
        hostHeader = nil
        health = UpstreamHealthConfig()
        retries = UpstreamRetryConfig()
        timeouts = UpstreamTimeouts()
        limits = UpstreamConnectionLimits()
        tls = UpstreamTLSConfig()
        plugins = []
    }

    /// What the proxy serves from.
    public var spec: UpstreamSpec {
        UpstreamSpec(
            name: name, targets: targets, algorithm: algorithm, hashOn: hashOn, discovery: discovery, hostHeader: hostHeader,
            health: health, retries: retries, timeouts: timeouts, limits: limits, plugins: plugins)
    }
}

extension UpstreamConfig {
    static let keys = [
        "name", "algorithm", "hash_on", "targets", "discovery", "host_header", "health", "retries", "timeouts", "limits", "tls",
        "plugins",
    ]

    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> UpstreamConfig? {
        guard let fields = reader.fields(node, allowed: keys) else { return nil }
        let name = reader.objectName(reader.required(fields, "name", "every upstream needs a unique name for routes to refer to"))
        var config = UpstreamConfig(name: name ?? "")
        config.algorithm = reader.choice(fields["algorithm"], of: LoadBalancingAlgorithm.self) ?? config.algorithm
        if let hashNode = fields["hash_on"], let text = reader.string(hashNode) {
            switch HashKey.parse(text) {
            case .success(let key): config.hashOn = key
            case .failure(let error): reader.report(hashNode, error.message)
            }
        }
        config.targets = reader.list(fields["targets"], uniqueBy: \.address) { target($0, reader) } ?? []
        if let discovery = reader.fields(fields["discovery"], allowed: ["registry", "srv"]) {
            config.discovery.registry = discovery["registry"].flatMap { reader.objectName($0) }
            if let srvNode = discovery["srv"], let name = reader.string(srvNode) {
                if let problem = HostName.problem(name.lowercased()) {
                    reader.report(srvNode, problem)
                } else {
                    config.discovery.srv = name.lowercased()
                }
            }
            if discovery["registry"] == nil, discovery["srv"] == nil {
                reader.report(discovery.owner, "name a 'registry' service, an 'srv' DNS name, or both")
            }
        }
        if fields["targets"] == nil, fields["discovery"] == nil {
            reader.report(
                fields.sourceOfMissing("targets"), "missing; an upstream needs targets, discovery (registry or srv), or both")
        }
        if let hostNode = fields["host_header"], let host = reader.string(hostNode) {
            config.hostHeader = host
            if let problem = hostHeaderProblem(host) { reader.report(hostNode, problem) }
        }
        config.health = fields["health"].flatMap { UpstreamHealthConfig.decode($0, reader) } ?? config.health
        config.retries = fields["retries"].flatMap { UpstreamRetryConfig.decode($0, reader) } ?? config.retries
        if let timeouts = reader.fields(fields["timeouts"], allowed: ["connect", "read", "write"]) {
            config.timeouts.connect = reader.duration(timeouts["connect"]) ?? config.timeouts.connect
            config.timeouts.read = reader.duration(timeouts["read"]) ?? config.timeouts.read
            config.timeouts.write = reader.duration(timeouts["write"]) ?? config.timeouts.write
        }
        config.limits = fields["limits"].flatMap { UpstreamConnectionLimits.decode($0, reader) } ?? config.limits
        config.tls = fields["tls"].flatMap { UpstreamTLSConfig.decode($0, reader) } ?? config.tls
        config.plugins = PluginInstanceConfig.decodeList(fields["plugins"], reader)
        return name == nil ? nil : config
    }

    /// One `targets:` entry: `{ address: "host:port", weight: 0..65535 }` (0 = drained).
    private static func target(_ node: ConfigNode, _ reader: ConfigReader) -> BalancerTarget? {
        guard let fields = reader.fields(node, allowed: ["address", "weight"]) else { return nil }
        let address = reader.hostPort(reader.required(fields, "address", "a target is a 'host:port' or '[ipv6]:port' address"))
        let weight = reader.int(fields["weight"], in: 0...65535) ?? 100
        return address.map { BalancerTarget(address: $0.description, weight: weight) }
    }

    /// A Host header value is a host name with an optional port (RFC 9110 §7.2).
    private static func hostHeaderProblem(_ value: String) -> String? {
        if case .success = HostPort.parse(value) { return nil }
        return HostName.problem(value)
    }
}

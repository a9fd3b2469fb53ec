/// `proxy:` (SPEC §2): listeners and client-side limits of the data plane. It is one
/// object: when any of it is invalid, all of it keeps its previous version (or, at
/// start-up, the caller refuses to start).
public struct ProxyConfig: Sendable, Equatable {
    /// "host:port" as written, each checked by `HostPort.parse`.
    public var listen: [String]
    /// Event loops (= Lua VMs); nil for `auto`, one per core.
    public var workers: Int?
    public var tls: ProxyTLSConfig?
    public var trustedProxies: [CIDR]
    public var limits: ProxyLimits
    public var drainTimeout: Duration
    /// The DNS server ("ip:port") for resolving target host names and `discovery.srv`;
    /// nil = the first nameserver of /etc/resolv.conf.
    public var resolver: String?

    /// The defaults SPEC §2 gives for a document without `proxy:`.
    public init() {
        let defaults = ProxySettings()
        listen = defaults.listen
        workers = defaults.workers
        tls = nil
        trustedProxies = defaults.trustedProxies
        limits = defaults.limits
        drainTimeout = defaults.drainTimeout
        resolver = nil
    }

    /// What the data plane applies (TLS listeners are read from `tls` at start-up).
    public var settings: ProxySettings {
        ProxySettings(
            listen: listen, workers: workers, trustedProxies: trustedProxies, limits: limits, drainTimeout: drainTimeout,
            resolver: resolver)
    }
}

extension ProxyConfig {
    static let keys = ["listen", "workers", "tls", "trusted_proxies", "limits", "drain_timeout", "resolver"]
    static let limitKeys = ["max_header_bytes", "max_body_bytes", "header_timeout", "idle_timeout"]

    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> ProxyConfig? {
        guard let fields = reader.fields(node, allowed: keys) else { return nil }
        var config = ProxyConfig()
        config.listen = listenAddresses(fields["listen"], reader) ?? config.listen
        if let workers = fields["workers"], workers.string != "auto" {
            if workers.tagName == .int {
                config.workers = reader.int(workers, in: 1...1024)
            } else {
                reader.report(workers, "expected 'auto' or a number of event loops, found \(workers.summary)")
            }
        }
        config.tls = fields["tls"].flatMap { ProxyTLSConfig.decode($0, reader) }
        config.trustedProxies =
            reader.list(fields["trusted_proxies"], uniqueBy: \.description) { (element: ConfigNode) -> CIDR? in
                guard let text = reader.string(element) else { return nil }
                guard let cidr = CIDR(text) else {
                    reader.report(
                        element, "expected an IP address or CIDR block such as '10.0.0.0/8' or '::1/128', found '\(text)'")
                    return nil
                }
                return cidr
            } ?? config.trustedProxies
        if let limits = reader.fields(fields["limits"], allowed: limitKeys) {
            config.limits.maxHeaderBytes = positiveSize(limits["max_header_bytes"], reader) ?? config.limits.maxHeaderBytes
            config.limits.maxBodyBytes = positiveSize(limits["max_body_bytes"], reader) ?? config.limits.maxBodyBytes
            config.limits.headerTimeout = reader.duration(limits["header_timeout"]) ?? config.limits.headerTimeout
            config.limits.idleTimeout = reader.duration(limits["idle_timeout"]) ?? config.limits.idleTimeout
        }
        config.drainTimeout = reader.duration(fields["drain_timeout"], allowZero: true) ?? config.drainTimeout
        if let resolverNode = fields["resolver"], let address = reader.hostPort(resolverNode) {
            if IPAddressBytes.parse(address.host) == nil {
                reader.report(resolverNode, "the resolver is an 'ip:port' address (it cannot itself need resolving), found '\(address)'")
            } else {
                config.resolver = address.description
            }
        }
        return config
    }

    /// A listener list: at least one address, none twice (the second bind would fail).
    static func listenAddresses(_ node: ConfigNode?, _ reader: ConfigReader) -> [String]? {
        reader.list(node, nonEmpty: "give at least one 'host:port' to listen on", uniqueBy: { $0 }) { element in
            reader.hostPort(element)?.description
        }
    }

    /// A limit of zero bytes would refuse every request, so sizes here must be positive.
    private static func positiveSize(_ node: ConfigNode?, _ reader: ConfigReader) -> Int? {
        guard let node, let bytes = reader.size(node) else { return nil }
        guard bytes > 0 else {
            reader.report(node, "expected a size greater than zero, found \(node.summary)")
            return nil
        }
        return bytes
    }
}

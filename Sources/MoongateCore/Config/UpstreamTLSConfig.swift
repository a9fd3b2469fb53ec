/// `upstreams[].tls` (SPEC §2): TLS towards the targets. Off by default; when on, the
/// target's certificate is verified unless `verify: false`.
public struct UpstreamTLSConfig: Sendable, Equatable {
    public var enabled: Bool
    public var verify: Bool
    /// Server name sent and verified; nil = the target's host name.
    public var sni: String?
    /// CA bundle to verify against; nil = the system's. Paths are resolved.
    public var caFile: String?
    /// Client certificate and key, always both or neither.
    public var clientCert: String?
    public var clientKey: String?

    public init(
        enabled: Bool = false, verify: Bool = true, sni: String? = nil, caFile: String? = nil, clientCert: String? = nil,
        clientKey: String? = nil
    ) {
        self.enabled = enabled
        self.verify = verify
        self.sni = sni
        self.caFile = caFile
        self.clientCert = clientCert
        self.clientKey = clientKey
    }
}

extension UpstreamTLSConfig {
    static let keys = ["enabled", "verify", "sni", "ca_file", "client_cert", "client_key"]

    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> UpstreamTLSConfig? {
        guard let fields = reader.fields(node, allowed: keys) else { return nil }
        var config = UpstreamTLSConfig()
        config.enabled = reader.bool(fields["enabled"]) ?? config.enabled
        config.verify = reader.bool(fields["verify"]) ?? config.verify
        if let sniNode = fields["sni"], let sni = reader.string(sniNode) {
            if let problem = HostName.problem(sni) {
                reader.report(sniNode, problem)
            } else {
                config.sni = sni
            }
        }
        config.caFile = reader.filePath(fields["ca_file"])
        config.clientCert = reader.filePath(fields["client_cert"])
        config.clientKey = reader.filePath(fields["client_key"])
        switch (fields["client_cert"], fields["client_key"]) {
        case (.some, nil):
            reader.report(fields.sourceOfMissing("client_key"), "missing; client_cert needs the matching client_key")
        case (nil, .some):
            reader.report(fields.sourceOfMissing("client_cert"), "missing; client_key needs the matching client_cert")
        default: break
        }
        return config
    }
}

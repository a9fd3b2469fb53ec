/// `proxy.tls` (SPEC §2): TLS listeners and the certificates they serve. The served
/// certificate is chosen by SNI from each certificate's names; the first one is the
/// default when SNI is absent or unknown (SPEC §7).
public struct ProxyTLSConfig: Sendable, Equatable {
    public var listen: [String]
    /// At least one; paths are resolved against the configuration file's directory.
    public var certificates: [TLSCertificateConfig]

    public init(listen: [String] = ["0.0.0.0:8443"], certificates: [TLSCertificateConfig]) {
        self.listen = listen
        self.certificates = certificates
    }
}

/// One `proxy.tls.certificates` entry: a PEM certificate chain and its private key.
public struct TLSCertificateConfig: Sendable, Equatable {
    public var cert: String
    public var key: String

    public init(cert: String, key: String) {
        self.cert = cert
        self.key = key
    }
}

extension ProxyTLSConfig {
    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> ProxyTLSConfig? {
        guard let fields = reader.fields(node, allowed: ["listen", "certificates"]) else { return nil }
        let certificatesNode = reader.required(fields, "certificates", "TLS listeners need at least one certificate")
        let certificates = reader.list(certificatesNode, nonEmpty: "TLS listeners need at least one certificate") {
            (element: ConfigNode) -> TLSCertificateConfig? in
            guard let entry = reader.fields(element, allowed: ["cert", "key"]) else { return nil }
            let cert = reader.filePath(reader.required(entry, "cert", "the PEM certificate chain to serve"))
            let key = reader.filePath(reader.required(entry, "key", "the PEM private key of the certificate"))
            guard let cert, let key else { return nil }
            return TLSCertificateConfig(cert: cert, key: key)
        }
        var config = ProxyTLSConfig(certificates: certificates ?? [])
        config.listen = ProxyConfig.listenAddresses(fields["listen"], reader) ?? config.listen
        return config
    }
}

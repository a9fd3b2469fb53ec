/// `admin:` (SPEC §5): where the admin API listens and the file holding its bearer
/// token. A document without `admin:` runs no admin API.
public struct AdminConfig: Sendable, Equatable {
    public static let defaultListen = "127.0.0.1:8001"

    public var listen: String
    /// Resolved against the configuration file's directory; its content is the token.
    public var tokenFile: String?

    public init(listen: String = AdminConfig.defaultListen, tokenFile: String? = nil) {
        self.listen = listen
        self.tokenFile = tokenFile
    }
}

extension AdminConfig {
    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> AdminConfig? {
        guard let fields = reader.fields(node, allowed: ["listen", "token_file"]) else { return nil }
        var config = AdminConfig()
        config.tokenFile = reader.filePath(fields["token_file"])
        if let listenNode = fields["listen"], let address = reader.hostPort(listenNode) {
            config.listen = address.description
            // The admin API can rewrite routes: reachable from other machines, it must
            // not be open to anyone who finds the port.
            if !address.isLoopback, fields["token_file"] == nil {
                reader.report(
                    listenNode,
                    "admin API on '\(address)' is reachable from other machines; set admin.token_file, or listen on a loopback address such as '\(defaultListen)'"
                )
            }
        }
        return config
    }
}

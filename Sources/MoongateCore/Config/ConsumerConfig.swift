/// A consumer (SPEC §2): someone who authenticates, with the credentials each auth
/// plugin looks up (`gate.consumers.find(kind, key)`). Credential shapes belong to the
/// plugins, so they are kept free-form.
public struct ConsumerConfig: Sendable, Equatable {
    public var username: String
    public var groups: [String]
    /// Credential kind (a plugin name such as "key-auth") -> its credentials.
    public var credentials: [String: [[String: ConfigValue]]]

    public init(username: String, groups: [String] = [], credentials: [String: [[String: ConfigValue]]] = [:]) {
        self.username = username
        self.groups = groups
        self.credentials = credentials
    }
}

extension ConsumerConfig {
    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> ConsumerConfig? {
        guard let fields = reader.fields(node, allowed: ["username", "groups", "credentials"]) else { return nil }
        let username = reader.string(reader.required(fields, "username", "every consumer needs a unique username"))
        let groups = reader.list(fields["groups"], uniqueBy: { $0 }) { reader.string($0) } ?? []
        var credentials: [String: [[String: ConfigValue]]] = [:]
        for (kind, list) in reader.entries(fields["credentials"]) ?? [] {
            guard ConfigName.isPluginName(kind) else {
                reader.report(list, "credential kind '\(kind)' must be a plugin name (\(ConfigName.pluginRule))")
                continue
            }
            credentials[kind] = reader.list(list) { reader.valueMap($0) } ?? []
        }
        guard let username else { return nil }
        return ConsumerConfig(username: username, groups: groups, credentials: credentials)
    }
}

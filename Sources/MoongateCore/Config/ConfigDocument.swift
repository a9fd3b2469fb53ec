import Yams

/// A decoded `moongate.yaml` (SPEC §2): every object, each either valid or rejected
/// with its reasons. Rejection is per object so that one broken route does not take
/// the others down on reload; `ConfigCompiler` turns this into what the proxy serves.
public struct ConfigDocument: Sendable {
    /// The file as named in messages.
    public let file: String
    /// The defaults when the document has no `proxy:`.
    public var proxy: ConfigEntry<ProxyConfig>
    /// Nil when the document has no `admin:` (no admin API).
    public var admin: ConfigEntry<AdminConfig>?
    public var scripts: ConfigEntry<ScriptsConfig>
    /// Global plugin instances, applied to every route.
    public var plugins: [ConfigEntry<PluginInstanceConfig>]
    public var consumers: [ConfigEntry<ConsumerConfig>]
    public var upstreams: [ConfigEntry<UpstreamConfig>]
    public var routes: [ConfigEntry<RouteConfig>]

    /// The problems found in the objects themselves, section by section. Problems
    /// between objects (duplicate names, missing upstreams) are `ConfigCompiler`'s.
    public var issues: [ConfigIssue] {
        var issues = proxy.issues + (admin?.issues ?? []) + scripts.issues
        issues += plugins.flatMap(\.issues) + consumers.flatMap(\.issues)
        issues += upstreams.flatMap(\.issues) + routes.flatMap(\.issues)
        return issues
    }
}

extension ConfigDocument {
    static let sections = ["proxy", "admin", "scripts", "plugins", "consumers", "upstreams", "routes"]
    static let listSections = ["plugins", "consumers", "upstreams", "routes"]

    /// Decodes the root of a parsed document. The layout (known sections, lists where
    /// lists belong) must be right for anything to apply: a misspelt `rotues:` would
    /// otherwise read as "no routes" and take every route down on reload.
    static func decode(root: Node?, file: String, baseDirectory: String) throws(ConfigLoadError) -> ConfigDocument {
        let rootNode = ConfigNode(node: root ?? Node([(Node, Node)]()), path: "", file: file)
        let layout = ConfigReader(baseDirectory: baseDirectory)
        let fields = layout.fields(rootNode, allowed: sections)
        for section in listSections {
            if let node = fields?[section], node.node.sequence == nil {
                layout.report(node, "expected a list of \(section), found \(node.summary)")
            }
        }
        guard let fields, !layout.hasProblems else { throw ConfigLoadError(issues: layout.issues(for: .document)) }

        func entry<Model>(
            _ kind: ConfigObject.Kind, _ node: ConfigNode, nameKey: String?, _ decode: (ConfigNode, ConfigReader) -> Model?
        ) -> ConfigEntry<Model> {
            let reader = ConfigReader(baseDirectory: baseDirectory)
            let model = decode(node, reader)
            let object = ConfigObject(kind: kind, name: nameKey.flatMap { node.peekString($0) })
            let issues = reader.issues(for: object)
            return ConfigEntry(object: object, source: node.source, draft: model, issues: issues)
        }
        func entries<Model>(
            _ section: String, _ kind: ConfigObject.Kind, nameKey: String, _ decode: (ConfigNode, ConfigReader) -> Model?
        ) -> [ConfigEntry<Model>] {
            guard let list = fields[section], case .sequence(let sequence) = list.node else { return [] }
            return sequence.enumerated().map { entry(kind, list.element($0.offset, $0.element), nameKey: nameKey, decode) }
        }
        func valid<Model>(_ model: Model, _ object: ConfigObject) -> ConfigEntry<Model> {
            ConfigEntry(
                object: object, source: ConfigSource(file: file, line: nil, path: object.kind.rawValue), draft: model, issues: [])
        }

        return ConfigDocument(
            file: file,
            proxy: fields["proxy"].map { entry(.proxy, $0, nameKey: nil, ProxyConfig.decode) } ?? valid(ProxyConfig(), .proxy),
            admin: fields["admin"].map { entry(.admin, $0, nameKey: nil, AdminConfig.decode) },
            scripts: fields["scripts"].map { entry(.scripts, $0, nameKey: nil, ScriptsConfig.decode) }
                ?? valid(ScriptsConfig(), .scripts),
            plugins: entries("plugins", .plugin, nameKey: "name", PluginInstanceConfig.decode),
            consumers: entries("consumers", .consumer, nameKey: "username", ConsumerConfig.decode),
            upstreams: entries("upstreams", .upstream, nameKey: "name", UpstreamConfig.decode),
            routes: entries("routes", .route, nameKey: "name", RouteConfig.decode)
        )
    }
}

/// Turns a decoded document into the `RuntimeConfig` the proxy serves, isolating
/// rejections per object (SPEC §2 "Validation and reloads"):
///
/// - a rejected object keeps its version from `previous` (same kind and name), and a
///   new rejected object is absent;
/// - a route never serves in a weakened form: a route whose upstream is absent is
///   rejected too, and so is a kept previous route whose upstream is now absent;
/// - everything else applies.
///
/// Start-up passes `previous: nil`, so every rejected object is simply absent.
///
/// With a `plugins` checker, an object whose plugin instance is invalid (unknown
/// plugin, config refused by its schema) is rejected like any other invalid object.
public enum ConfigCompiler {
    public static func compile(
        _ document: ConfigDocument, previous: RuntimeConfig?, plugins: (any PluginInstanceChecking)? = nil
    ) -> ConfigCompileOutcome {
        var issues = document.issues
        var retained: [ConfigObject] = []
        let checker = PluginCheck(checker: plugins)

        let proxy = proxySettings(document, previous, &retained)
        let scripts = scriptsSettings(document, previous, &retained)
        let globalPlugins = namedObjects(
            document.plugins, of: "plugin", previous: previous?.globalPlugins, name: \.name, &issues, &retained
        ) { entry, model in checker.issues(model, entry.source, entry.object) }
        let consumers = namedObjects(
            document.consumers, of: "username", previous: previous?.consumers, name: \.username, &issues, &retained
        ) { _, _ in [] }
        let upstreams = upstreamSpecs(document, previous, checker, &issues, &retained)
        let (routeSpecs, routes) = compiledRoutes(document, previous, upstreams, checker, &issues, &retained)

        let runtime = RuntimeConfig(
            proxy: proxy, routeSpecs: routeSpecs, routes: routes, upstreams: upstreams, globalPlugins: globalPlugins,
            consumers: consumers, scripts: scripts)
        let ordered = issues.enumerated().sorted {
            ($0.element.line ?? Int.max, $0.offset) < ($1.element.line ?? Int.max, $1.offset)
        }
        return ConfigCompileOutcome(runtime: runtime, rejected: ordered.map(\.element), retained: retained)
    }

    private static func proxySettings(_ document: ConfigDocument, _ previous: RuntimeConfig?, _ retained: inout [ConfigObject])
        -> ProxySettings
    {
        if let model = document.proxy.model { return model.settings }
        guard let previous else { return ProxySettings() }
        retained.append(.proxy)
        return previous.proxy
    }

    private static func scriptsSettings(
        _ document: ConfigDocument, _ previous: RuntimeConfig?, _ retained: inout [ConfigObject]
    ) -> ScriptsConfig {
        if let model = document.scripts.model { return model }
        guard let previous else { return ScriptsConfig() }
        retained.append(.scripts)
        return previous.scripts
    }

    /// Global plugin instances and consumers: each valid entry applies, an invalid one
    /// keeps its previous version (by name) when it had one.
    private static func namedObjects<Model>(
        _ entries: [ConfigEntry<Model>], of what: String, previous: [Model]?, name: (Model) -> String,
        _ issues: inout [ConfigIssue], _ retained: inout [ConfigObject],
        extraIssues: (ConfigEntry<Model>, Model) -> [ConfigIssue]
    ) -> [Model] {
        let duplicates = duplicates(in: entries, of: what)
        issues += duplicates.issues
        var models: [Model] = []
        for (index, entry) in entries.enumerated() where !duplicates.indices.contains(index) {
            if let model = entry.model {
                let problems = extraIssues(entry, model)
                if problems.isEmpty {
                    models.append(model)
                    continue
                }
                issues += problems
            }
            if let objectName = entry.object.name, let kept = previous?.first(where: { name($0) == objectName }) {
                models.append(kept)
                retained.append(entry.object)
            }
        }
        return models
    }

    private static func upstreamSpecs(
        _ document: ConfigDocument, _ previous: RuntimeConfig?, _ checker: PluginCheck, _ issues: inout [ConfigIssue],
        _ retained: inout [ConfigObject]
    ) -> [String: UpstreamSpec] {
        let duplicates = duplicates(in: document.upstreams, of: "upstream name")
        issues += duplicates.issues
        var upstreams: [String: UpstreamSpec] = [:]
        for (index, entry) in document.upstreams.enumerated() where !duplicates.indices.contains(index) {
            guard let name = entry.object.name else { continue }
            let pluginIssues = entry.model.map { checker.issues($0.plugins, entry.source, entry.object) } ?? []
            issues += pluginIssues
            if let model = entry.model, pluginIssues.isEmpty {
                upstreams[name] = model.spec
            } else if let kept = previous?.upstreams[name] {
                upstreams[name] = kept
                retained.append(entry.object)
            }
        }
        return upstreams
    }

    /// Routes in document order; a kept previous route takes the place of its rejected entry.
    private static func compiledRoutes(
        _ document: ConfigDocument, _ previous: RuntimeConfig?, _ upstreams: [String: UpstreamSpec], _ checker: PluginCheck,
        _ issues: inout [ConfigIssue],
        _ retained: inout [ConfigObject]
    ) -> ([RouteSpec], [CompiledRoute]) {
        let duplicates = duplicates(in: document.routes, of: "route name")
        issues += duplicates.issues
        let rejectedUpstreams = Set(
            document.upstreams.filter { entry in
                entry.model.map { checker.hasProblems($0.plugins) } ?? true
            }.compactMap(\.object.name))
        let knownUpstreams = Set(document.upstreams.compactMap(\.object.name)).union(upstreams.keys)
        let previousRoutes =
            previous.map { previous in
                Dictionary(
                    zip(previous.routes, previous.routeSpecs).map { ($0.0.name, $0) }, uniquingKeysWith: { first, _ in first })
            } ?? [:]

        var routeSpecs: [RouteSpec] = []
        var routes: [CompiledRoute] = []
        for (index, entry) in document.routes.enumerated() where !duplicates.indices.contains(index) {
            let missing = entry.draft?.upstreams.filter { upstreams[$0.name] == nil } ?? []
            for reference in missing {
                let message = unavailableUpstreamMessage(reference.name, rejected: rejectedUpstreams, known: knownUpstreams)
                issues.append(ConfigIssue(object: entry.object, source: reference.source, message: message))
            }
            let pluginIssues = entry.model.map { checker.issues($0.plugins, entry.source, entry.object) } ?? []
            issues += pluginIssues
            if let route = entry.model, missing.isEmpty, pluginIssues.isEmpty {
                routeSpecs.append(route.spec)
                routes.append(route.compiled)
            } else if let name = entry.object.name, let (route, spec) = previousRoutes[name],
                route.upstreams.allSatisfy({ upstreams[$0.name] != nil })
            {
                routeSpecs.append(spec)
                routes.append(route)
                retained.append(entry.object)
            }
        }
        return (routeSpecs, routes)
    }

    /// Entries whose name an earlier entry of the same list already uses. The first
    /// keeps the name; later ones are rejected without falling back on `previous`,
    /// since the name is the earlier entry's.
    private static func duplicates<Model>(in entries: [ConfigEntry<Model>], of what: String) -> (
        issues: [ConfigIssue], indices: Set<Int>
    ) {
        var first: [String: ConfigSource] = [:]
        var issues: [ConfigIssue] = []
        var indices: Set<Int> = []
        for (index, entry) in entries.enumerated() {
            guard let name = entry.object.name else { continue }
            if let earlier = first[name] {
                let line = earlier.line.map { " (line \($0))" } ?? ""
                issues.append(
                    ConfigIssue(
                        object: entry.object, source: entry.nameSource,
                        message: "\(what) '\(name)' is already used by \(earlier.path)\(line)"))
                indices.insert(index)
            } else {
                first[name] = entry.source
            }
        }
        return (issues, indices)
    }

    /// Why a route's upstream is not available, pointing at the likely intended name
    /// among all upstreams of the document, valid or not.
    private static func unavailableUpstreamMessage(_ name: String, rejected: Set<String>, known: Set<String>) -> String {
        if rejected.contains(name) {
            return "upstream '\(name)' is rejected and has no previous version, so this route cannot be served"
        }
        let names = known.sorted()
        if let suggestion = EditDistance.closest(to: name, in: names) {
            return "no upstream named '\(name)' (did you mean '\(suggestion)'?)"
        }
        if names.isEmpty { return "no upstream named '\(name)'; no upstreams are defined" }
        return "no upstream named '\(name)'; defined upstreams: \(names.map { "'\($0)'" }.joined(separator: ", "))"
    }
}

/// Asks the plugin checker (when there is one) about the instances of an object and
/// turns its answers into issues at the object's `plugins`.
private struct PluginCheck {
    let checker: (any PluginInstanceChecking)?

    func issues(_ instance: PluginInstanceConfig, _ source: ConfigSource, _ object: ConfigObject) -> [ConfigIssue] {
        guard let checker, instance.enabled else { return [] }
        // Named in the message: a plugin problem rejects the whole object.
        let owner = object.name.map { "\(object.kind.rawValue) '\($0)': " } ?? ""
        return checker.problems(in: instance).map { message in
            ConfigIssue(object: object, source: source, message: "\(owner)plugin \(message)")
        }
    }

    func issues(_ instances: [PluginInstanceConfig], _ source: ConfigSource, _ object: ConfigObject) -> [ConfigIssue] {
        let at = ConfigSource(file: source.file, line: source.line, path: source.path.isEmpty ? "plugins" : "\(source.path).plugins")
        return instances.flatMap { issues($0, at, object) }
    }

    func hasProblems(_ instances: [PluginInstanceConfig]) -> Bool {
        guard let checker else { return false }
        return instances.contains { $0.enabled && !checker.problems(in: $0).isEmpty }
    }
}

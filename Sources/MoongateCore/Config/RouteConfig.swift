/// One `routes:` entry (SPEC §2): what requests it matches and where they go. Match
/// values are normalised here (hosts and header names lowercase, methods uppercase) so
/// the router compares without folding case on every request.
public struct RouteConfig: Sendable, Equatable {
    public var name: String
    /// Exact names or `*.suffix`; lowercase.
    public var hosts: [String]
    /// As written; each parses with `PathPattern.parse`.
    public var paths: [String]
    /// Uppercase.
    public var methods: [String]
    /// Lowercase header name -> exact value.
    public var headers: [String: String]
    /// One entry for `upstream:`, several for a weighted split (`upstreams:`).
    public var upstreams: [UpstreamReference]
    public var stripPrefix: Bool
    public var preserveHost: Bool
    public var plugins: [PluginInstanceConfig]
    /// `retries:` fields that replace the upstream's for this route.
    public var retries: RetryOverride?

    public init(
        name: String, hosts: [String] = [], paths: [String] = [], methods: [String] = [], headers: [String: String] = [:],
        upstreams: [UpstreamReference], stripPrefix: Bool = false, preserveHost: Bool = false,
        plugins: [PluginInstanceConfig] = []
    ) {
        self.name = name
        self.hosts = hosts
        self.paths = paths
        self.methods = methods
        self.headers = headers
        self.upstreams = upstreams
        self.stripPrefix = stripPrefix
        self.preserveHost = preserveHost
        self.plugins = plugins
    }

    /// What the router matches on.
    public var spec: RouteSpec {
        RouteSpec(name: name, hosts: hosts, paths: paths, methods: methods, headers: headers)
    }

    /// What the proxy does with a matched request.
    public var compiled: CompiledRoute {
        CompiledRoute(
            name: name, upstreams: upstreams.map { WeightedUpstream(name: $0.name, weight: $0.weight) }, stripPrefix: stripPrefix,
            preserveHost: preserveHost, plugins: plugins, retries: retries)
    }
}

/// A route's reference to an upstream, remembering where it was written so a missing
/// or rejected upstream is reported at the reference.
public struct UpstreamReference: Sendable, Equatable {
    public var name: String
    public var weight: Int
    public var source: ConfigSource

    public init(name: String, weight: Int = 100, source: ConfigSource) {
        self.name = name
        self.weight = weight
        self.source = source
    }
}

extension RouteConfig {
    static let keys = ["name", "match", "upstream", "upstreams", "strip_prefix", "preserve_host", "retries", "plugins"]
    static let matchKeys = ["hosts", "paths", "methods", "headers"]

    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> RouteConfig? {
        guard let fields = reader.fields(node, allowed: keys) else { return nil }
        let name = reader.objectName(reader.required(fields, "name", "every route needs a unique name"))
        var route = RouteConfig(name: name ?? "", upstreams: [])
        let matchNode = reader.required(
            fields, "match", "a route matches on at least one of \(matchKeys.joined(separator: ", "))")
        if let match = reader.fields(matchNode, allowed: matchKeys) {
            route.hosts = reader.list(match["hosts"], uniqueBy: { $0 }) { host($0, reader) } ?? []
            route.paths = reader.list(match["paths"], uniqueBy: { $0 }) { path($0, reader) } ?? []
            route.methods = reader.list(match["methods"], uniqueBy: { $0 }) { method($0, reader) } ?? []
            route.headers = headers(match["headers"], reader)
            // A route matching everything would shadow the 404 for every request.
            if matchKeys.allSatisfy({ match[$0]?.isEmptyCollection ?? true }) {
                reader.report(
                    match.owner, "a route must match on at least one of \(matchKeys.joined(separator: ", ")); found none")
            }
        }
        route.upstreams = upstreams(fields, reader)
        route.stripPrefix = reader.bool(fields["strip_prefix"]) ?? false
        route.preserveHost = reader.bool(fields["preserve_host"]) ?? false
        route.plugins = PluginInstanceConfig.decodeList(fields["plugins"], reader)
        route.retries = fields["retries"].flatMap { RetryOverride.decode($0, reader) }
        return name == nil ? nil : route
    }

    /// `upstream: name` or `upstreams: [{name, weight}]`, exactly one of them.
    private static func upstreams(_ fields: ConfigFields, _ reader: ConfigReader) -> [UpstreamReference] {
        switch (fields["upstream"], fields["upstreams"]) {
        case (let single?, nil):
            guard let name = reader.objectName(single) else { return [] }
            return [UpstreamReference(name: name, source: single.source)]
        case (nil, let split?):
            return reader.list(split, nonEmpty: "list the upstreams to split traffic between", uniqueBy: \.name) {
                (element: ConfigNode) -> UpstreamReference? in
                guard let entry = reader.fields(element, allowed: ["name", "weight"]) else { return nil }
                let nameNode = reader.required(entry, "name", "each entry of a split names an upstream")
                let weight = reader.int(entry["weight"], in: 1...65535) ?? 100
                return reader.objectName(nameNode).map {
                    UpstreamReference(name: $0, weight: weight, source: nameNode?.source ?? element.source)
                }
            } ?? []
        case (.some(let single), .some):
            reader.report(
                single,
                "'upstream' and 'upstreams' are mutually exclusive; keep 'upstream' for one upstream or 'upstreams' for a weighted split"
            )
            return []
        case (nil, nil):
            reader.report(
                fields.sourceOfMissing("upstream"),
                "missing; a route needs 'upstream: NAME' or a weighted split 'upstreams: [{name, weight}]'")
            return []
        }
    }

    /// An exact host name or `*.suffix` (one or more labels), lowercased.
    private static func host(_ node: ConfigNode, _ reader: ConfigReader) -> String? {
        guard let text = reader.string(node) else { return nil }
        let host = text.lowercased()
        if host == "*" {
            reader.report(node, "'*' matches every host; leave 'hosts' out instead")
            return nil
        }
        let name = host.hasPrefix("*.") ? String(host.dropFirst(2)) : host
        if name.contains("*") {
            reader.report(node, "a wildcard is allowed only as the whole first label ('*.example.org'), found '\(text)'")
            return nil
        }
        if name.contains(":") {
            reader.report(node, "route hosts match the host name without a port, found '\(text)'")
            return nil
        }
        if let problem = HostName.problem(name) {
            reader.report(node, problem)
            return nil
        }
        return host
    }

    private static func path(_ node: ConfigNode, _ reader: ConfigReader) -> String? {
        guard let text = reader.string(node) else { return nil }
        switch PathPattern.parse(text) {
        case .success(.regex): return text
        case .success(.prefix(let path)), .success(.exact(let path)):
            // Requests are matched after normalisation; a path that cannot be
            // normalised could never match one, and the router refuses it.
            guard PathNormalizer.normalize(path) != nil else {
                reader.report(node, "path '\(text)' contains control characters or a '%' not followed by two hex digits")
                return nil
            }
            return text
        case .failure(let error):
            reader.report(node, error.message)
            return nil
        }
    }

    private static func method(_ node: ConfigNode, _ reader: ConfigReader) -> String? {
        guard let text = reader.string(node) else { return nil }
        guard HTTPToken.isValid(text) else {
            reader.report(node, "'\(text)' is not an HTTP method name (letters, digits and !#$%&'*+-.^_`|~)")
            return nil
        }
        return text.uppercased()
    }

    /// Header name -> exact value; names are case-insensitive in HTTP, so two names
    /// differing only in case are the same header written twice.
    private static func headers(_ node: ConfigNode?, _ reader: ConfigReader) -> [String: String] {
        var headers: [String: String] = [:]
        var seen: [String: String] = [:]
        for (name, valueNode) in reader.entries(node) ?? [] {
            guard HTTPToken.isValid(name) else {
                reader.report(valueNode, "'\(name)' is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)")
                continue
            }
            let key = name.lowercased()
            if let first = seen[key] {
                reader.report(valueNode, "header '\(name)' is listed twice (also at \(first))")
                continue
            }
            seen[key] = valueNode.path
            if let value = reader.scalarText(valueNode) { headers[key] = value }
        }
        return headers
    }
}

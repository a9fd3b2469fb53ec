import Yams

/// Reads one configuration object (a route, an upstream, the `proxy` section) out of
/// YAML nodes and collects every problem instead of stopping at the first, so a person
/// fixes a whole object in one pass. Each accessor returns nil after recording why it
/// refused a node (and returns nil silently for an absent one); callers then fall back
/// to the default and carry on, and the object is rejected when `hasProblems`.
///
/// A reader is created per object and never shared.
final class ConfigReader {
    /// Relative paths in the document resolve against this directory ("" = as written).
    let baseDirectory: String
    private var problems: [(source: ConfigSource, message: String)] = []

    init(baseDirectory: String) {
        self.baseDirectory = baseDirectory
    }

    var hasProblems: Bool { !problems.isEmpty }

    func report(_ source: ConfigSource, _ message: String) {
        problems.append((source, message))
    }

    func report(_ node: ConfigNode, _ message: String) {
        report(node.source, message)
    }

    func issues(for object: ConfigObject) -> [ConfigIssue] {
        problems.map { ConfigIssue(object: object, source: $0.source, message: $0.message) }
    }

    // MARK: Structure

    /// The node as a map whose keys are all in `allowed`; unknown keys are reported
    /// with their own path and line, because a typo must not pass silently (SPEC §2).
    func fields(_ node: ConfigNode?, allowed: [String]) -> ConfigFields? {
        guard let node else { return nil }
        guard let pairs = keyedEntries(node, expecting: "a map with keys \(allowed.joined(separator: ", "))") else { return nil }
        var values: [String: ConfigNode] = [:]
        for (key, keyNode, value) in pairs {
            guard allowed.contains(key) else {
                let keySource = ConfigSource(file: node.file, line: keyNode.mark?.line, path: value.path)
                if let suggestion = EditDistance.closest(to: key, in: allowed) {
                    report(keySource, "unknown key '\(key)' (did you mean '\(suggestion)'?)")
                } else {
                    report(keySource, "unknown key '\(key)'; expected one of: \(allowed.joined(separator: ", "))")
                }
                continue
            }
            if !value.isNull { values[key] = value }
        }
        return ConfigFields(owner: node, values: values)
    }

    /// The entries of a map whose keys the caller interprets (header names, credential
    /// kinds), in document order.
    func entries(_ node: ConfigNode?) -> [(key: String, value: ConfigNode)]? {
        guard let node, let pairs = keyedEntries(node, expecting: "a map") else { return nil }
        return pairs.map { ($0.key, $0.value) }
    }

    func required(_ fields: ConfigFields, _ key: String, _ reason: String) -> ConfigNode? {
        if let value = fields[key] { return value }
        report(fields.sourceOfMissing(key), "missing; \(reason)")
        return nil
    }

    /// The node as a list, each element converted by `element` (elements it refuses are
    /// left out, their problems recorded). `nonEmpty` is the reason an empty list is
    /// refused, nil when it is allowed; `uniqueBy` reports repeated entries, which are
    /// always a mistake in the lists that pass it.
    func list<Element>(
        _ node: ConfigNode?, nonEmpty: String? = nil, uniqueBy key: ((Element) -> String)? = nil,
        _ element: (ConfigNode) -> Element?
    ) -> [Element]? {
        guard let node else { return nil }
        guard case .sequence(let sequence) = node.node else {
            report(node, "expected a list, found \(node.summary)")
            return nil
        }
        if sequence.isEmpty, let nonEmpty {
            report(node, "the list is empty; \(nonEmpty)")
            return nil
        }
        var result: [Element] = []
        var seen: [String: String] = [:]
        for (index, child) in sequence.enumerated() {
            let childNode = node.element(index, child)
            guard let value = element(childNode) else { continue }
            if let key {
                let identity = key(value)
                if let first = seen[identity] {
                    report(childNode, "'\(identity)' is listed twice (also at \(first))")
                    continue
                }
                seen[identity] = childNode.path
            }
            result.append(value)
        }
        return result
    }

    private func keyedEntries(_ node: ConfigNode, expecting: String) -> [(key: String, keyNode: Node, value: ConfigNode)]? {
        guard case .mapping(let mapping) = node.node else {
            report(node, "expected \(expecting), found \(node.summary)")
            return nil
        }
        var result: [(key: String, keyNode: Node, value: ConfigNode)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                report(
                    ConfigSource(file: node.file, line: keyNode.mark?.line, path: node.path),
                    "map keys must be plain text, found \(ConfigNode(node: keyNode, path: node.path, file: node.file).summary)")
                continue
            }
            result.append((key, keyNode, node.child(key, value)))
        }
        return result
    }
}

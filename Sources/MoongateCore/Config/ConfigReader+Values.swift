import Yams

/// Typed accessors for values: each returns nil for an absent node, and nil after
/// reporting what was expected and what was found for a refused one.
extension ConfigReader {
    /// A non-empty string; numbers and booleans are refused with a hint to quote them,
    /// so `version: 1.10` cannot silently become "1.1".
    func string(_ node: ConfigNode?) -> String? {
        guard let node else { return nil }
        guard let text = node.string else {
            let hint = node.node.scalar != nil && !node.isNull ? " (quote it to make it a string)" : ""
            report(node, "expected a string, found \(node.summary)\(hint)")
            return nil
        }
        guard !text.isEmpty else {
            report(node, "expected a non-empty string, found ''")
            return nil
        }
        return text
    }

    /// Any scalar's text as written, for values compared as text (header values), where
    /// `X-Version: 2` plainly means "2".
    func scalarText(_ node: ConfigNode?) -> String? {
        guard let node else { return nil }
        guard let scalar = node.node.scalar, !node.isNull else {
            report(node, "expected a text value, found \(node.summary)")
            return nil
        }
        return scalar.string
    }

    func bool(_ node: ConfigNode?) -> Bool? {
        guard let node else { return nil }
        guard node.tagName == .bool, let value = node.node.bool else {
            report(node, "expected true or false, found \(node.summary)")
            return nil
        }
        return value
    }

    func int(_ node: ConfigNode?, in range: ClosedRange<Int>) -> Int? {
        guard let node else { return nil }
        let expected =
            range.upperBound == Int.max
            ? "an integer of at least \(range.lowerBound)" : "an integer from \(range.lowerBound) to \(range.upperBound)"
        guard node.tagName == .int, let value = node.node.int else {
            report(node, "expected \(expected), found \(node.summary)")
            return nil
        }
        guard range.contains(value) else {
            report(node, "expected \(expected), found \(value)")
            return nil
        }
        return value
    }

    /// A duration string (SPEC §2). Bare numbers are refused: they carry no unit.
    func duration(_ node: ConfigNode?, allowZero: Bool = false) -> Duration? {
        guard let node else { return nil }
        guard let text = node.string else {
            let hint = node.tagName == .int ? " (a duration needs a unit, e.g. '\(node.node.scalar?.string ?? "")s')" : ""
            report(node, "expected a duration such as \(ConfigDuration.examples), found \(node.summary)\(hint)")
            return nil
        }
        guard let duration = ConfigDuration.parse(text) else {
            report(node, "expected a duration such as \(ConfigDuration.examples), found '\(text)'")
            return nil
        }
        guard allowZero || duration > .zero else {
            report(node, "expected a duration greater than zero, found '\(text)'")
            return nil
        }
        return duration
    }

    /// A size in bytes: an integer, or a string with a `k`/`m`/`g` suffix (SPEC §2).
    func size(_ node: ConfigNode?) -> Int? {
        guard let node else { return nil }
        if node.tagName == .int, let bytes = node.node.int, bytes >= 0 { return bytes }
        guard let text = node.string, let bytes = ConfigByteSize.parse(text) else {
            report(node, "expected \(ConfigByteSize.examples), found \(node.summary)")
            return nil
        }
        return bytes
    }

    /// A file or directory path, resolved against the configuration file's directory
    /// so the document means the same whatever the working directory (SPEC §2).
    func filePath(_ node: ConfigNode?) -> String? {
        guard let path = string(node) else { return nil }
        guard !path.hasPrefix("/"), !baseDirectory.isEmpty else { return path }
        var relative = Substring(path)
        while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
        if relative.isEmpty || relative == "." { return baseDirectory }
        return baseDirectory.hasSuffix("/") ? baseDirectory + relative : baseDirectory + "/" + relative
    }

    func hostPort(_ node: ConfigNode?) -> HostPort? {
        guard let node, let text = string(node) else { return nil }
        switch HostPort.parse(text) {
        case .success(let address): return address
        case .failure(let error):
            report(node, error.message)
            return nil
        }
    }

    /// A route, upstream or registry name (see `ConfigName`).
    func objectName(_ node: ConfigNode?) -> String? {
        guard let node, let name = string(node) else { return nil }
        guard ConfigName.isObjectName(name) else {
            report(node, "name '\(name)' may contain only \(ConfigName.objectRule)")
            return nil
        }
        return name
    }

    func pluginName(_ node: ConfigNode?) -> String? {
        guard let node, let name = string(node) else { return nil }
        guard ConfigName.isPluginName(name) else {
            report(node, "plugin name '\(name)' may contain only \(ConfigName.pluginRule)")
            return nil
        }
        return name
    }

    /// One of a fixed set of words (`algorithm: round-robin`).
    func choice<Choice: RawRepresentable & CaseIterable>(_ node: ConfigNode?, of type: Choice.Type) -> Choice?
    where Choice.RawValue == String {
        guard let node, let text = string(node) else { return nil }
        if let value = Choice(rawValue: text) { return value }
        let choices = Choice.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        report(node, "expected one of \(choices), found '\(text)'")
        return nil
    }

    /// A free-form value, kept with its YAML types for a plugin's schema to check.
    func value(_ node: ConfigNode) -> ConfigValue {
        switch node.node {
        case .mapping:
            var map: [String: ConfigValue] = [:]
            for (key, child) in entries(node) ?? [] { map[key] = value(child) }
            return .map(map)
        case .sequence(let sequence):
            return .list(sequence.enumerated().map { value(node.element($0.offset, $0.element)) })
        case .alias:
            return .null
        case .scalar(let scalar):
            switch node.tagName {
            case .null: return .null
            case .bool: return node.node.bool.map(ConfigValue.bool) ?? .string(scalar.string)
            case .int: return node.node.int.map(ConfigValue.int) ?? .string(scalar.string)
            case .float: return node.node.float.map(ConfigValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        }
    }

    /// A free-form map (`config:` of a plugin instance).
    func valueMap(_ node: ConfigNode?) -> [String: ConfigValue]? {
        guard let node else { return nil }
        guard case .mapping = node.node else {
            report(node, "expected a map, found \(node.summary)")
            return nil
        }
        guard case .map(let map) = value(node) else { return nil }
        return map
    }
}

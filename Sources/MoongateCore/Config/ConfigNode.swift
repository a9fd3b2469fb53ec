import Yams

/// A YAML node together with where it came from, so every diagnostic about it can
/// name the file, the line and the path (`routes[1].match.paths[0]`).
struct ConfigNode {
    let node: Node
    let path: String
    let file: String

    var line: Int? { node.mark?.line }
    var source: ConfigSource { ConfigSource(file: file, line: line, path: path) }

    func child(_ key: String, _ node: Node) -> ConfigNode {
        ConfigNode(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    func element(_ index: Int, _ node: Node) -> ConfigNode {
        ConfigNode(node: node, path: "\(path)[\(index)]", file: file)
    }

    /// The YAML type after resolution (`tag:yaml.org,2002:int` for a plain `80`).
    var tagName: Tag.Name { Tag.Name(rawValue: node.tag.rawValue) }

    /// A key that is present with an empty value (`timeouts:`) counts as absent.
    var isNull: Bool { node.scalar != nil && tagName == .null }

    /// An empty list or map (`hosts: []`), which says as little as leaving the key out.
    var isEmptyCollection: Bool {
        switch node {
        case .sequence(let sequence): sequence.isEmpty
        case .mapping(let mapping): mapping.isEmpty
        case .scalar, .alias: false
        }
    }

    /// A string as YAML resolved it: quoted, or plain text that is not a number,
    /// boolean or null. `port: 80` is an integer, `port: "80"` a string.
    var string: String? {
        guard let scalar = node.scalar, tagName == .str else { return nil }
        return scalar.string
    }

    /// The string under `key` when this is a map, without reporting anything: names an
    /// object in its issues even when the rest of it is broken.
    func peekString(_ key: String) -> String? {
        guard let value = node.mapping?[key] else { return nil }
        return ConfigNode(node: value, path: path, file: file).string
    }

    /// How the node reads after "found" in a message.
    var summary: String {
        switch node {
        case .mapping: return "a map"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            let text = scalar.string.count > 60 ? scalar.string.prefix(57) + "..." : scalar.string
            switch tagName {
            case .null: return "nothing (null)"
            case .bool: return "the boolean \(text)"
            case .int, .float: return "the number \(text)"
            default: return "'\(text)'"
            }
        }
    }
}

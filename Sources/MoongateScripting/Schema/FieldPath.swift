/// Builds the field paths that errors name: `key-auth.key_names[2]`,
/// `rate-limiting.policy.name`, `request-transformer.add.headers["x.y"]`.
enum FieldPath {
    /// `path.name`, or `path["name"]` when the name holds characters that would make the
    /// dotted form ambiguous.
    static func child(_ name: String, of path: String) -> String {
        let isPlain = !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-": true
            default: false
            }
        }
        if isPlain { return "\(path).\(name)" }
        var escaped = ""
        for character in name {
            if character == "\\" || character == "\"" { escaped.append("\\") }
            escaped.append(character)
        }
        return "\(path)[\"\(escaped)\"]"
    }

    /// `path[position]`, with positions counted from 1 as Lua does.
    static func element(_ position: Int, of path: String) -> String {
        "\(path)[\(position)]"
    }
}

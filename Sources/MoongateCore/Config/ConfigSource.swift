/// Where something was written in a configuration document: enough for a person to
/// jump to it (`moongate.yaml:14`) and to know which field is meant
/// (`routes[1].match.paths[0]`) even when several share a line.
public struct ConfigSource: Sendable, Hashable {
    /// The file as the user named it (or a label such as "POST /config").
    public var file: String
    /// 1-based; nil when the YAML parser gave no position.
    public var line: Int?
    /// Dotted path from the document root; "" for the root itself.
    public var path: String

    public init(file: String, line: Int?, path: String) {
        self.file = file
        self.line = line
        self.path = path
    }

    /// `FILE:LINE: PATH` with the unknown parts left out, the prefix of every diagnostic.
    var prefix: String {
        var text = file
        if let line { text += ":\(line)" }
        if !path.isEmpty { text += ": \(path)" }
        return text
    }
}

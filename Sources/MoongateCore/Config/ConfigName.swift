/// Names that people give objects. Route, upstream and registry names appear in admin
/// API URLs (`/upstreams/{name}/health`) and metric labels, so they are kept to
/// characters that need no escaping there. Plugin names are Lua file names without
/// `.lua`, and a dot there would make a module path (SPEC §3), so they have no dots.
enum ConfigName {
    static let objectRule = "letters, digits, '.', '_' and '-', starting with a letter or digit"
    static let pluginRule = "letters, digits, '_' and '-'"

    static func isObjectName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first.isNumber, name.utf8.count <= 128 else {
            return false
        }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }

    static func isPluginName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}

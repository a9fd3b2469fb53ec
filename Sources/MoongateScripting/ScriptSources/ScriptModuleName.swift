/// The rules that turn script file names into `require` names and plugin names (SPEC §3).
///
/// They match what LuaKit's `require` accepts (dotted parts of ASCII letters, digits, `_`
/// and `-`), so every file the loader accepts can also be required.
enum ScriptModuleName {
    static let fileExtension = ".lua"

    /// The module a directory entry names, or nil when the entry is not a script at all:
    /// hidden names (ConfigMap internals such as `..data`, editor files) and names without
    /// the `.lua` extension are skipped silently.
    static func candidate(fileName: String) -> String? {
        guard !fileName.hasPrefix("."), fileName.hasSuffix(fileExtension) else { return nil }
        return String(fileName.dropLast(fileExtension.count))
    }

    /// Whether `module` is dotted parts that are each non-empty letters, digits, `_`, `-`.
    static func isValid(_ module: String) -> Bool {
        !module.isEmpty
            && module.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isValidPart)
    }

    /// A plugin is a top-level module: one part, no dot (dotted modules are helpers).
    static func isPluginName(_ module: String) -> Bool {
        isValidPart(Substring(module))
    }

    static let invalidNameHint = "use letters, digits, '_' and '-', with '.' only between non-empty parts"

    private static func isValidPart(_ part: Substring) -> Bool {
        !part.isEmpty
            && part.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}

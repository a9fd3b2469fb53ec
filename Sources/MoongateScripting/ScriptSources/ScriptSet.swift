import Crypto

/// Every Lua module a script generation can use, after shadowing: scripts paths in the
/// order given, then the bundled `lua/` directory.
public struct ScriptSet: Sendable, Equatable {
    /// Module name -> the file that won.
    public let files: [String: ScriptFile]
    /// SHA-256 (hex) over every module's name, path and bytes: equal fingerprints mean a
    /// reload would compile exactly the same code, so it can be skipped.
    public let fingerprint: String

    /// Builds a set from files that are already resolved (for example ConfigMaps read
    /// through the Kubernetes API, each key a file).
    public init(files: [String: ScriptFile]) {
        self.files = files
        self.fingerprint = Self.fingerprint(of: files)
    }

    /// Sorted names of the modules that can be configured as plugins: top-level names of
    /// letters, digits, `_` and `-` (dotted modules such as `mylib.util` are helpers).
    public var pluginNames: [String] {
        files.keys.filter(ScriptModuleName.isPluginName).sorted()
    }

    public func file(_ module: String) -> ScriptFile? {
        files[module]
    }

    private static func fingerprint(of files: [String: ScriptFile]) -> String {
        var hasher = SHA256()
        for module in files.keys.sorted() {
            let file = files[module]!
            // Length-prefixed fields, so no two different sets hash the same bytes.
            for field in [Array(module.utf8), Array(file.path.utf8), file.source] {
                withUnsafeBytes(of: UInt64(field.count).bigEndian) { hasher.update(bufferPointer: $0) }
                hasher.update(data: field)
            }
        }
        return hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the bundled `lua/` directory (holding `plugins/` and `moongate/`) wherever the
/// binary runs: installed beside it, under a `share/` prefix, or in the source tree during
/// development (SPEC §3: "Bundled plugins are found wherever the binary runs").
public enum BundledScripts {
    /// The environment variable that overrides every other place.
    public static let environmentVariable = "MOONGATE_LUA_PATH"

    /// In order: `MOONGATE_LUA_PATH` when set (returned even if missing, so a wrong value is
    /// reported by the loader instead of silently falling back); `<executable dir>/lua`;
    /// `<executable dir>/../share/moongate/lua`; the source tree's `lua/`. The first of the
    /// last three that is a directory wins; nil when none is.
    public static func locate() -> String? {
        locate(
            override: getenv(environmentVariable).map { String(cString: $0) },
            executablePath: runningExecutablePath(),
            sourceFile: #filePath)
    }

    static func locate(override: String?, executablePath: String?, sourceFile: String) -> String? {
        if let override, !override.isEmpty { return override }
        return candidates(executablePath: executablePath, sourceFile: sourceFile).first(where: isDirectory)
    }

    static func candidates(executablePath: String?, sourceFile: String) -> [String] {
        var candidates: [String] = []
        if let executablePath, let executableDirectory = parent(of: executablePath) {
            candidates.append(executableDirectory + "/lua")
            candidates.append(executableDirectory + "/../share/moongate/lua")
        }
        if let repositoryRoot = repositoryRoot(above: sourceFile) {
            candidates.append(repositoryRoot + "/lua")
        }
        return candidates
    }

    /// The nearest directory above `sourceFile` holding both `Package.swift` and `lua/`:
    /// the checkout this binary was built from, for `swift run` and tests.
    private static func repositoryRoot(above sourceFile: String) -> String? {
        var directory = parent(of: sourceFile)
        while let current = directory {
            if case .success(let manifest) = ScriptFileSystem.status(current + "/Package.swift"),
                manifest.isRegularFile, isDirectory(current + "/lua")
            {
                return current
            }
            directory = parent(of: current)
        }
        return nil
    }

    private static func parent(of path: String) -> String? {
        guard let slash = path.lastIndex(of: "/") else { return nil }
        if slash == path.startIndex { return path == "/" ? nil : "/" }
        return String(path[..<slash])
    }

    private static func isDirectory(_ path: String) -> Bool {
        guard case .success(let status) = ScriptFileSystem.status(path) else { return false }
        return status.isDirectory
    }

    private static func runningExecutablePath() -> String? {
        #if os(Linux)
        return ScriptFileSystem.symbolicLinkTarget("/proc/self/exe")
        #else
        var size: UInt32 = 0
        _ = _NSGetExecutablePath(nil, &size)
        var buffer = [CChar](repeating: 0, count: Int(size) + 1)
        guard _NSGetExecutablePath(&buffer, &size) == 0 else { return nil }
        return String(cString: buffer)
        #endif
    }
}

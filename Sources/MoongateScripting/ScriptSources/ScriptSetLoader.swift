/// Loads the Lua modules of one script generation from the scripts paths and the bundled
/// `lua/` directory (SPEC §3).
///
/// Precedence, highest first: the scripts paths in the order given, then bundled
/// `lua/plugins/NAME.lua` (module `NAME`) and `lua/moongate/X.lua` (module `moongate.X`).
/// So a file in a scripts path shadows a bundled plugin or helper of the same module name.
public enum ScriptSetLoader {
    /// - Parameters:
    ///   - paths: scripts directories (plain or ConfigMap volumes), first listed wins.
    ///   - bundledRoot: the directory holding `plugins/` and `moongate/` (see
    ///     ``BundledScripts/locate()``); nil when no bundled scripts are used. Either
    ///     subdirectory may be absent.
    /// - Throws: every problem found (unreadable directories or files, invalid module
    ///   names), each naming its path, so nothing partial is ever returned.
    public static func load(paths: [String], bundledRoot: String?) throws(ScriptSourceError) -> ScriptSet {
        var files: [String: ScriptFile] = [:]
        var problems: [String] = []

        func add(_ contents: ScriptDirectoryReader.Contents) {
            problems += contents.problems
            for file in contents.files where files[file.module] == nil {
                files[file.module] = file
            }
        }

        for path in paths {
            add(ScriptDirectoryReader.read(path, describedAs: "scripts path"))
        }
        if let bundledRoot {
            add(readBundled(root: bundledRoot))
        }
        guard problems.isEmpty else { throw ScriptSourceError(problems: problems) }
        return ScriptSet(files: files)
    }

    private static func readBundled(root: String) -> ScriptDirectoryReader.Contents {
        guard case .success(let status) = ScriptFileSystem.status(root), status.isDirectory else {
            return ScriptDirectoryReader.Contents(problems: [
                "bundled Lua directory '\(root)' is not a readable directory (set MOONGATE_LUA_PATH to the "
                    + "directory holding plugins/ and moongate/)"
            ])
        }
        var contents = ScriptDirectoryReader.Contents()
        for (subdirectory, modulePrefix) in [("plugins", ""), ("moongate", "moongate.")] {
            let directory = ScriptFileSystem.join(root, subdirectory)
            guard case .success(let status) = ScriptFileSystem.status(directory), status.isDirectory else { continue }
            let read = ScriptDirectoryReader.read(directory, describedAs: "bundled Lua directory")
            contents.problems += read.problems
            contents.files += read.files.map { file in
                ScriptFile(module: modulePrefix + file.module, path: file.path, source: file.source)
            }
        }
        return contents
    }
}

/// Reads the scripts directly inside one directory as one consistent version.
///
/// A Kubernetes ConfigMap volume holds `..data -> ..2026_11_27_...` (the current version's
/// directory) and one `KEY -> ..data/KEY` link per key. The kubelet updates it by writing a
/// new version directory, renaming a `..data_tmp` link over `..data`, then deleting the old
/// version. Reading each key through its own link could mix two versions, so `..data` is
/// resolved once and every key is read from that version directory; when the version
/// moves or disappears mid-read, the whole directory is read again.
enum ScriptDirectoryReader {
    /// The link the kubelet swaps atomically on every ConfigMap update.
    static let configMapDataLink = "..data"
    /// Reads retried when a ConfigMap update races the load; the kubelet's swap is a few
    /// syscalls, so a second read nearly always sees a settled version.
    static let maximumAttempts = 5

    struct Contents {
        var files: [ScriptFile] = []
        var problems: [String] = []
        /// A listed file vanished before it was read. In a ConfigMap version directory this
        /// means the kubelet removed the version, so the read must start again; in a plain
        /// directory the file was simply deleted and is left out.
        var raced = false
    }

    /// Every `.lua` regular file directly in `directory`; `label` names the directory's role
    /// in messages ("scripts path", "bundled Lua directory").
    static func read(_ directory: String, describedAs label: String) -> Contents {
        let names: [String]
        switch ScriptFileSystem.listDirectory(directory) {
        case .failure(let failure):
            return Contents(problems: ["\(label) '\(directory)' is not a readable directory (\(failure.reason))"])
        case .success(let listed):
            names = listed
        }
        let dataLink = ScriptFileSystem.join(directory, configMapDataLink)
        guard var version = ScriptFileSystem.symbolicLinkTarget(dataLink) else {
            return readFiles(names, from: directory, shownUnder: directory)
        }
        for _ in 1...maximumAttempts {
            let versionDirectory = version.hasPrefix("/") ? version : ScriptFileSystem.join(directory, version)
            if case .success(let keys) = ScriptFileSystem.listDirectory(versionDirectory) {
                let contents = readFiles(keys, from: versionDirectory, shownUnder: directory)
                let settled = ScriptFileSystem.symbolicLinkTarget(dataLink)
                if !contents.raced && settled == version { return contents }
                guard let settled else { break }
                version = settled
            } else {
                // The kubelet deleted this version between readlink and opendir; follow the link again.
                guard let next = ScriptFileSystem.symbolicLinkTarget(dataLink) else { break }
                version = next
            }
        }
        return Contents(problems: [
            "\(label) '\(directory)' kept changing while being read (its ConfigMap '\(configMapDataLink)' link "
                + "moved or its version directory vanished \(maximumAttempts) times); the next change retries"
        ])
    }

    private static func readFiles(_ names: [String], from directory: String, shownUnder shownDirectory: String)
        -> Contents
    {
        var contents = Contents()
        for name in names.sorted() {
            guard let module = ScriptModuleName.candidate(fileName: name) else { continue }
            let shownPath = ScriptFileSystem.join(shownDirectory, name)
            let actualPath = ScriptFileSystem.join(directory, name)
            switch ScriptFileSystem.status(actualPath) {
            case .failure(let failure) where failure.isMissing:
                // Deleted since the listing (or a dangling link): not part of this version.
                contents.raced = true
                continue
            case .failure(let failure):
                contents.problems.append("cannot read script '\(shownPath)': \(failure.reason)")
                continue
            case .success(let status) where !status.isRegularFile:
                continue
            case .success:
                break
            }
            guard ScriptModuleName.isValid(module) else {
                contents.problems.append(
                    "script '\(shownPath)' has an invalid module name '\(module)' "
                        + "(\(ScriptModuleName.invalidNameHint))")
                continue
            }
            switch ScriptFileSystem.readRegularFile(actualPath) {
            case .success(let source):
                contents.files.append(ScriptFile(module: module, path: shownPath, source: source))
            case .failure(let failure) where failure.isMissing:
                contents.raced = true
            case .failure(let failure):
                contents.problems.append("cannot read script '\(shownPath)': \(failure.reason)")
            }
        }
        return contents
    }
}

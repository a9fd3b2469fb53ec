/// A cheap description of a scripts directory for the watcher's polling fallback: the
/// ConfigMap `..data` target plus each script entry's name and `stat` (symlinks followed).
///
/// inotify misses changes on some filesystems (network and FUSE mounts) and never sees a
/// file edited behind a symlink that points outside the watched directory; comparing two
/// snapshots catches those. Inode and ctime are included because an atomic replace or a
/// ConfigMap swap can keep size and mtime equal while the content changed.
struct ScriptDirectorySnapshot: Equatable {
    struct Entry: Equatable {
        let name: String
        let status: ScriptFileSystem.Status?
    }

    /// nil when the directory cannot be listed (missing, or not a directory).
    let entries: [Entry]?
    let configMapVersion: String?

    init(directory: String) {
        configMapVersion = ScriptFileSystem.symbolicLinkTarget(
            ScriptFileSystem.join(directory, ScriptDirectoryReader.configMapDataLink))
        switch ScriptFileSystem.listDirectory(directory) {
        case .failure:
            entries = nil
        case .success(let names):
            entries = names.filter { ScriptModuleName.candidate(fileName: $0) != nil }.sorted().map { name in
                Entry(name: name, status: try? ScriptFileSystem.status(ScriptFileSystem.join(directory, name)).get())
            }
        }
    }
}

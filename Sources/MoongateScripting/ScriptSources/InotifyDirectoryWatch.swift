#if os(Linux)
import Glibc

/// An inotify instance watching scripts directories themselves (never recursively: only
/// files directly inside a scripts path are scripts).
///
/// A ConfigMap update shows up as `IN_MOVED_TO` of `..data` (the kubelet renames
/// `..data_tmp` over it); an edit, a new file or a deletion as the usual per-name events.
/// Events for other hidden names (editor swap files, the kubelet's `..2026_...` version
/// directories) and non-`.lua` names are ignored, so they do not cause reloads.
///
/// Not thread-safe: owned by the watcher's loop, which is confined to its thread.
final class InotifyDirectoryWatch {
    private static let eventMask: UInt32 = UInt32(
        IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_ATTRIB
            | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
    /// Events meaning the watched directory itself went away from its path.
    private static let watchLostMask: UInt32 = UInt32(IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)
    private static let eventHeaderSize = MemoryLayout<inotify_event>.size

    /// Readable (for poll(2)) when events are queued.
    let descriptor: Int32
    /// Scripts path -> watch descriptor. Two paths naming one directory share a descriptor.
    private var watches: [String: Int32] = [:]
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// nil when the kernel refuses another inotify instance (`fs.inotify.max_user_instances`);
    /// the watcher then relies on polling alone.
    init?() {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Watches `path`, or re-points the watch when `path` now names another directory (a
    /// replaced directory or a moved symlink). A path that cannot be watched is dropped and
    /// retried on the next call; polling covers it meanwhile.
    func watch(_ path: String) {
        let previous = watches[path]
        let watchDescriptor = inotify_add_watch(descriptor, path, Self.eventMask)
        if watchDescriptor >= 0 {
            watches[path] = watchDescriptor
        } else {
            watches[path] = nil
        }
        if let previous, previous != watchDescriptor, !watches.values.contains(previous) {
            inotify_rm_watch(descriptor, previous)
        }
    }

    /// Reads every queued event; true when any of them can change the scripts.
    func drainEvents() -> Bool {
        var changed = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return changed }
            buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset + Self.eventHeaderSize <= count {
                    let watchDescriptor = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let nameLength = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameStart = offset + Self.eventHeaderSize
                    let nameBytes = bytes[nameStart..<(nameStart + nameLength)]
                    let name = String(decoding: nameBytes.prefix(while: { $0 != 0 }), as: UTF8.self)
                    offset += Self.eventHeaderSize + nameLength
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        changed = true
                    } else if !watches.values.contains(watchDescriptor) {
                        // A watch already re-pointed or forgotten: its directory is no
                        // longer (or no longer at) a scripts path.
                        continue
                    } else if mask & Self.watchLostMask != 0 {
                        forget(watchDescriptor, stillActive: mask & UInt32(IN_MOVE_SELF) != 0)
                        changed = true
                    } else if Self.concernsScripts(name) {
                        changed = true
                    }
                }
            }
        }
    }

    private static func concernsScripts(_ name: String) -> Bool {
        name == ScriptDirectoryReader.configMapDataLink || ScriptModuleName.candidate(fileName: name) != nil
    }

    /// Drops a watch whose directory left its path, so the next `watch(_:)` adds the path
    /// again. A moved directory keeps its kernel watch, which is removed here.
    private func forget(_ watchDescriptor: Int32, stillActive: Bool) {
        for (path, watched) in watches where watched == watchDescriptor {
            watches[path] = nil
        }
        if stillActive {
            inotify_rm_watch(descriptor, watchDescriptor)
        }
    }
}
#endif

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A directory laid out and updated exactly as the kubelet does for a ConfigMap volume
/// (`pkg/volume/util/atomic_writer.go`):
///
/// ```
/// ..2026_11_27_10_00_00.000000001/   the current version's files
/// ..data -> ..2026_11_27_10_00_00.000000001
/// key-auth-ish.lua -> ..data/key-auth-ish.lua     one link per key
/// ```
///
/// An update writes a new version directory, points a new `..data_tmp` link at it,
/// renames that link over `..data` (one atomic rename(2): readers see the old version
/// or the new one, never a mix), links new keys, unlinks removed ones, and deletes the
/// old version directory.
struct ScriptReloadConfigMapVolume {
    struct VolumeError: Error, CustomStringConvertible {
        let description: String
    }

    let directory: URL
    private(set) var version: String
    private(set) var keys: Set<String>

    /// Creates the volume in `directory` (which must exist) holding `files` (key -> content).
    init(directory: URL, version: String, files: [String: String]) throws {
        self.directory = directory
        self.version = version
        self.keys = Set(files.keys)
        try Self.writeVersion(version, files: files, in: directory)
        try Self.symlink(Self.dataLink, pointingTo: version, in: directory)
        for key in files.keys {
            try Self.symlink(key, pointingTo: "\(Self.dataLink)/\(key)", in: directory)
        }
    }

    static let dataLink = "..data"
    static let temporaryDataLink = "..data_tmp"

    /// The kubelet's atomic update to `files`, as version directory `newVersion`.
    mutating func update(to newVersion: String, files: [String: String]) throws {
        try Self.writeVersion(newVersion, files: files, in: directory)
        try Self.symlink(Self.temporaryDataLink, pointingTo: newVersion, in: directory)
        let from = directory.appendingPathComponent(Self.temporaryDataLink).path
        let to = directory.appendingPathComponent(Self.dataLink).path
        guard rename(from, to) == 0 else {
            throw VolumeError(description: "rename \(from) over \(to) failed: errno \(errno)")
        }
        let newKeys = Set(files.keys)
        for key in newKeys.subtracting(keys) {
            try Self.symlink(key, pointingTo: "\(Self.dataLink)/\(key)", in: directory)
        }
        for key in keys.subtracting(newKeys) {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(key))
        }
        try FileManager.default.removeItem(at: directory.appendingPathComponent(version))
        version = newVersion
        keys = newKeys
    }

    private static func writeVersion(_ version: String, files: [String: String], in directory: URL) throws {
        let versionDirectory = directory.appendingPathComponent(version)
        try FileManager.default.createDirectory(at: versionDirectory, withIntermediateDirectories: false)
        for (key, content) in files {
            try content.write(to: versionDirectory.appendingPathComponent(key), atomically: false, encoding: .utf8)
        }
    }

    /// A relative link, as the kubelet makes them (the volume is mounted elsewhere in
    /// the container than on the node).
    private static func symlink(_ name: String, pointingTo target: String, in directory: URL) throws {
        try FileManager.default.createSymbolicLink(
            atPath: directory.appendingPathComponent(name).path, withDestinationPath: target)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file calls script sources need (directory listing, stat, readlink, whole
/// file reads), kept on libc so loading scripts does not pull Foundation's file layer in.
enum ScriptFileSystem {
    /// A failed call's errno, with the system's wording for messages.
    struct Failure: Error, Equatable {
        let code: Int32

        var reason: String { String(cString: strerror(code)) }
        var isMissing: Bool { code == ENOENT || code == ENOTDIR }
    }

    /// What `stat` (following symlinks) says about a path; enough to tell a change.
    struct Status: Equatable {
        let isRegularFile: Bool
        let isDirectory: Bool
        let size: Int64
        let device: UInt64
        let inode: UInt64
        let modificationSeconds: Int64
        let modificationNanoseconds: Int64
        let changeSeconds: Int64
        let changeNanoseconds: Int64
    }

    /// The names in a directory, without `.` and `..`, in no particular order.
    static func listDirectory(_ path: String) -> Result<[String], Failure> {
        guard let directory = opendir(path) else { return .failure(Failure(code: errno)) }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { return .failure(Failure(code: errno)) }
                return .success(names)
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    static func status(_ path: String) -> Result<Status, Failure> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(Failure(code: errno)) }
        let kind = info.st_mode & S_IFMT
        #if os(Linux)
        let modified = info.st_mtim
        let changed = info.st_ctim
        #else
        let modified = info.st_mtimespec
        let changed = info.st_ctimespec
        #endif
        return .success(
            Status(
                isRegularFile: kind == S_IFREG, isDirectory: kind == S_IFDIR, size: Int64(info.st_size),
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino),
                modificationSeconds: Int64(modified.tv_sec), modificationNanoseconds: Int64(modified.tv_nsec),
                changeSeconds: Int64(changed.tv_sec), changeNanoseconds: Int64(changed.tv_nsec)))
    }

    /// The target of a symbolic link, or nil when `path` is missing or not a link.
    static func symbolicLinkTarget(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = buffer.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { readlink(path, $0.baseAddress!, $0.count - 1) }
        }
        guard length >= 0 else { return nil }
        return String(decoding: buffer[..<length], as: UTF8.self)
    }

    /// The whole content of a regular file (symlinks followed).
    static func readRegularFile(_ path: String) -> Result<[UInt8], Failure> {
        // O_NONBLOCK: a FIFO named like a script must not hang the loader in open(2);
        // regular files ignore the flag.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return .failure(Failure(code: errno)) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return .failure(Failure(code: errno)) }
        guard info.st_mode & S_IFMT == S_IFREG else { return .failure(Failure(code: EINVAL)) }
        var contents: [UInt8] = []
        contents.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(Failure(code: errno))
            }
            if count == 0 { return .success(contents) }
            contents.append(contentsOf: chunk[..<count])
        }
    }

    /// `directory/name`, without doubling a trailing slash the user wrote.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

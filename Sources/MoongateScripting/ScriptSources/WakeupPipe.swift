#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A self-pipe that ends a blocking poll(2) at once: `stop()` on another thread signals
/// it, so stopping a watcher never waits out a poll timeout.
final class WakeupPipe: Sendable {
    /// Becomes readable (for poll(2)) once `signal()` was called.
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    /// Fails (with the errno) when the process is out of file descriptors.
    static func make() -> Result<WakeupPipe, ScriptFileSystem.Failure> {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { return .failure(ScriptFileSystem.Failure(code: errno)) }
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        return .success(WakeupPipe(readDescriptor: descriptors[0], writeDescriptor: descriptors[1]))
    }

    private init(readDescriptor: Int32, writeDescriptor: Int32) {
        self.readDescriptor = readDescriptor
        self.writeDescriptor = writeDescriptor
    }

    deinit {
        close(readDescriptor)
        close(writeDescriptor)
    }

    func signal() {
        var byte: UInt8 = 1
        // A full pipe already wakes the reader, so a failed write loses nothing.
        _ = write(writeDescriptor, &byte, 1)
    }
}

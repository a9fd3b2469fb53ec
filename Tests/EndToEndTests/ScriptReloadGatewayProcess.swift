import Foundation
import HTTPTestSupport
import Synchronization

/// `moongate run` as a child process whose standard error can be read while it runs.
///
/// Reload tests wait for log lines (the scripts watcher started, a reload was refused)
/// instead of sleeping for a guessed time, and the log is drained continuously so a
/// chatty gateway never blocks on a full pipe. (`RunningGateway` reads its log only
/// after the process ended.)
final class ScriptReloadGatewayProcess {
    let port: Int
    private let process = Process()
    private let errorLog: CapturedStream

    /// Starts the gateway and waits until it accepts connections; throws with its log
    /// when it exits or does not listen within 20 s.
    init(arguments: [String], port: Int, workingDirectory: URL) throws {
        self.port = port
        let errorPipe = Pipe()
        process.executableURL = try MoongateBinary.locate().url
        process.arguments = arguments
        process.currentDirectoryURL = workingDirectory
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        errorLog = CapturedStream(reading: errorPipe.fileHandleForReading)
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if (try? RawHTTPClient(port: port)) != nil { return }
            if !process.isRunning { break }
            usleep(50_000)
        }
        terminate()
        throw MoongateBinary.LocateError(message: "moongate did not start listening on \(port): \(errorLog.waitForEnd())")
    }

    /// Everything written to standard error so far.
    var standardError: String { errorLog.text }

    /// How many times `text` occurs in the log so far.
    func logOccurrences(of text: String) -> Int {
        standardError.components(separatedBy: text).count - 1
    }

    /// Waits (up to `timeout`) until the log holds `text` at least `count` times.
    func waitForLog(containing text: String, count: Int = 1, timeout: Duration = .seconds(10)) async -> Bool {
        await ScriptReloadPolling.eventually(timeout: timeout) { logOccurrences(of: text) >= count }
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// SIGTERM, then waits for the exit and returns its status; nil when the gateway
    /// had to be killed because it did not exit within `timeout` (its drain hung).
    func stop(timeout: Duration = .seconds(15)) -> Int32? {
        if process.isRunning { signal(SIGTERM) }
        guard waitForExit(within: timeout) else {
            terminate()
            return nil
        }
        _ = errorLog.waitForEnd()
        return process.terminationStatus
    }

    /// SIGTERM, and SIGKILL when that is not enough within 15 s: a test never hangs on
    /// a gateway that does not stop.
    private func terminate() {
        guard process.isRunning else { return }
        signal(SIGTERM)
        if !waitForExit(within: .seconds(15)) {
            signal(SIGKILL)
            _ = waitForExit(within: .seconds(15))
        }
    }

    /// Polls rather than `Process.waitUntilExit`, which spins a CPU on Linux and never
    /// gives up.
    private func waitForExit(within timeout: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while process.isRunning {
            if clock.now >= deadline { return false }
            usleep(50_000)
        }
        return true
    }

    deinit {
        terminate()
    }
}

/// The bytes of one pipe, read by a thread of its own until the writer closes it.
private final class CapturedStream: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    private let ended = DispatchSemaphore(value: 0)

    init(reading handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                bytes.withLock { $0.append(contentsOf: chunk) }
            }
            ended.signal()
        }
        thread.name = "moongate-e2e-stderr"
        thread.start()
    }

    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }

    /// Waits for the end of the stream (the process exited) and returns all of it.
    func waitForEnd() -> String {
        ended.wait()
        ended.signal()
        return text
    }
}

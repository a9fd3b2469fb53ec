import Foundation
import HTTPTestSupport

/// `moongate run` as a child process, for end-to-end tests.
final class RunningGateway {
    let process: Process
    let port: Int
    private let errorPipe = Pipe()

    /// A port that was free a moment ago (bind to 0, read, close).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    init(arguments: [String], port: Int, workingDirectory: URL) throws {
        process = Process()
        process.executableURL = try MoongateBinary.locate().url
        process.arguments = arguments
        process.currentDirectoryURL = workingDirectory
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        self.port = port
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if (try? RawHTTPClient(port: port)) != nil { return }
            if !process.isRunning { break }
            usleep(50_000)
        }
        process.terminate()
        throw MoongateBinary.LocateError(message: "moongate did not start listening on \(port): \(log())")
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// VmHWM (peak resident set) of the gateway process, from /proc.
    func peakResidentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else {
            return 0
        }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// Waits for the exit and returns the status.
    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    func log() -> String {
        if process.isRunning { return "(still running)" }
        return String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

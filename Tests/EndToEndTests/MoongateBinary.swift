import Foundation

/// Runs the built `moongate` executable the way a user does.
struct MoongateBinary {
    let url: URL

    /// The binary next to the test bundle (`.build/<config>/moongate`), or
    /// `$MOONGATE_BINARY`.
    static func locate() throws -> MoongateBinary {
        if let path = ProcessInfo.processInfo.environment["MOONGATE_BINARY"] {
            return MoongateBinary(url: URL(fileURLWithPath: path))
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("moongate")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return MoongateBinary(url: candidate) }
            directory.deleteLastPathComponent()
        }
        throw LocateError(message: "moongate binary not found near \(CommandLine.arguments[0]); set MOONGATE_BINARY")
    }

    struct LocateError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    struct Result {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    /// Runs to completion and captures both streams.
    func run(_ arguments: [String], workingDirectory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }
}

import ArgumentParser
import LuaKit

#if canImport(Glibc)
import Glibc
#endif

@main
struct Moongate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moongate",
        abstract: "A programmable API gateway and Kubernetes ingress controller, extended with Lua 5.4.",
        version: MoongateVersion.number,
        subcommands: [RunCommand.self, CheckCommand.self, PluginCommand.self, VersionCommand.self]
    )

    /// SPEC §1 exit codes: 0 ok, 1 invalid input, 2 usage error, 3 runtime failure.
    /// ArgumentParser reports usage errors as 64 (EX_USAGE); they are mapped to 2.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error))
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    let line = message.hasSuffix("\n") ? message : message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// Exit codes of SPEC §1.
enum MoongateExit {
    static let invalidInput = ExitCode(1)
    static let runtimeFailure = ExitCode(3)
}

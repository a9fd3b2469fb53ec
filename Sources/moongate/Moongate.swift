import ArgumentParser
import LuaKit

#if canImport(Glibc)
import Glibc
#endif

@main
struct Moongate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moongate",
        abstract: "A programmable API gateway and Kubernetes ingress controller, extended with Lua 5.4.",
        version: MoongateVersion.number,
        subcommands: [VersionCommand.self]
    )

    /// SPEC §1 exit codes: 0 ok, 1 invalid input, 2 usage error, 3 runtime failure.
    /// ArgumentParser reports usage errors as 64 (EX_USAGE); they are mapped to 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let message = fullMessage(for: error)
                mg_print_error(message)
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}

private func mg_print_error(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

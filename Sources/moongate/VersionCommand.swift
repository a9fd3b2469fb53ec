import ArgumentParser
import LuaKit

enum MoongateVersion {
    static let number = "0.1.0"
}

/// `moongate version`: the gateway's version, the Lua runtime, and how it was built.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version, the Lua runtime and build information.")

    func run() throws {
        var runtime = "unavailable"
        if let vm = try? LuaVM(), let version = try? vm.global("_VERSION").stringValue {
            runtime = version
        }
        print("moongate \(MoongateVersion.number)")
        print("lua: \(LuaRuntimeInfo.release) (headers), \(runtime) (runtime)")
        print("build: \(BuildInfo.configuration), \(BuildInfo.compiler), \(BuildInfo.platform)")
    }
}

enum BuildInfo {
    static var configuration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    static var compiler: String {
        #if compiler(>=6.3)
        return "Swift 6.3+"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #elseif compiler(>=6.1)
        return "Swift 6.1"
        #else
        return "Swift 6.0"
        #endif
    }

    static var platform: String {
        #if os(Linux)
        let os = "linux"
        #elseif os(macOS)
        let os = "macos"
        #else
        let os = "unknown-os"
        #endif
        #if arch(x86_64)
        return "\(os)-x86_64"
        #elseif arch(arm64)
        return "\(os)-arm64"
        #else
        return "\(os)-unknown-arch"
        #endif
    }
}

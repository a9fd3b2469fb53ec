import Foundation
import LuaKit
import MoongateCore
import NIOPosix

/// A compiled and validated set of scripts (ARCHITECTURE "generations"): every file
/// compiled, every plugin loaded in a scratch VM and its table and schema checked.
/// Immutable; each event loop builds its own VM from it when its first request
/// needs it. A set that fails anywhere never becomes a generation, so the last good
/// one keeps serving.
public final class ScriptGeneration: Sendable {
    public let number: Int
    public let scripts: ScriptSet
    public let plugins: [String: PluginDefinition]
    public let limits: LuaLimits
    /// The modules every VM of this generation requires from (a snapshot, not the disk).
    public let modules: [String: LuaModuleFile]
    /// Shortened chunk names -> the files' full paths (see `chunkName`).
    private let shortenedPaths: [String: String]

    init(number: Int, scripts: ScriptSet, plugins: [String: PluginDefinition], limits: LuaLimits) {
        self.number = number
        self.scripts = scripts
        self.plugins = plugins
        self.limits = limits
        var modules: [String: LuaModuleFile] = [:]
        var shortened: [String: String] = [:]
        for (name, file) in scripts.files {
            let chunk = Self.chunkName(file.path)
            if chunk != file.path { shortened[chunk] = file.path }
            modules[name] = LuaModuleFile(chunkName: chunk, source: file.source)
        }
        self.modules = modules
        shortenedPaths = shortened
    }

    /// `message` with shortened chunk names (`plugins/x.lua:3:`) turned back into the
    /// files' full paths, for logs and `check`.
    public func withFullPaths(_ message: String) -> String {
        var text = message
        for (chunk, path) in shortenedPaths where text.contains(chunk + ":") {
            text = text.replacingOccurrences(of: chunk + ":", with: path + ":")
        }
        return text
    }

    /// The name Lua reports for a file (`chunk:line:`). Lua keeps at most 59 characters
    /// and cuts longer names at the front, so a long path is given to Lua as its last
    /// two components (`plugins/key-auth.lua`); messages get the full path back from
    /// `withFullPaths`.
    static func chunkName(_ path: String) -> String {
        guard path.utf8.count > 58 else { return path }
        let parts = path.split(separator: "/")
        return parts.suffix(2).joined(separator: "/")
    }

    public static func limits(_ config: ScriptLimitsConfig) -> LuaLimits {
        LuaLimits(
            memoryBytes: config.memoryBytes, slice: config.slice, deadline: config.hookTimeout,
            instructions: Int64(config.instructions))
    }

    /// Compiles `scripts`. Errors name the file and line.
    public static func compile(
        _ scripts: ScriptSet, limits config: ScriptLimitsConfig, number: Int, services: PluginServices
    ) -> Result<ScriptGeneration, ScriptGenerationError> {
        let limits = limits(config)
        let draft = ScriptGeneration(number: number, scripts: scripts, plugins: [:], limits: limits)
        let environment = PluginVMEnvironment(
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(), services: services, http: PDKHTTPClient())
        let scratch: PluginVM
        do throws(LuaError) {
            scratch = try PluginVM(generation: draft, environment: environment)
        } catch {
            return .failure(ScriptGenerationError(problems: ["cannot create a Lua VM: \(error)"]))
        }
        var problems: [String] = []
        for file in scripts.files.values.sorted(by: { $0.path < $1.path }) {
            do throws(LuaError) {
                _ = try scratch.vm.load(file.source, name: chunkName(file.path))
            } catch {
                problems.append(describe(error))
            }
        }
        guard problems.isEmpty else { return .failure(ScriptGenerationError(problems: problems.map(draft.withFullPaths))) }

        let inspector: LuaFunction
        do throws(LuaError) {
            inspector = try scratch.vm.load(inspectorSource, name: "moongate/inspect-plugin")
        } catch {
            return .failure(ScriptGenerationError(problems: ["internal: \(error)"]))
        }
        var plugins: [String: PluginDefinition] = [:]
        for name in scripts.pluginNames {
            let path = scripts.file(name)?.path ?? name
            let description: LuaValue
            do throws(LuaError) {
                description = try scratch.vm.call(inspector, [.string(name)]).first ?? .nil
            } catch {
                problems.append(describe(error))
                continue
            }
            if case .string(let message) = description {
                problems.append("\(path): \(String(decoding: message, as: UTF8.self))")
                continue
            }
            guard case .map = description else { continue }  // a helper module, not a plugin
            switch definition(name: name, path: path, description) {
            case .success(let plugin): plugins[name] = plugin
            case .failure(let problem): problems.append(problem.message)
            }
        }
        guard problems.isEmpty else { return .failure(ScriptGenerationError(problems: problems.map(draft.withFullPaths))) }
        return .success(ScriptGeneration(number: number, scripts: scripts, plugins: plugins, limits: limits))
    }

    private static func definition(name: String, path: String, _ description: LuaValue) -> Result<PluginDefinition, ScriptProblem> {
        var version = ""
        switch description["version"] ?? .nil {
        case .nil: break
        case .string(let bytes): version = String(decoding: bytes, as: UTF8.self)
        default: return .failure(ScriptProblem("\(path): plugin '\(name)': version must be a string"))
        }
        var priority = 0
        switch description["priority"] ?? .nil {
        case .nil: break
        case let value:
            guard let integer = value.integerValue, abs(integer) <= 10_000_000 else {
                return .failure(ScriptProblem("\(path): plugin '\(name)': priority must be an integer"))
            }
            priority = Int(integer)
        }
        var failOpen = false
        switch description["fail_open"] ?? .nil {
        case .nil: break
        case .boolean(let flag): failOpen = flag
        default: return .failure(ScriptProblem("\(path): plugin '\(name)': fail_open must be a boolean"))
        }
        var phases: Set<PluginPhase> = []
        if case .array(let names) = description["phases"] ?? .nil {
            for phaseName in names.compactMap(\.stringValue) {
                if let phase = PluginPhase(rawValue: phaseName) { phases.insert(phase) }
            }
        }
        let schema: PluginSchema
        do throws(PluginSchemaError) {
            schema = try PluginSchema(plugin: name, schema: description["schema"] ?? .nil)
        } catch {
            return .failure(ScriptProblem("\(path): \(error)"))
        }
        return .success(
            PluginDefinition(
                name: name, version: version, priority: priority, failOpen: failOpen, phases: phases, schema: schema, path: path))
    }

    static func describe(_ error: LuaError) -> String {
        switch error {
        case .syntax(let message): return message
        case .runtime(let message, _): return message
        default: return error.description
        }
    }

    /// Requires a plugin candidate and describes its table for Swift (raw reads only).
    /// Returns nil for a module that is not a plugin (no phase function), a string for
    /// a malformed plugin.
    static let inspectorSource = #"""
        local name = ...
        local plugin = require(name)
        if type(plugin) ~= "table" then return nil end
        local phases = {}
        for _, phase in ipairs({ "init", "rewrite", "access", "balancer", "header_filter", "body_filter", "log" }) do
          local fn = rawget(plugin, phase)
          if fn ~= nil then
            if type(fn) ~= "function" then
              return "plugin '" .. name .. "': '" .. phase .. "' must be a function, found a " .. type(fn)
            end
            phases[#phases + 1] = phase
          end
        end
        if #phases == 0 then return nil end
        return {
          phases = phases,
          version = rawget(plugin, "version"),
          priority = rawget(plugin, "priority"),
          fail_open = rawget(plugin, "fail_open"),
          schema = rawget(plugin, "schema"),
        }
        """#
}

/// Why a script set did not become a generation: one line per problem, each naming
/// the file (and line, for Lua errors).
public struct ScriptGenerationError: Error, Sendable, CustomStringConvertible {
    public let problems: [String]

    public init(problems: [String]) { self.problems = problems }

    public var description: String { problems.joined(separator: "\n") }
}

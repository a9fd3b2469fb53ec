/// Everything that can go wrong when loading or running Lua code.
///
/// The limit aborts (`timeout`, `instructionLimit`, `memoryLimit`) cannot be caught by
/// the script's own `pcall`: once raised, they are raised again at every instruction
/// until the run has unwound. The VM stays usable after any of these errors.
public enum LuaError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A chunk did not compile. The message starts with `chunkname:line:`.
    case syntax(message: String)
    /// The script raised an error. The message starts with `chunkname:line:` when the
    /// error came with a position; `traceback` is Lua's stack traceback.
    case runtime(message: String, traceback: String)
    /// The run used more than its deadline (`hook_timeout`) of running time.
    case timeout(traceback: String)
    /// The run executed more instructions than its budget.
    case instructionLimit(traceback: String)
    /// The VM reached its memory cap during the run.
    case memoryLimit(traceback: String)
    /// A value could not be converted between Lua and Swift.
    case conversion(message: String)
    /// The Lua state could not be created (out of memory).
    case stateCreationFailed

    public var description: String {
        switch self {
        case .syntax(let message): return "syntax error: \(message)"
        case .runtime(let message, _): return message
        case .timeout: return "time limit exceeded"
        case .instructionLimit: return "instruction limit exceeded"
        case .memoryLimit: return "memory limit exceeded"
        case .conversion(let message): return "conversion error: \(message)"
        case .stateCreationFailed: return "could not create a Lua state"
        }
    }

    /// A short name of the kind, used in logs and as the `kind` metric label.
    public var kind: String {
        switch self {
        case .syntax: return "syntax"
        case .runtime: return "runtime"
        case .timeout: return "timeout"
        case .instructionLimit: return "instructions"
        case .memoryLimit: return "memory"
        case .conversion: return "conversion"
        case .stateCreationFailed: return "state"
        }
    }

    /// The traceback captured when the error happened, if any.
    public var traceback: String? {
        switch self {
        case .runtime(_, let traceback), .timeout(let traceback), .instructionLimit(let traceback),
            .memoryLimit(let traceback):
            return traceback
        default:
            return nil
        }
    }
}

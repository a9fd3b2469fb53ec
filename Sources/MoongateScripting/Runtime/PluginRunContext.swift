/// What a hook run is doing, handed to the `gate` functions it calls (through
/// `LuaCall.runContext`): the phase decides which functions are allowed, the plugin
/// name goes into log lines. A request's hooks run with a `PluginRequest`; timers and
/// `init` hooks run with a plain context.
public class PluginRunContext {
    /// Nil for a `gate.timer.at` callback.
    public internal(set) var phase: PluginPhase?
    public internal(set) var pluginName: String

    public init(phase: PluginPhase?, pluginName: String) {
        self.phase = phase
        self.pluginName = pluginName
    }
}

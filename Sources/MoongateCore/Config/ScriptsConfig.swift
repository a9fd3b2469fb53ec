/// `scripts:` (SPEC §3): where Lua plugins are found and the limits every hook runs
/// under. The limits are what keep a runaway script from stalling the gateway, which
/// is why zero is refused for the time limits.
public struct ScriptsConfig: Sendable, Equatable {
    /// Directories, resolved against the configuration file's directory.
    public var paths: [String]
    /// Reload scripts when a file in `paths` changes.
    public var watch: Bool
    public var limits: ScriptLimitsConfig

    public init(paths: [String] = [], watch: Bool = true, limits: ScriptLimitsConfig = ScriptLimitsConfig()) {
        self.paths = paths
        self.watch = watch
        self.limits = limits
    }
}

/// `scripts.limits`. Defaults: hook_timeout 1s, slice 2ms, no instruction budget,
/// 64m of memory per VM, 100000 keys per shared dict.
public struct ScriptLimitsConfig: Sendable, Equatable {
    /// A hook running longer than this is aborted.
    public var hookTimeout: Duration
    /// A hook running longer than this without yielding is preempted and requeued.
    public var slice: Duration
    /// Instruction budget of one hook run; 0 = none.
    public var instructions: Int
    /// Memory cap of each VM; 0 = unlimited.
    public var memoryBytes: Int
    /// Keys each `gate.shared.dict` holds at most.
    public var sharedKeys: Int

    public init(
        hookTimeout: Duration = .seconds(1), slice: Duration = .milliseconds(2), instructions: Int = 0,
        memoryBytes: Int = 64 << 20, sharedKeys: Int = 100_000
    ) {
        self.hookTimeout = hookTimeout
        self.slice = slice
        self.instructions = instructions
        self.memoryBytes = memoryBytes
        self.sharedKeys = sharedKeys
    }
}

extension ScriptsConfig {
    static let limitKeys = ["hook_timeout", "slice", "instructions", "memory", "shared_keys"]

    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> ScriptsConfig? {
        guard let fields = reader.fields(node, allowed: ["paths", "watch", "limits"]) else { return nil }
        var config = ScriptsConfig()
        config.paths = reader.list(fields["paths"], uniqueBy: { $0 }) { reader.filePath($0) } ?? config.paths
        config.watch = reader.bool(fields["watch"]) ?? config.watch
        if let limits = reader.fields(fields["limits"], allowed: limitKeys) {
            config.limits.hookTimeout = reader.duration(limits["hook_timeout"]) ?? config.limits.hookTimeout
            config.limits.slice = reader.duration(limits["slice"]) ?? config.limits.slice
            config.limits.instructions = reader.int(limits["instructions"], in: 0...Int.max) ?? config.limits.instructions
            config.limits.memoryBytes = reader.size(limits["memory"]) ?? config.limits.memoryBytes
            config.limits.sharedKeys = reader.int(limits["shared_keys"], in: 1...Int.max) ?? config.limits.sharedKeys
        }
        return config
    }
}

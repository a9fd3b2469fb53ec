import Logging
import NIOConcurrencyHelpers

/// What every VM of the process shares: the `gate.shared` dicts, the node id, the
/// logger and the hook error counters.
public final class PluginServices: Sendable {
    public let sharedDicts: SharedDictStore
    public let nodeID: String
    public let logger: Logger
    public let errors: PluginErrorCounters

    public init(maxSharedKeys: Int = 100_000, logger: Logger = Logger(label: "moongate.plugins")) {
        sharedDicts = SharedDictStore(maxKeysPerDict: maxSharedKeys)
        nodeID = PDKUtilities.uuid()
        self.logger = logger
        errors = PluginErrorCounters()
    }
}

/// `moongate_lua_errors_total{plugin,phase,kind}` (SPEC §3 Safety): failed hook runs
/// by plugin, phase and kind (runtime, timeout, instructions, memory).
public final class PluginErrorCounters: Sendable {
    public struct Key: Hashable, Sendable {
        public let plugin: String
        public let phase: String
        public let kind: String
    }

    private let counts = NIOLockedValueBox<[Key: Int]>([:])

    public init() {}

    func record(plugin: String, phase: String, kind: String) {
        counts.withLockedValue { $0[Key(plugin: plugin, phase: phase, kind: kind), default: 0] += 1 }
    }

    public var snapshot: [Key: Int] { counts.withLockedValue { $0 } }

    public func count(plugin: String) -> Int {
        snapshot.filter { $0.key.plugin == plugin }.values.reduce(0, +)
    }
}

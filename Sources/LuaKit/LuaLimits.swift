import CLuaShim

/// Limits applied to every run on a VM (SPEC §3 Safety, `scripts.limits`).
public struct LuaLimits: Sendable, Equatable {
    /// Memory cap of the whole VM in bytes; 0 = unlimited.
    public var memoryBytes: Int
    /// A run that has executed this long without yielding is preempted: its coroutine
    /// yields and its driver requeues it behind other work. `nil` = never preempt.
    public var slice: Duration?
    /// Total running time of one run (time parked in host waits does not count) after
    /// which it is aborted with `LuaError.timeout`. `nil` = no deadline.
    public var deadline: Duration?
    /// Instruction budget of one run; 0 = none. Costs a count hook on every run.
    public var instructions: Int64

    public init(
        memoryBytes: Int = 64 << 20,
        slice: Duration? = .milliseconds(2),
        deadline: Duration? = .seconds(1),
        instructions: Int64 = 0
    ) {
        self.memoryBytes = memoryBytes
        self.slice = slice
        self.deadline = deadline
        self.instructions = instructions
    }

    /// The watchdog's period: slices and deadlines are rounded up to whole ticks.
    public static var watchdogTick: Duration { .nanoseconds(Int64(mg_watchdog_tick_ns())) }

    static func ticks(_ duration: Duration?) -> UInt32 {
        guard let duration, duration > .zero else { return 0 }
        let tick = Double(mg_watchdog_tick_ns())
        let nanoseconds = Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
        return UInt32(min(Double(UInt32.max), max(1, (nanoseconds / tick).rounded(.up))))
    }
}

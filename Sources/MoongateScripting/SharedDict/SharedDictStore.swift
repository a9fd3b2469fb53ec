import NIOConcurrencyHelpers
import NIOCore

/// Every `gate.shared` dictionary of the process, created on first use by name and
/// kept for the life of the process (across script reloads, so counters survive them).
public final class SharedDictStore: Sendable {
    /// `scripts.limits.shared_keys`, applied to each dict.
    public let maxKeysPerDict: Int
    private let clock: @Sendable () -> Double
    private let dicts = NIOLockedValueBox<[String: SharedDict]>([:])

    /// - Parameter clock: monotonic seconds; tests inject a fake one to move time.
    public init(
        maxKeysPerDict: Int,
        clock: @escaping @Sendable () -> Double = { Double(NIODeadline.now().uptimeNanoseconds) / 1_000_000_000 }
    ) {
        precondition(maxKeysPerDict >= 1, "scripts.limits.shared_keys must be at least 1")
        self.maxKeysPerDict = maxKeysPerDict
        self.clock = clock
    }

    /// The dict called `name`, created empty on first use; the same instance after.
    public func dict(_ name: String) -> SharedDict {
        dicts.withLockedValue { dicts in
            if let existing = dicts[name] { return existing }
            let created = SharedDict(name: name, maxKeys: maxKeysPerDict, clock: clock)
            dicts[name] = created
            return created
        }
    }
}

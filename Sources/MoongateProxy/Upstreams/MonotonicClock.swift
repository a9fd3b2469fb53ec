import NIOCore

/// The clock the upstream logic of `MoongateCore` takes as `now:` (monotonic
/// nanoseconds), read here from NIO's deadline clock so timers and health agree.
enum MonotonicClock {
    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds / 1_000_000_000))
    }
}

import NIOCore

/// The clock the upstream logic of `MoongateCore` takes as `now:` (monotonic
/// nanoseconds), read here from NIO's deadline clock so timers and health agree.
enum MonotonicClock {
    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}

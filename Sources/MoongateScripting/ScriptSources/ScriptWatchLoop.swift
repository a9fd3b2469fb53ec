#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// The body of a ``ScriptWatcher``'s thread: waits on inotify and the wakeup pipe, polls
/// directory snapshots as a fallback, and debounces bursts into one `onChange` call.
///
/// `@unchecked Sendable` because it is built by `start()` and then handed to the watcher
/// thread, which alone touches its mutable state; only `requestStop()` is called from
/// other threads, and it uses a lock and the pipe.
final class ScriptWatchLoop: @unchecked Sendable {
    private let paths: [String]
    private let debounce: Duration
    /// A burst that never pauses (a file written continuously) still reports after this,
    /// so a change is never postponed indefinitely.
    private let maximumDelay: Duration
    private let pollInterval: Duration
    private let onChange: @Sendable () -> Void
    private let wakeup: WakeupPipe
    private let stopRequested = NIOLockedValueBox(false)
    #if os(Linux)
    private let inotify: InotifyDirectoryWatch?
    #endif
    private var snapshots: [ScriptDirectorySnapshot]

    /// Takes the first snapshots and adds the inotify watches right away, so every change
    /// after `start()` returns is seen.
    init(
        paths: [String], debounce: Duration, pollInterval: Duration, usesInotify: Bool, wakeup: WakeupPipe,
        onChange: @escaping @Sendable () -> Void
    ) {
        self.paths = paths
        self.debounce = debounce
        self.maximumDelay = debounce * 4
        self.pollInterval = pollInterval
        self.wakeup = wakeup
        self.onChange = onChange
        #if os(Linux)
        inotify = usesInotify ? InotifyDirectoryWatch() : nil
        #endif
        snapshots = paths.map(ScriptDirectorySnapshot.init(directory:))
        watchPaths()
    }

    func requestStop() {
        stopRequested.withLockedValue { $0 = true }
        wakeup.signal()
    }

    private var isStopRequested: Bool {
        stopRequested.withLockedValue { $0 }
    }

    func run() {
        let clock = ContinuousClock()
        var nextPoll = clock.now.advanced(by: pollInterval)
        var burst: (first: ContinuousClock.Instant, last: ContinuousClock.Instant)?
        while !isStopRequested {
            var deadline = nextPoll
            if let burst { deadline = min(deadline, callbackTime(burst)) }
            var changed = waitForEvents(until: deadline, clock: clock)
            if isStopRequested { return }
            let now = clock.now
            if now >= nextPoll {
                changed = pollSnapshots() || changed
                nextPoll = now.advanced(by: pollInterval)
            }
            if changed { burst = (burst?.first ?? now, now) }
            if let current = burst, now >= callbackTime(current) {
                burst = nil
                // The callback's reload reads what is there now; later changes differ from
                // this snapshot and are reported again.
                snapshots = paths.map(ScriptDirectorySnapshot.init(directory:))
                if isStopRequested { return }
                onChange()
            }
        }
    }

    private func callbackTime(_ burst: (first: ContinuousClock.Instant, last: ContinuousClock.Instant))
        -> ContinuousClock.Instant
    {
        min(burst.last.advanced(by: debounce), burst.first.advanced(by: maximumDelay))
    }

    /// Blocks until inotify has events, a stop is requested, or `deadline`; true when
    /// inotify reported a change that concerns scripts.
    private func waitForEvents(until deadline: ContinuousClock.Instant, clock: ContinuousClock) -> Bool {
        var descriptors = [pollfd(fd: wakeup.readDescriptor, events: Int16(POLLIN), revents: 0)]
        #if os(Linux)
        if let inotify { descriptors.append(pollfd(fd: inotify.descriptor, events: Int16(POLLIN), revents: 0)) }
        #endif
        let ready = poll(&descriptors, nfds_t(descriptors.count), Self.milliseconds(from: clock.now, to: deadline))
        #if os(Linux)
        if ready > 0, let inotify, descriptors.count > 1, descriptors[1].revents != 0 {
            return inotify.drainEvents()
        }
        #endif
        return false
    }

    /// Compares fresh snapshots with the last ones and re-points lost inotify watches.
    private func pollSnapshots() -> Bool {
        let current = paths.map(ScriptDirectorySnapshot.init(directory:))
        watchPaths()
        guard current != snapshots else { return false }
        snapshots = current
        return true
    }

    private func watchPaths() {
        #if os(Linux)
        if let inotify {
            for path in paths { inotify.watch(path) }
        }
        #endif
    }

    /// A poll(2) timeout that never wakes before `deadline` (rounded up to whole milliseconds).
    private static func milliseconds(from now: ContinuousClock.Instant, to deadline: ContinuousClock.Instant)
        -> Int32
    {
        let remaining = now.duration(to: deadline).components
        guard remaining.seconds >= 0, remaining.seconds > 0 || remaining.attoseconds > 0 else { return 0 }
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let milliseconds =
            remaining.seconds * 1000 + (remaining.attoseconds + attosecondsPerMillisecond - 1) / attosecondsPerMillisecond
        return Int32(clamping: milliseconds)
    }
}

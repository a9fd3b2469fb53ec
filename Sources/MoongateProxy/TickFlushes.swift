import NIOCore

/// A channel handler whose written bytes can wait for the end of the event-loop tick.
protocol TickFlushable: AnyObject {
    /// Set by `TickFlushes` while the handler waits in its list (one flush per tick).
    var flushQueued: Bool { get set }
    func flushNow()
}

/// The flushes of one event-loop tick, done together once every channel that was
/// ready in it has been handled.
///
/// Why: each flush is a `write` that may wake the reader on the other side (the
/// client, the upstream). Waking a sleeping process costs the writer an
/// inter-processor interrupt; in a VM that is several microseconds, about 14% of a
/// proxied request's CPU in the benchmark. Flushes done back to back find the reader
/// already woken by the first, so a tick that handled ten requests pays for about one
/// wake-up per peer instead of ten. The bytes wait only until the tick's I/O is
/// handled: `execute` from the loop's own thread runs right after it, without a
/// system call.
final class TickFlushes {
    private let eventLoop: EventLoop
    private var queued: [TickFlushable] = []
    private var spare: [TickFlushable] = []
    private var scheduled = false

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Flushes `handler` at the end of this tick (once, however often it asks).
    func flushAtEndOfTick(_ handler: TickFlushable) {
        guard !handler.flushQueued else { return }
        handler.flushQueued = true
        queued.append(handler)
        guard !scheduled else { return }
        scheduled = true
        eventLoop.execute { [self] in flushAll() }
    }

    private func flushAll() {
        scheduled = false
        // Swapped out first: a flush can complete writes whose callbacks queue more.
        swap(&queued, &spare)
        for handler in spare {
            handler.flushQueued = false
            handler.flushNow()
        }
        spare.removeAll(keepingCapacity: true)
    }
}

import NIOCore
import Synchronization

/// A running watch of one name; `cancel()` stops it. Dropping the handle does not stop
/// it (the upstream that owns the watch decides when discovery ends).
public final class DNSWatch: Sendable {
    private let eventLoop: EventLoop
    private let cancelled: Atomic<Bool>
    private let loop: NIOLoopBoundBox<DNSWatchLoop?>

    init(eventLoop: EventLoop, start: @escaping @Sendable (DNSWatch) -> DNSWatchLoop) {
        self.eventLoop = eventLoop
        self.cancelled = Atomic(false)
        self.loop = .makeEmptyBox(valueType: DNSWatchLoop.self, eventLoop: eventLoop)
        eventLoop.execute { [self] in
            guard !isCancelled else { return }
            let started = start(self)
            loop.value = started
            started.lookUp()
        }
    }

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Stops the lookups and the pending timer. Called on the watch's event loop, no
    /// report follows; from another thread, a report already being delivered may finish.
    public func cancel() {
        cancelled.store(true, ordering: .releasing)
        eventLoop.execute { [loop] in
            loop.value?.stop()
            loop.value = nil
        }
    }
}

import NIOEmbedded
import Testing

@testable import MoongateProxy

@Suite("Flushes at the end of the tick")
struct TickFlushesTests {
    final class Recorder: TickFlushable {
        var flushQueued = false
        var flushes = 0
        var onFlush: (() -> Void)?
        func flushNow() {
            flushes += 1
            onFlush?()
        }
    }

    /// A loop, its flushes, and two handlers.
    static func setUp() -> (EmbeddedEventLoop, TickFlushes, Recorder, Recorder) {
        let loop = EmbeddedEventLoop()
        return (loop, TickFlushes(eventLoop: loop), Recorder(), Recorder())
    }

    @Test("a handler asking several times in a tick is flushed once, when the tick's tasks run")
    func oncePerTick() {
        let (loop, flushes, a, b) = Self.setUp()
        flushes.flushAtEndOfTick(a)
        flushes.flushAtEndOfTick(b)
        flushes.flushAtEndOfTick(a)
        #expect(a.flushes == 0 && b.flushes == 0)
        loop.run()
        #expect(a.flushes == 1 && b.flushes == 1)
        loop.run()
        #expect(a.flushes == 1 && b.flushes == 1)
        // The next tick flushes again.
        flushes.flushAtEndOfTick(a)
        loop.run()
        #expect(a.flushes == 2 && b.flushes == 1)
    }

    @Test("a flush asked for while the batch is flushed goes out in a later task")
    func askedDuringTheBatch() {
        let (loop, flushes, a, b) = Self.setUp()
        a.onFlush = { flushes.flushAtEndOfTick(b) }
        flushes.flushAtEndOfTick(a)
        loop.run()
        #expect(a.flushes == 1 && b.flushes == 1)
        // b is no longer queued: it can ask again.
        flushes.flushAtEndOfTick(b)
        loop.run()
        #expect(b.flushes == 2)
    }
}

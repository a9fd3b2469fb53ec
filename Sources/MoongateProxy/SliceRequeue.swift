import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Where a preempted hook waits for its next slice: behind the event loop's next poll
/// of its sockets (SPEC §3: a runaway delays other requests by at most a slice at a
/// time).
///
/// NIO runs every ready task, including tasks that tasks queue, before it polls its
/// sockets again; so a slice requeued with `execute` (or a zero-delay scheduled task)
/// would run again before any I/O, and a runaway script would hold its loop until its
/// deadline. A byte written to a pipe the loop watches is an I/O event instead: the
/// steps queued here run when the loop next polls, together with the other sockets
/// that are ready.
final class SliceRequeue {
    private let eventLoop: EventLoop
    private var steps: [() -> Void] = []
    private var signalled = false
    private var writeDescriptor: Int32 = -1

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Opens the pipe and registers its read end with the loop. On the loop.
    func start() {
        // Only a real (selector) event loop can watch a pipe; an embedded one (handler
        // tests) keeps the timer fallback.
        guard let bootstrap = NIOPipeBootstrap(validatingGroup: eventLoop) else { return }
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { return }
        let readDescriptor = descriptors[0]
        let write = descriptors[1]
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        bootstrap
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SliceWakeupHandler(requeue: self))
                }
            }
            .takingOwnershipOfDescriptor(input: readDescriptor)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success: writeDescriptor = write
                case .failure: close(write)
                }
            }
    }

    /// Queues `step` to run after the loop's next poll. On the loop.
    func enqueue(_ step: @escaping () -> Void) {
        guard writeDescriptor >= 0 else {
            // No pipe (yet): a short timer also lets the loop poll first.
            eventLoop.assumeIsolated().scheduleTask(in: .microseconds(500)) { step() }
            return
        }
        steps.append(step)
        guard !signalled else { return }
        signalled = true
        var byte: UInt8 = 1
        if write(writeDescriptor, &byte, 1) != 1 {
            // The pipe is full, so a wake-up is pending already; or it broke: a timer then.
            if errno != EAGAIN { eventLoop.assumeIsolated().scheduleTask(in: .microseconds(500)) { [self] in drain() } }
        }
    }

    fileprivate func drain() {
        signalled = false
        let batch = steps
        steps = []
        for step in batch { step() }
    }

    deinit {
        if writeDescriptor >= 0 { close(writeDescriptor) }
    }
}

/// Reads the wake-up bytes and runs the queued steps.
private final class SliceWakeupHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let requeue: SliceRequeue

    init(requeue: SliceRequeue) { self.requeue = requeue }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelReadComplete(context: ChannelHandlerContext) {
        requeue.drain()
    }
}

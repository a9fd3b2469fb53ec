import NIOCore

/// A timeout whose deadline moves on nearly every event and fires rarely (the read
/// timeout is pushed back by every response part; the idle timeout by every request).
///
/// NIO reprograms its timer (a syscall and a kernel lock) whenever the earliest
/// scheduled task changes, so scheduling and cancelling a task per event was the
/// largest single cost of a proxied request in profiles. This keeps at most one task
/// per timer: arming only moves the deadline, and a task that fires early re-schedules
/// itself for the remaining time. Used from its event loop only.
final class LazyTimer {
    private let eventLoop: EventLoop
    private var deadline: NIODeadline?
    private var action: (() -> Void)?
    private var task: Scheduled<Void>?
    private var taskDeadline: NIODeadline?

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    var isArmed: Bool { deadline != nil }

    /// Runs `action` after `timeout`, unless armed again or cancelled before.
    func arm(in timeout: TimeAmount, _ action: @escaping () -> Void) {
        let newDeadline = NIODeadline.now() + timeout
        deadline = newDeadline
        self.action = action
        if let taskDeadline, taskDeadline <= newDeadline { return }
        task?.cancel()
        schedule(at: newDeadline)
    }

    /// The pending task, if any, stays and finds nothing to do when it fires.
    func cancel() {
        deadline = nil
        action = nil
    }

    /// Cancels for good (the connection is closing).
    func stop() {
        cancel()
        task?.cancel()
        task = nil
        taskDeadline = nil
    }

    private func schedule(at when: NIODeadline) {
        taskDeadline = when
        task = eventLoop.assumeIsolated().scheduleTask(deadline: when) { [weak self] in
            self?.fired()
        }
    }

    private func fired() {
        task = nil
        taskDeadline = nil
        guard let deadline else { return }
        if NIODeadline.now() < deadline {
            schedule(at: deadline)
            return
        }
        let action = self.action
        self.deadline = nil
        self.action = nil
        action?()
    }
}

import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// Reports changes to scripts directories (SPEC §4: an edit, a new file, a deletion or a
/// ConfigMap `..data` swap is reloaded within 2 s).
///
/// One background thread waits on inotify for the directories themselves and, as a
/// fallback, compares a snapshot of names, sizes, mtimes, inodes and the `..data` target
/// every `pollInterval` (inotify misses changes on some filesystems and behind symlinks
/// that leave the directory). A burst of changes is debounced: `onChange` runs once,
/// `debounce` after the last change, or `4 × debounce` after the first when changes never
/// pause. With the defaults a change is reported within 250 ms, at most 1.25 s when only
/// polling sees it.
///
/// `onChange` runs on the watcher's thread and is never called after `stop()` returns.
/// Start the watcher before the first load, so no change falls between the two.
public final class ScriptWatcher: Sendable {
    private struct Running: Sendable {
        let loop: ScriptWatchLoop
        let thread: ObjectIdentifier
        let finished: DispatchGroup
    }

    private enum State: Sendable {
        case idle
        case running(Running)
        case stopped(Running?)
    }

    private let paths: [String]
    private let debounce: Duration
    private let pollInterval: Duration
    /// False only in tests, to check that polling alone reports every kind of change, as
    /// it must on filesystems where inotify misses events.
    private let usesInotify: Bool
    private let onChange: @Sendable () -> Void
    private let state = NIOLockedValueBox(State.idle)

    public convenience init(
        paths: [String], debounce: Duration = .milliseconds(250), pollInterval: Duration = .seconds(1),
        onChange: @escaping @Sendable () -> Void
    ) {
        self.init(paths: paths, debounce: debounce, pollInterval: pollInterval, usesInotify: true, onChange: onChange)
    }

    init(
        paths: [String], debounce: Duration, pollInterval: Duration, usesInotify: Bool,
        onChange: @escaping @Sendable () -> Void
    ) {
        self.paths = paths
        self.debounce = debounce
        self.pollInterval = pollInterval
        self.usesInotify = usesInotify
        self.onChange = onChange
    }

    deinit {
        stop()
    }

    /// Starts watching. Throws, naming each path, when a scripts path is not a directory;
    /// a kernel that refuses inotify is not an error (polling alone then reports changes).
    /// Call it once.
    public func start() throws(ScriptSourceError) {
        var problems: [String] = []
        for path in paths {
            switch ScriptFileSystem.status(path) {
            case .success(let status) where status.isDirectory:
                continue
            case .success:
                problems.append("scripts path '\(path)' is not a readable directory (not a directory)")
            case .failure(let failure):
                problems.append("scripts path '\(path)' is not a readable directory (\(failure.reason))")
            }
        }
        guard problems.isEmpty else { throw ScriptSourceError(problems: problems) }
        let wakeup: WakeupPipe
        switch WakeupPipe.make() {
        case .success(let pipe):
            wakeup = pipe
        case .failure(let failure):
            throw ScriptSourceError(problems: ["cannot start watching scripts paths \(paths): \(failure.reason)"])
        }

        let loop = ScriptWatchLoop(
            paths: paths, debounce: debounce, pollInterval: pollInterval, usesInotify: usesInotify, wakeup: wakeup,
            onChange: onChange)
        let finished = DispatchGroup()
        finished.enter()
        let thread = Thread {
            loop.run()
            finished.leave()
        }
        thread.name = "moongate-scripts-watcher"
        state.withLockedValue { state in
            guard case .idle = state else { preconditionFailure("ScriptWatcher.start() called more than once") }
            state = .running(Running(loop: loop, thread: ObjectIdentifier(thread), finished: finished))
        }
        thread.start()
    }

    /// Stops watching and waits for the watcher's thread to end, so `onChange` is not
    /// called after this returns. Called from `onChange` itself, it returns at once and the
    /// thread ends when the callback returns.
    public func stop() {
        let running: Running? = state.withLockedValue { state in
            switch state {
            case .idle:
                state = .stopped(nil)
                return nil
            case .running(let running):
                state = .stopped(running)
                return running
            case .stopped(let running):
                return running
            }
        }
        guard let running else { return }
        running.loop.requestStop()
        if ObjectIdentifier(Thread.current) != running.thread {
            running.finished.wait()
        }
    }
}

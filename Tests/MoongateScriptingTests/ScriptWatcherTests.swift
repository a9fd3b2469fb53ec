import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import MoongateScripting

/// Every wait is generous (5 s) and only bounds a test that would otherwise hang: the
/// machine is noisy, so nothing here asserts how fast a change is reported.
@Suite("ScriptWatcher")
struct ScriptWatcherTests {
    @Test(arguments: ChangeDetection.allCases)
    func editOfAFileIsReported(detection: ChangeDetection) async throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("scripts/plugin.lua", "return 1")
        let watched = try WatchedDirectory(fixture.path("scripts"), detection: detection)

        try fixture.write("scripts/plugin.lua", "return 2")

        #expect(await watched.changes.waitForAtLeast(1))
    }

    @Test(arguments: ChangeDetection.allCases)
    func newFileIsReported(detection: ChangeDetection) async throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.makeDirectory("scripts")
        let watched = try WatchedDirectory(fixture.path("scripts"), detection: detection)

        try fixture.write("scripts/new.lua", "return {}")

        #expect(await watched.changes.waitForAtLeast(1))
    }

    @Test(arguments: ChangeDetection.allCases)
    func deletionIsReported(detection: ChangeDetection) async throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("scripts/plugin.lua", "return {}")
        let watched = try WatchedDirectory(fixture.path("scripts"), detection: detection)

        try fixture.remove("scripts/plugin.lua")

        #expect(await watched.changes.waitForAtLeast(1))
    }

    @Test(arguments: ChangeDetection.allCases)
    func configMapDataSwapIsReported(detection: ChangeDetection) async throws {
        let fixture = try ScriptFixtureDirectory()
        let volume = try KubeletConfigMapVolume(root: fixture.path("scripts"), data: ["plugin.lua": "return 1"])
        let watched = try WatchedDirectory(volume.root, detection: detection)

        try volume.update(data: ["plugin.lua": "return 2"])

        #expect(await watched.changes.waitForAtLeast(1))
        let reloaded = try ScriptSetLoader.load(paths: [volume.root], bundledRoot: nil)
        #expect(reloaded.file("plugin")?.source == Array("return 2".utf8))
    }

    /// inotify on the scripts directory never sees a file edited through a symlink that
    /// points elsewhere; the polling fallback must.
    @Test func editBehindASymlinkIsReportedByPolling() async throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("elsewhere/real.lua", "return 1")
        try fixture.makeDirectory("scripts")
        try fixture.symlink("scripts/linked.lua", to: fixture.path("elsewhere/real.lua"))
        let watched = try WatchedDirectory(fixture.path("scripts"))

        try fixture.write("elsewhere/real.lua", "return 2, 'longer'")

        #expect(await watched.changes.waitForAtLeast(1))
    }

    @Test func burstOfWritesIsDebounced() async throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("scripts/plugin.lua", "return 0")
        let watched = try WatchedDirectory(fixture.path("scripts"))

        for index in 1...20 {
            try fixture.write("scripts/plugin.lua", "return \(index)")
        }

        #expect(await watched.changes.waitForAtLeast(1))
        // Let any trailing debounce or poll settle before counting.
        try await Task.sleep(for: .seconds(2))
        #expect(watched.changes.count <= 3)
    }

    @Test func hiddenAndNonScriptFilesAreNotReported() async throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.makeDirectory("scripts")
        let watched = try WatchedDirectory(fixture.path("scripts"))

        try fixture.write("scripts/.plugin.lua.swp", "swap")
        try fixture.write("scripts/notes.txt", "notes")
        try await Task.sleep(for: .seconds(2))

        #expect(watched.changes.count == 0)
    }

    @Test func noCallbackAfterStopReturns() async throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("scripts/plugin.lua", "return 1")
        let changes = ChangeCounter()
        let watcher = ScriptWatcher(paths: [fixture.path("scripts")]) { changes.record() }
        try watcher.start()

        try fixture.write("scripts/plugin.lua", "return 2")
        watcher.stop()
        let countAtStop = changes.count
        try fixture.write("scripts/other.lua", "return 3")
        try await Task.sleep(for: .seconds(2))

        #expect(changes.count == countAtStop)
    }

    @Test func stopFromTheCallbackDoesNotDeadlock() async throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.makeDirectory("scripts")
        let changes = ChangeCounter()
        let watcherBox = NIOLockedValueBox<ScriptWatcher?>(nil)
        let watcher = ScriptWatcher(paths: [fixture.path("scripts")]) {
            changes.record()
            watcherBox.withLockedValue { $0 }?.stop()
        }
        watcherBox.withLockedValue { $0 = watcher }
        try watcher.start()

        try fixture.write("scripts/a.lua", "return 1")
        #expect(await changes.waitForAtLeast(1))
        try fixture.write("scripts/b.lua", "return 2")
        try await Task.sleep(for: .seconds(2))

        #expect(changes.count == 1)
        watcher.stop()
        watcherBox.withLockedValue { $0 = nil }
    }

    @Test func startFailsNamingAMissingPath() throws {
        let fixture = try ScriptFixtureDirectory()
        let missing = fixture.path("absent")
        let watcher = ScriptWatcher(paths: [missing]) {}

        let error = try #require(throws: ScriptSourceError.self) { try watcher.start() }

        #expect(error.description.contains("scripts path '\(missing)' is not a readable directory"))
    }
}

/// Counts `onChange` calls from the watcher's thread.
final class ChangeCounter: Sendable {
    private let calls = NIOLockedValueBox(0)

    var count: Int { calls.withLockedValue { $0 } }

    func record() {
        calls.withLockedValue { $0 += 1 }
    }

    /// Polls for up to 5 s; true once at least `expected` changes were recorded.
    func waitForAtLeast(_ expected: Int) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while count < expected && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return count >= expected
    }
}

/// How a watcher under test notices changes: polling alone stands for filesystems where
/// inotify misses events, and must report every kind of change too.
enum ChangeDetection: CaseIterable, Sendable {
    case inotifyAndPolling
    case pollingOnly
}

/// A started watcher (default timings) on one directory with its change counter, stopped
/// when released.
final class WatchedDirectory: Sendable {
    let changes: ChangeCounter
    private let watcher: ScriptWatcher

    init(_ path: String, detection: ChangeDetection = .inotifyAndPolling) throws {
        let changes = ChangeCounter()
        self.changes = changes
        watcher = ScriptWatcher(
            paths: [path], debounce: .milliseconds(250), pollInterval: .seconds(1),
            usesInotify: detection == .inotifyAndPolling
        ) { changes.record() }
        try watcher.start()
    }

    deinit {
        watcher.stop()
    }
}

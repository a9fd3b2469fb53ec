import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import MoongateScripting

@Suite("ScriptSetLoader")
struct ScriptSetLoaderTests {
    @Test func scriptsPathShadowsBundledAndFirstPathWins() throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("bundled/plugins/key-auth.lua", "return 'bundled'")
        try fixture.write("bundled/plugins/cors.lua", "return 'cors'")
        try fixture.write("bundled/moongate/util.lua", "return 'helper'")
        try fixture.write("first/key-auth.lua", "return 'first'")
        try fixture.write("second/key-auth.lua", "return 'second'")
        try fixture.write("second/extra.lua", "return 'extra'")

        let set = try ScriptSetLoader.load(
            paths: [fixture.path("first"), fixture.path("second")], bundledRoot: fixture.path("bundled"))

        #expect(set.file("key-auth") == ScriptFile(
            module: "key-auth", path: fixture.path("first/key-auth.lua"), source: Array("return 'first'".utf8)))
        #expect(set.file("extra")?.path == fixture.path("second/extra.lua"))
        #expect(set.file("cors")?.path == fixture.path("bundled/plugins/cors.lua"))
        #expect(set.file("moongate.util")?.path == fixture.path("bundled/moongate/util.lua"))
        #expect(set.pluginNames == ["cors", "extra", "key-auth"])
    }

    @Test func scriptsPathShadowsABundledHelper() throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("bundled/moongate/util.lua", "return 'bundled'")
        try fixture.write("scripts/moongate.util.lua", "return 'mine'")

        let set = try ScriptSetLoader.load(paths: [fixture.path("scripts")], bundledRoot: fixture.path("bundled"))

        #expect(set.file("moongate.util")?.source == Array("return 'mine'".utf8))
    }

    @Test func dottedFileNamesAreHelperModules() throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("scripts/my-plugin.lua", "return {}")
        try fixture.write("scripts/mylib.util.lua", "return {}")
        try fixture.write("scripts/mylib.deep.codec.lua", "return {}")

        let set = try ScriptSetLoader.load(paths: [fixture.path("scripts")], bundledRoot: nil)

        #expect(Set(set.files.keys) == ["my-plugin", "mylib.util", "mylib.deep.codec"])
        #expect(set.file("mylib.util")?.path == fixture.path("scripts/mylib.util.lua"))
        #expect(set.pluginNames == ["my-plugin"])
    }

    @Test func onlyVisibleLuaRegularFilesDirectlyInsideCount() throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("scripts/plugin.lua", "return {}")
        try fixture.write("scripts/.hidden.lua", "return {}")
        try fixture.write("scripts/sub/inner.lua", "return {}")
        try fixture.makeDirectory("scripts/folder.lua")
        try fixture.write("scripts/README.md", "docs")
        try fixture.write("scripts/plugin.lua.bak", "old")
        try fixture.write("elsewhere/real.lua", "return 'linked'")
        try fixture.symlink("scripts/linked.lua", to: fixture.path("elsewhere/real.lua"))
        try fixture.symlink("scripts/dangling.lua", to: fixture.path("nowhere.lua"))

        let set = try ScriptSetLoader.load(paths: [fixture.path("scripts")], bundledRoot: nil)

        #expect(Set(set.files.keys) == ["plugin", "linked"])
        #expect(set.file("linked")?.path == fixture.path("scripts/linked.lua"))
        #expect(set.file("linked")?.source == Array("return 'linked'".utf8))
    }

    @Test func invalidModuleNamesAreReportedNamingEachFile() throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("scripts/good.lua", "return {}")
        try fixture.write("scripts/bad name.lua", "return {}")
        try fixture.write("scripts/a..b.lua", "return {}")

        let error = try #require(throws: ScriptSourceError.self) {
            try ScriptSetLoader.load(paths: [fixture.path("scripts")], bundledRoot: nil)
        }

        #expect(error.problems.count == 2)
        #expect(error.description.contains("'\(fixture.path("scripts/bad name.lua"))'"))
        #expect(error.description.contains("'\(fixture.path("scripts/a..b.lua"))'"))
        #expect(error.description.contains("invalid module name 'bad name'"))
    }

    @Test func missingScriptsPathIsAnErrorNamingIt() throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("present/a.lua", "return {}")
        let missing = fixture.path("absent")

        let error = try #require(throws: ScriptSourceError.self) {
            try ScriptSetLoader.load(paths: [fixture.path("present"), missing], bundledRoot: nil)
        }

        #expect(error.problems.count == 1)
        #expect(error.description.hasPrefix("scripts path '\(missing)' is not a readable directory"))
    }

    @Test func scriptsPathThatIsAFileIsAnError() throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("plugin.lua", "return {}")

        let error = try #require(throws: ScriptSourceError.self) {
            try ScriptSetLoader.load(paths: [fixture.path("plugin.lua")], bundledRoot: nil)
        }

        #expect(error.description.contains("scripts path '\(fixture.path("plugin.lua"))' is not a readable directory"))
    }

    @Test func bundledRootIsOptionalButMustExistWhenGiven() throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("scripts/a.lua", "return {}")
        try fixture.makeDirectory("empty-bundle")

        #expect(try ScriptSetLoader.load(paths: [fixture.path("scripts")], bundledRoot: nil).pluginNames == ["a"])
        #expect(
            try ScriptSetLoader.load(paths: [fixture.path("scripts")], bundledRoot: fixture.path("empty-bundle"))
                .pluginNames == ["a"])
        let error = try #require(throws: ScriptSourceError.self) {
            try ScriptSetLoader.load(paths: [], bundledRoot: fixture.path("no-bundle"))
        }
        #expect(error.description.contains("'\(fixture.path("no-bundle"))'"))
    }

    @Test func fingerprintFollowsContentNamesAndPaths() throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("scripts/a.lua", "return 1")
        let paths = [fixture.path("scripts")]

        let first = try ScriptSetLoader.load(paths: paths, bundledRoot: nil)
        #expect(try ScriptSetLoader.load(paths: paths, bundledRoot: nil).fingerprint == first.fingerprint)

        try fixture.write("scripts/a.lua", "return 2")
        let edited = try ScriptSetLoader.load(paths: paths, bundledRoot: nil)
        #expect(edited.fingerprint != first.fingerprint)

        try fixture.rename("scripts/a.lua", to: "scripts/b.lua")
        let renamed = try ScriptSetLoader.load(paths: paths, bundledRoot: nil)
        #expect(renamed.fingerprint != edited.fingerprint)
        #expect(renamed.pluginNames == ["b"])
    }

    @Test func configMapVolumeIsReadThroughItsCurrentVersion() throws {
        let fixture = try ScriptFixtureDirectory()
        let volume = try KubeletConfigMapVolume(
            root: fixture.path("scripts"),
            data: ["key-auth.lua": "return 'v1'", "mylib.util.lua": "return 'util v1'", "gone.lua": "return 'gone'"])

        let before = try ScriptSetLoader.load(paths: [volume.root], bundledRoot: nil)
        #expect(Set(before.files.keys) == ["key-auth", "mylib.util", "gone"])
        #expect(before.file("key-auth")?.path == volume.root + "/key-auth.lua")
        #expect(before.file("key-auth")?.source == Array("return 'v1'".utf8))

        try volume.update(data: [
            "key-auth.lua": "return 'v2'", "mylib.util.lua": "return 'util v2'", "new.lua": "return 'new'",
        ])

        let after = try ScriptSetLoader.load(paths: [volume.root], bundledRoot: nil)
        #expect(Set(after.files.keys) == ["key-auth", "mylib.util", "new"])
        #expect(after.file("key-auth")?.source == Array("return 'v2'".utf8))
        #expect(after.file("mylib.util")?.source == Array("return 'util v2'".utf8))
        #expect(after.file("new")?.path == volume.root + "/new.lua")
        #expect(after.fingerprint != before.fingerprint)
    }

    /// Stops the kubelet's update at each step and checks a load sees exactly one version.
    @Test func configMapLoadNeverMixesVersions() throws {
        let fixture = try ScriptFixtureDirectory()
        let volume = try KubeletConfigMapVolume(root: fixture.path("scripts"), data: ["a.lua": "v1", "old.lua": "v1"])
        let update = ["a.lua": "v2", "added.lua": "v2"]
        func contents() throws -> [String: String] {
            try ScriptSetLoader.load(paths: [volume.root], bundledRoot: nil).files.mapValues {
                String(decoding: $0.source, as: UTF8.self)
            }
        }

        try volume.update(data: update, stoppingAfter: .temporaryLinkCreated)
        #expect(try contents() == ["a": "v1", "old": "v1"])

        try volume.update(data: update, stoppingAfter: .dataLinkSwapped)
        #expect(try contents() == ["a": "v2", "added": "v2"])
    }

    @Test func bundledLookupOrder() throws {
        let fixture = try ScriptFixtureDirectory()
        try fixture.write("repo/Package.swift", "// swift-tools-version:6.0")
        try fixture.makeDirectory("repo/lua/plugins")
        try fixture.makeDirectory("install/share/moongate/lua")
        try fixture.makeDirectory("install/bin")
        try fixture.makeDirectory("portable/lua")
        let sourceFile = fixture.path("repo/Sources/MoongateScripting/ScriptSources/BundledScripts.swift")
        func locate(override: String? = nil, executable: String?, source: String = sourceFile) -> String? {
            BundledScripts.locate(override: override, executablePath: executable.map(fixture.path), sourceFile: source)
        }

        #expect(locate(override: "/custom/lua", executable: "portable/moongate") == "/custom/lua")
        #expect(locate(executable: "portable/moongate") == fixture.path("portable/lua"))
        #expect(locate(override: "", executable: "install/bin/moongate") == fixture.path("install/bin/../share/moongate/lua"))
        #expect(locate(executable: "elsewhere/moongate") == fixture.path("repo/lua"))
        #expect(locate(executable: nil, source: fixture.path("no-repo/File.swift")) == nil)
    }
}

/// A scratch directory for script-source tests, removed when released.
final class ScriptFixtureDirectory: @unchecked Sendable {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "moongate-scripts-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    func path(_ relativePath: String) -> String {
        root + "/" + relativePath
    }

    /// Writes in place (truncate and write, no rename), as an editor without backups does.
    func write(_ relativePath: String, _ contents: String) throws {
        let url = URL(fileURLWithPath: path(relativePath))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: url)
    }

    func makeDirectory(_ relativePath: String) throws {
        try FileManager.default.createDirectory(atPath: path(relativePath), withIntermediateDirectories: true)
    }

    func symlink(_ relativePath: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path(relativePath), withDestinationPath: target)
    }

    func rename(_ relativePath: String, to newRelativePath: String) throws {
        try FileManager.default.moveItem(atPath: path(relativePath), toPath: path(newRelativePath))
    }

    func remove(_ relativePath: String) throws {
        try FileManager.default.removeItem(atPath: path(relativePath))
    }
}

/// A ConfigMap volume laid out and updated step by step as the kubelet's atomic writer does:
/// `..data -> ..TIMESTAMP` plus one `KEY -> ..data/KEY` link per key; an update writes a new
/// version directory, links `..data_tmp` to it, renames that over `..data` (rename(2)),
/// adjusts the per-key links and removes the old version.
final class KubeletConfigMapVolume: @unchecked Sendable {
    enum Step: Int, Comparable {
        case temporaryLinkCreated
        case dataLinkSwapped
        case finished

        static func < (lhs: Step, rhs: Step) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    let root: String
    private var version: String
    private var keys: Set<String>
    private var updates = 0

    init(root: String, data: [String: String]) throws {
        self.root = root
        version = Self.versionName(0)
        keys = Set(data.keys)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Self.writeVersion(data, at: root + "/" + version)
        try FileManager.default.createSymbolicLink(atPath: root + "/..data", withDestinationPath: version)
        for key in data.keys {
            try FileManager.default.createSymbolicLink(atPath: root + "/" + key, withDestinationPath: "..data/" + key)
        }
    }

    /// Performs the kubelet's update up to and including `lastStep`.
    func update(data: [String: String], stoppingAfter lastStep: Step = .finished) throws {
        updates += 1
        let newVersion = Self.versionName(updates)
        try Self.writeVersion(data, at: root + "/" + newVersion)
        try? FileManager.default.removeItem(atPath: root + "/..data_tmp")
        try FileManager.default.createSymbolicLink(atPath: root + "/..data_tmp", withDestinationPath: newVersion)
        guard lastStep > .temporaryLinkCreated else { return }

        guard rename(root + "/..data_tmp", root + "/..data") == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        let oldVersion = version
        version = newVersion
        guard lastStep > .dataLinkSwapped else { return }

        for key in data.keys where !keys.contains(key) {
            try FileManager.default.createSymbolicLink(atPath: root + "/" + key, withDestinationPath: "..data/" + key)
        }
        for key in keys where data[key] == nil {
            try FileManager.default.removeItem(atPath: root + "/" + key)
        }
        keys = Set(data.keys)
        try FileManager.default.removeItem(atPath: root + "/" + oldVersion)
    }

    private static func versionName(_ update: Int) -> String {
        "..2026_11_27_10_00_\(String(format: "%02d", update % 60)).\(String(format: "%09d", update))"
    }

    private static func writeVersion(_ data: [String: String], at directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        for (key, contents) in data {
            try Data(contents.utf8).write(to: URL(fileURLWithPath: directory + "/" + key))
        }
    }
}

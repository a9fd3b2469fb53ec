import Foundation
import MoongateCore
import MoongateScripting

/// A temporary scripts directory holding the given files, removed when released.
final class TemporaryScripts {
    let path: String

    init(_ files: [String: String]) throws {
        path = NSTemporaryDirectory() + "moongate-scripts-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files { try write(name, text) }
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: "\(path)/\(name)", atomically: true, encoding: .utf8)
    }

    func scriptSet(bundled: Bool = false) throws -> ScriptSet {
        try ScriptSetLoader.load(paths: [path], bundledRoot: bundled ? BundledScripts.locate() : nil)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

extension PluginTestRunner.Outcome.Message {
    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

func request(
    _ method: String = "GET", _ target: String = "/", headers: [(String, String)] = [], body: String = "",
    upstreamResponse: PluginTestInput.Response? = nil, mocks: [PluginTestInput.Mock] = []
) -> PluginTestInput {
    var input = PluginTestInput()
    input.method = method
    if let mark = target.firstIndex(of: "?") {
        input.path = String(target[..<mark])
        input.rawQuery = String(target[target.index(after: mark)...])
    } else {
        input.path = target
    }
    input.headers = headers
    input.body = Array(body.utf8)
    input.upstreamResponse = upstreamResponse
    input.mocks = mocks
    return input
}

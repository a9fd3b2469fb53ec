import Foundation
import MoongateScripting
import NIOPosix
import Testing

/// docs/plugins.md documents every registered `gate` function, with the phases where
/// the code allows it (STYLE #4: docs and code cannot drift).
@Suite struct PDKDocumentationTests {
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/plugins.md").path

    static func registered() throws -> [(name: String, phases: PDKPhases)] {
        let scripts = try ScriptSetLoader.load(paths: [], bundledRoot: nil)
        let services = PluginServices()
        let generation = try ScriptGeneration.compile(scripts, limits: .init(), number: 1, services: services).get()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        return try loop.submit {
            let environment = PluginVMEnvironment(eventLoop: loop, services: services, http: PDKHTTPClient())
            return try PluginVM(generation: generation, environment: environment).functions
        }.wait()
    }

    @Test func everyRegisteredFunctionHasAHeadingWithItsPhases() throws {
        let text = try String(contentsOfFile: Self.docs, encoding: .utf8)
        let sections = text.components(separatedBy: "\n### ").dropFirst()
        var byName: [String: String] = [:]
        for section in sections {
            let heading = section.prefix { $0 != "\n" }
            let name = String(heading.prefix { $0 != "(" && $0 != " " })
            byName[name] = String(section)
        }
        let functions = try Self.registered()
        #expect(functions.count >= 75)
        for function in functions {
            let section = byName[function.name]
            #expect(section != nil, "docs/plugins.md has no '### \(function.name)(...)' heading")
            guard let section else { continue }
            // Its "Phases:" line names the request phases the code allows.
            guard let fullLine = section.split(separator: "\n").first(where: { $0.hasPrefix("Phases:") }) else {
                Issue.record("docs for \(function.name) have no 'Phases:' line")
                continue
            }
            // Up to the end of the first sentence ("Phases: `a`, `b`. Parameters: ...").
            let line = fullLine.components(separatedBy: ". ").first ?? String(fullLine)
            let documented: Set<String>
            if line.hasPrefix("Phases: all") || line.hasPrefix("Phases: request phases") {
                documented = Set(PDKPhases.request.names)
            } else {
                documented = Set(line.split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) })
            }
            let allowed = Set(function.phases.intersection(.request).names)
            #expect(documented == allowed, "docs for \(function.name) say \(documented.sorted()), the code allows \(allowed.sorted())")
        }
    }
}

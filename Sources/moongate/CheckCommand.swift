import ArgumentParser
import MoongateCore
import MoongateScripting

/// `moongate check`: validates the configuration, compiles every script and validates
/// every plugin instance against its plugin's schema. Prints `file:line: message` per
/// problem; exit 0 or 1 (SPEC §1).
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate the configuration and compile every script; print file:line: message for each problem.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let path: String
        switch ConfigChoice.resolve(options.config) {
        case .file(let file): path = file
        case .quickstart:
            print("moongate: no moongate.yaml here and no -c FILE: the built-in quickstart is valid")
            return
        }
        let document: ConfigDocument
        do {
            document = try ConfigLoader.load(path: path)
        } catch {
            print("\(error)")
            throw MoongateExit.invalidInput
        }
        let loading = ScriptLoading(extraPaths: options.scripts)
        let generation: ScriptGeneration
        switch loading.compile(document.scripts.model ?? ScriptsConfig(), number: 1, services: PluginServices()) {
        case .success(let compiled):
            generation = compiled
        case .failure(let error):
            for problem in error.problems { print(problem) }
            throw MoongateExit.invalidInput
        }
        let outcome = ConfigCompiler.compile(document, previous: nil, plugins: PluginInstanceChecker(generation: generation))
        if outcome.rejected.isEmpty {
            do {
                _ = try Router(routes: outcome.runtime.routeSpecs)
            } catch {
                print("\(path): \(error)")
                throw MoongateExit.invalidInput
            }
            print(
                "\(path): ok (\(outcome.runtime.routes.count) routes, \(outcome.runtime.upstreams.count) upstreams, "
                    + "\(generation.plugins.count) plugins)")
            return
        }
        for issue in outcome.rejected { print(issue.description) }
        throw MoongateExit.invalidInput
    }
}

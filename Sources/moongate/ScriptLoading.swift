import MoongateCore
import MoongateScripting

/// Loads and compiles the scripts a configuration names (its `scripts.paths` plus
/// `--scripts` directories, and the bundled plugins), for `run`, `check` and reloads.
struct ScriptLoading {
    /// `--scripts` directories, added after the configuration's paths.
    let extraPaths: [String]
    let bundledRoot: String?

    init(extraPaths: [String]) {
        self.extraPaths = extraPaths
        bundledRoot = BundledScripts.locate()
    }

    func paths(_ scripts: ScriptsConfig) -> [String] {
        scripts.paths + extraPaths.filter { !scripts.paths.contains($0) }
    }

    /// Reads and compiles the scripts; the problems name files and lines.
    func compile(_ scripts: ScriptsConfig, number: Int, services: PluginServices) -> Result<ScriptGeneration, ScriptGenerationError> {
        let set: ScriptSet
        do {
            set = try ScriptSetLoader.load(paths: paths(scripts), bundledRoot: bundledRoot)
        } catch {
            return .failure(ScriptGenerationError(problems: error.problems))
        }
        return ScriptGeneration.compile(set, limits: scripts.limits, number: number, services: services)
    }
}

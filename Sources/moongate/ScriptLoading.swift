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
        switch compile(scripts, number: number, services: services, unlessSameAs: nil) {
        case .success(let generation): return .success(generation!)
        case .failure(let error): return .failure(error)
        }
    }

    /// Reads the scripts and compiles them only when they differ from `current` (the
    /// files' bytes or the limits): nil when nothing changed, so a reload that finds
    /// the same files costs a read, not a scratch VM.
    func compile(
        _ scripts: ScriptsConfig, number: Int, services: PluginServices, unlessSameAs current: ScriptGeneration?
    ) -> Result<ScriptGeneration?, ScriptGenerationError> {
        let set: ScriptSet
        do {
            set = try ScriptSetLoader.load(paths: paths(scripts), bundledRoot: bundledRoot)
        } catch {
            return .failure(ScriptGenerationError(problems: error.problems))
        }
        if let current, current.scripts == set, current.limits == ScriptGeneration.limits(scripts.limits) {
            return .success(nil)
        }
        return ScriptGeneration.compile(set, limits: scripts.limits, number: number, services: services).map { $0 }
    }
}

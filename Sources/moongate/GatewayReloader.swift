import Logging
import MoongateCore
import MoongateProxy
import MoongateScripting
import NIOConcurrencyHelpers

/// Applies reloads of the configuration (SIGHUP) and of the scripts (SIGHUP, or a
/// change seen by the watcher), one at a time, each publishing a new generation only
/// when it is good (SPEC §2/§3 reload rules):
///
/// - a configuration document that does not parse changes nothing; invalid objects
///   keep their last good version;
/// - a script set that fails to compile, or against which the configured plugin
///   instances no longer validate, changes nothing: the last good generation serves.
final class GatewayReloader: @unchecked Sendable {
    // Everything below is touched under `lock` only (reloads come from the signal
    // task and the watcher's thread).
    private let lock = NIOLock()
    private let source: ConfigChoice
    private let store: ConfigStore
    private let logger: Logger
    private let services: PluginServices
    private let loading: ScriptLoading
    private var generation: ScriptGeneration
    private var watcher: ScriptWatcher?
    private var watchedPaths: [String] = []

    init(
        source: ConfigChoice, store: ConfigStore, generation: ScriptGeneration, services: PluginServices, loading: ScriptLoading,
        logger: Logger
    ) {
        self.source = source
        self.store = store
        self.generation = generation
        self.services = services
        self.loading = loading
        self.logger = logger
    }

    /// Watches the scripts paths when `scripts.watch` is on, then looks once more: a
    /// change made between the start-up load and the watch is not missed.
    func startWatching() {
        lock.withLock { updateWatcher(store.current.runtime.scripts) }?.stop()
        reloadScripts()
    }

    func stopWatching() {
        let current = lock.withLock { () -> ScriptWatcher? in
            defer { watcher = nil }
            return watcher
        }
        current?.stop()
    }

    /// SIGHUP: the configuration file, then the scripts.
    func reloadConfiguration() {
        // A replaced watcher is stopped outside the lock: its thread may be waiting
        // for the lock in `reloadScripts`.
        lock.withLock { () -> ScriptWatcher? in
            guard case .file(let path) = source else {
                logger.info("reload: the built-in quickstart has no file to reload")
                return nil
            }
            let document: ConfigDocument
            do {
                document = try ConfigLoader.load(path: path)
            } catch {
                logger.error("reload failed, keeping the current configuration", metadata: ["error": "\(error)"])
                return nil
            }
            // The scripts first: the new configuration's instances are checked against
            // them. A script set that fails, or that the configuration's instances do not
            // validate against, is refused as a whole; the configuration still applies,
            // object by object, against the scripts that keep serving.
            let current = store.current
            let scripts = document.scripts.model ?? current.runtime.scripts
            var candidates = [generation]
            switch loading.compile(scripts, number: generation.number + 1, services: services, unlessSameAs: generation) {
            case .success(let compiled?):
                candidates.insert(compiled, at: 0)
            case .success(nil):
                break
            case .failure(let error):
                logger.error(
                    "scripts reload failed, the previous scripts keep serving",
                    metadata: ["generation": "\(generation.number)", "errors": "\(error)"])
            }
            for (attempt, candidate) in candidates.enumerated() {
                let outcome = ConfigCompiler.compile(
                    document, previous: current.runtime, plugins: PluginInstanceChecker(generation: candidate))
                let plan: PluginPlan
                switch PluginPlan.build(outcome.runtime, generation: candidate) {
                case .failure(let error):
                    if attempt + 1 < candidates.count {
                        logger.error(
                            "scripts reload refused: the configuration's plugin instances do not validate against them; the previous scripts keep serving",
                            metadata: ["errors": "\(error)"])
                        continue
                    }
                    logger.error("reload failed, keeping the current configuration", metadata: ["error": "\(error)"])
                    return updateWatcher(current.runtime.scripts)
                case .success(let built):
                    plan = built
                }
                for issue in outcome.rejected {
                    logger.error("reload: object rejected", metadata: ["issue": "\(issue.description)"])
                }
                do {
                    store.publish(try ServingConfig(generation: current.generation + 1, runtime: outcome.runtime, plugins: plan))
                    generation = candidate
                    logger.info(
                        "reloaded",
                        metadata: [
                            "generation": "\(current.generation + 1)", "routes": "\(outcome.runtime.routes.count)",
                            "rejected": "\(outcome.rejected.count)", "scripts": "\(generation.number)",
                        ])
                } catch {
                    logger.error("reload failed, keeping the current configuration", metadata: ["error": "\(error)"])
                }
                break
            }
            return updateWatcher(store.current.runtime.scripts)
        }?.stop()
    }

    /// A scripts directory changed: compile the whole set in a scratch VM, and publish
    /// it only when it compiles and every configured instance still validates.
    func reloadScripts() {
        lock.withLock {
            let current = store.current
            let started = ContinuousClock.now
            let compiled: ScriptGeneration
            switch loading.compile(
                current.runtime.scripts, number: generation.number + 1, services: services, unlessSameAs: generation)
            {
            case .failure(let error):
                logger.error(
                    "scripts reload failed, the previous scripts keep serving",
                    metadata: ["generation": "\(generation.number)", "errors": "\(error)"])
                return
            case .success(nil):
                return
            case .success(let generation?):
                compiled = generation
            }
            switch PluginPlan.build(current.runtime, generation: compiled) {
            case .failure(let error):
                logger.error(
                    "scripts reload failed: the configured plugin instances do not validate; the previous scripts keep serving",
                    metadata: ["errors": "\(error)"])
            case .success(let plan):
                generation = compiled
                store.publish(ServingConfig(generation: current.generation + 1, reusing: current, plugins: plan))
                logger.info(
                    "scripts reloaded",
                    metadata: [
                        "generation": "\(compiled.number)", "plugins": "\(compiled.plugins.count)",
                        "took": "\(ContinuousClock.now - started)",
                    ])
            }
        }
    }

    /// Starts, restarts or stops the watcher when the paths or `watch` changed; returns
    /// the replaced watcher, for the caller to stop once the lock is released. Under `lock`.
    private func updateWatcher(_ scripts: ScriptsConfig) -> ScriptWatcher? {
        let paths = scripts.watch ? loading.paths(scripts) : []
        guard paths != watchedPaths else { return nil }
        let retired = watcher
        watcher = nil
        watchedPaths = paths
        guard !paths.isEmpty else { return retired }
        let next = ScriptWatcher(paths: paths) { [weak self] in self?.reloadScripts() }
        do {
            try next.start()
            watcher = next
            logger.info("watching scripts", metadata: ["paths": "\(paths.joined(separator: ","))"])
        } catch {
            logger.error("cannot watch the scripts paths", metadata: ["error": "\(error)"])
        }
        return retired
    }
}

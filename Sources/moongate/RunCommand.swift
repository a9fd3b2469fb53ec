import ArgumentParser
import Dispatch
import Logging
import MoongateCore
import MoongateProxy
import MoongateScripting
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// `moongate run`: the standalone gateway.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the gateway (standalone) on a YAML configuration.")

    @OptionGroup var options: ConfigOptions

    @Flag(name: .customLong("allow-partial"), help: "Start with the valid objects when some are invalid.")
    var allowPartial = false

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        // Before anything listens: a SIGHUP or SIGTERM that arrives during start-up is
        // queued instead of killing the process (their default action).
        let signals = SignalWaiter()
        var logger = Logger(label: "moongate")
        logger.logLevel = .info
        let source = ConfigChoice.resolve(options.config)

        // The quickstart's echo upstream needs the event loops before its config exists;
        // a file's config chooses the number of event loops (`proxy.workers`).
        var group: MultiThreadedEventLoopGroup?
        var quickstartOrigin: Channel?
        let document: ConfigDocument
        do {
            switch source {
            case .file(let path):
                document = try ConfigLoader.load(path: path)
            case .quickstart:
                let quickstartGroup = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
                group = quickstartGroup
                let origin = try await EchoOrigin.start(group: quickstartGroup)
                quickstartOrigin = origin
                let port = origin.localAddress?.port ?? 0
                document = try ConfigLoader.parse(
                    yaml: ConfigChoice.quickstartYAML(echoAddress: "127.0.0.1:\(port)"), file: "<quickstart>")
                logger.info("no moongate.yaml here: serving the built-in quickstart (try: curl http://127.0.0.1:8000/hello)")
            }
        } catch {
            printError("\(error)")
            throw MoongateExit.invalidInput
        }

        // Scripts first: the configuration's plugin instances are validated against them.
        let services = PluginServices(
            maxSharedKeys: (document.scripts.model ?? ScriptsConfig()).limits.sharedKeys, logger: Logger(label: "moongate.plugins"))
        let loading = ScriptLoading(extraPaths: options.scripts)
        let generation: ScriptGeneration
        switch loading.compile(document.scripts.model ?? ScriptsConfig(), number: 1, services: services) {
        case .success(let compiled):
            generation = compiled
        case .failure(let error):
            for problem in error.problems { printError(problem) }
            printError("moongate: the scripts do not compile; nothing started")
            throw MoongateExit.invalidInput
        }

        let outcome = ConfigCompiler.compile(document, previous: nil, plugins: PluginInstanceChecker(generation: generation))
        for issue in outcome.rejected { printError(issue.description) }
        if !outcome.rejected.isEmpty && !allowPartial {
            printError("moongate: \(outcome.rejected.count) configuration error(s); nothing started (use --allow-partial to start with the valid objects)")
            throw MoongateExit.invalidInput
        }
        // Without valid listeners and limits there is nothing partial to start.
        if outcome.rejected.contains(where: { $0.object.kind == .proxy }) {
            printError("moongate: the proxy section is invalid; nothing started")
            throw MoongateExit.invalidInput
        }
        let workers = outcome.runtime.proxy.workers ?? System.coreCount
        let eventLoops = group ?? MultiThreadedEventLoopGroup(numberOfThreads: workers)

        let store: ConfigStore
        do {
            let plan = try PluginPlan.build(outcome.runtime, generation: generation).get()
            store = ConfigStore(try ServingConfig(generation: 1, runtime: outcome.runtime, plugins: plan))
        } catch {
            printError("moongate: \(error)")
            throw MoongateExit.invalidInput
        }
        let server = GatewayServer(store: store, group: eventLoops, plugins: services)
        let bound: [SocketAddress]
        do {
            bound = try await server.start()
        } catch {
            printError("moongate: cannot listen: \(error)")
            throw MoongateExit.runtimeFailure
        }
        let runtime = outcome.runtime
        logger.info(
            "moongate listening",
            metadata: [
                "listen": .string(bound.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" }.joined(separator: ",")),
                "routes": .stringConvertible(runtime.routes.count),
                "upstreams": .stringConvertible(runtime.upstreams.count),
                "workers": .stringConvertible(group == nil ? workers : System.coreCount),
                "plugins": .stringConvertible(generation.plugins.count),
            ])

        let reloader = GatewayReloader(
            source: source, store: store, generation: generation, services: services, loading: loading, logger: logger)
        reloader.startWatching()
        while true {
            switch await signals.next() {
            case .reload:
                reloader.reloadConfiguration()
            case .stop:
                reloader.stopWatching()
                logger.info("draining", metadata: ["timeout": .string("\(store.current.runtime.proxy.drainTimeout)")])
                await server.drain(timeout: store.current.runtime.proxy.drainTimeout)
                server.stopBackgroundWork()
                try? await quickstartOrigin?.close()
                try? await eventLoops.shutdownGracefully()
                logger.info("stopped")
                return
            }
        }
    }
}

/// Turns SIGHUP, SIGTERM and SIGINT into an async sequence of events.
final class SignalWaiter: @unchecked Sendable {
    enum Event { case reload, stop }
    private let queue = DispatchQueue(label: "moongate.signals")
    private var sources: [DispatchSourceSignal] = []
    private var pending: [Event] = []
    private var waiter: CheckedContinuation<Event, Never>?

    init() {
        for (signalNumber, event) in [(SIGHUP, Event.reload), (SIGTERM, .stop), (SIGINT, .stop)] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { [weak self] in self?.deliver(event) }
            source.resume()
            sources.append(source)
        }
    }

    // Runs on `queue` only.
    private func deliver(_ event: Event) {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: event)
        } else {
            pending.append(event)
        }
    }

    func next() async -> Event {
        await withCheckedContinuation { continuation in
            queue.async {
                if !self.pending.isEmpty {
                    continuation.resume(returning: self.pending.removeFirst())
                } else {
                    self.waiter = continuation
                }
            }
        }
    }
}

import ArgumentParser
import Dispatch
import Logging
import MoongateCore
import MoongateProxy
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

        let outcome = ConfigCompiler.compile(document, previous: nil)
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
            store = ConfigStore(try ServingConfig(generation: 1, runtime: outcome.runtime))
        } catch {
            printError("moongate: \(error)")
            throw MoongateExit.invalidInput
        }
        let server = GatewayServer(store: store, group: eventLoops)
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
            ])

        let reloader = Reloader(source: source, store: store, logger: logger)
        let signals = SignalWaiter()
        while true {
            switch await signals.next() {
            case .reload:
                reloader.reload()
            case .stop:
                logger.info("draining", metadata: ["timeout": .string("\(store.current.runtime.proxy.drainTimeout)")])
                await server.drain(timeout: store.current.runtime.proxy.drainTimeout)
                try? await quickstartOrigin?.close()
                try? await eventLoops.shutdownGracefully()
                logger.info("stopped")
                return
            }
        }
    }
}

/// SIGHUP: re-reads the configuration file and publishes what is valid (SPEC §2 reload
/// rules); a document that does not parse changes nothing.
struct Reloader {
    let source: ConfigChoice
    let store: ConfigStore
    let logger: Logger

    func reload() {
        guard case .file(let path) = source else {
            logger.info("reload: the built-in quickstart has no file to reload")
            return
        }
        let document: ConfigDocument
        do {
            document = try ConfigLoader.load(path: path)
        } catch {
            logger.error("reload failed, keeping the current configuration", metadata: ["error": .string("\(error)")])
            return
        }
        let current = store.current
        let outcome = ConfigCompiler.compile(document, previous: current.runtime)
        for issue in outcome.rejected {
            logger.error("reload: object rejected", metadata: ["issue": .string(issue.description)])
        }
        do {
            store.publish(try ServingConfig(generation: current.generation + 1, runtime: outcome.runtime))
            logger.info(
                "reloaded",
                metadata: [
                    "generation": .stringConvertible(current.generation + 1),
                    "routes": .stringConvertible(outcome.runtime.routes.count),
                    "rejected": .stringConvertible(outcome.rejected.count),
                ])
        } catch {
            logger.error("reload failed, keeping the current configuration", metadata: ["error": .string("\(error)")])
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

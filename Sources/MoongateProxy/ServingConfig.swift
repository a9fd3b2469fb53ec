import MoongateCore
import MoongateScripting
import NIOConcurrencyHelpers
import NIOCore

/// One generation of configuration as the data plane serves it: the compiled config,
/// its router, and the plugin plan (which plugins run for which route, with which
/// scripts). Immutable; a reload of the config or of the scripts publishes a new one.
public final class ServingConfig: Sendable {
    public let generation: Int
    public let runtime: RuntimeConfig
    public let router: Router
    /// Nil or empty when no plugin runs: requests skip the plugin machinery.
    public let plugins: PluginPlan?
    /// `proxy.limits.idle_timeout` and `header_timeout` as NIO counts time (made once:
    /// the timers are armed for every request).
    let idleTimeout: TimeAmount
    let headerTimeout: TimeAmount

    public init(generation: Int, runtime: RuntimeConfig, plugins: PluginPlan? = nil) throws {
        self.generation = generation
        self.runtime = runtime
        self.router = try Router(routes: runtime.routeSpecs)
        self.plugins = plugins.flatMap { $0.isEmpty ? nil : $0 }
        idleTimeout = TimeAmount(runtime.proxy.limits.idleTimeout)
        headerTimeout = TimeAmount(runtime.proxy.limits.headerTimeout)
    }

    /// The same configuration with another plugin plan (a scripts reload).
    public init(generation: Int, reusing previous: ServingConfig, plugins: PluginPlan?) {
        self.generation = generation
        self.runtime = previous.runtime
        self.router = previous.router
        self.plugins = plugins.flatMap { $0.isEmpty ? nil : $0 }
        idleTimeout = previous.idleTimeout
        headerTimeout = previous.headerTimeout
    }
}

/// The current generation, swapped atomically by reloads. Requests read it once, when
/// their head arrives, and keep that generation for their whole exchange.
public final class ConfigStore: Sendable {
    private let box: NIOLockedValueBox<ServingConfig>
    private let observers = NIOLockedValueBox<[@Sendable (ServingConfig) -> Void]>([])

    public init(_ initial: ServingConfig) {
        box = NIOLockedValueBox(initial)
    }

    public var current: ServingConfig { box.withLockedValue { $0 } }

    /// Runs `observer` with the current generation now and with each new one before it
    /// becomes current (what requests depend on, such as the upstream directory, is
    /// ready when the first request of a generation arrives).
    func willPublish(_ observer: @escaping @Sendable (ServingConfig) -> Void) {
        observers.withLockedValue { $0.append(observer) }
        observer(current)
    }

    public func publish(_ config: ServingConfig) {
        for observer in observers.withLockedValue({ $0 }) { observer(config) }
        box.withLockedValue { $0 = config }
    }
}

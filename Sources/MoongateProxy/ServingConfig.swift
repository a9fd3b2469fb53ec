import MoongateCore
import NIOConcurrencyHelpers

/// One generation of configuration as the data plane serves it: the compiled config
/// plus its router. Immutable; a reload publishes a new one.
public final class ServingConfig: Sendable {
    public let generation: Int
    public let runtime: RuntimeConfig
    public let router: Router

    public init(generation: Int, runtime: RuntimeConfig) throws {
        self.generation = generation
        self.runtime = runtime
        self.router = try Router(routes: runtime.routeSpecs)
    }
}

/// The current generation, swapped atomically by reloads. Requests read it once, when
/// their head arrives, and keep that generation for their whole exchange.
public final class ConfigStore: Sendable {
    private let box: NIOLockedValueBox<ServingConfig>

    public init(_ initial: ServingConfig) {
        box = NIOLockedValueBox(initial)
    }

    public var current: ServingConfig { box.withLockedValue { $0 } }

    public func publish(_ config: ServingConfig) {
        box.withLockedValue { $0 = config }
    }
}

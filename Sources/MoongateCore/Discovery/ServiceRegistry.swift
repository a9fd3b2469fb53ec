import Synchronization

/// Instances that registered themselves (SPEC §5 `POST /registry/{service}/instances`):
/// each lives for its TTL and is renewed by a heartbeat or by registering the same
/// address again; one whose TTL passes without either is dropped. Upstreams with
/// `discovery: { registry: NAME }` follow a service through `onChange`.
///
/// Expiry is lazy as well as driven: every call that touches a service first drops
/// its expired instances, so readers never see an instance past its TTL even if no
/// one calls `expire(now:)` on a timer. Observers run after the lock is released, so
/// they may call back into the registry.
public final class ServiceRegistry: Sendable {
    public struct Instance: Sendable, Equatable {
        /// 16 random hex digits: the handle for heartbeats and deregistration, not
        /// guessable from other instances' ids.
        public let id: String
        public let service: String
        /// `host:port` in `HostPort`'s canonical form (host names lower-cased, IPv6 in brackets).
        public let address: String
        /// 0 (drained) ... 65535.
        public let weight: Int
        public let ttl: Duration
        public let metadata: [String: String]
        /// Monotonic nanoseconds at which the instance expires unless renewed.
        public let expiresAt: UInt64
    }

    public static let weightRange = 0...65535
    public static let ttlRange: ClosedRange<Duration> = .seconds(1) ... .seconds(3600)

    private struct State {
        /// Service -> id -> instance. A service with no instances is removed.
        var services: [String: [String: Instance]] = [:]
        var observers: [@Sendable (String) -> Void] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Registers `address` in `service`, or renews and updates the instance that already
    /// has that address (keeping its id, so a restarted replica that re-registers does not
    /// leave a twin behind). Observers hear of a new instance and of a changed weight or
    /// metadata, not of a renewal that changes neither.
    public func register(
        service: String, address: String, weight: Int = 100, ttl: Duration = .seconds(30),
        metadata: [String: String] = [:], now: UInt64
    ) throws(RegistryError) -> Instance {
        guard ConfigName.isObjectName(service) else {
            throw .invalid("service name '\(service)' is not valid: use \(ConfigName.objectRule), at most 128 characters")
        }
        let hostPort: HostPort
        switch HostPort.parse(address) {
        case .success(let parsed): hostPort = parsed
        case .failure(let error): throw .invalid("address: \(error.message)")
        }
        guard Self.weightRange.contains(weight) else {
            throw .invalid("weight must be from 0 (drained) to 65535, found \(weight)")
        }
        guard Self.ttlRange.contains(ttl) else {
            throw .invalid("ttl must be from 1s to 1h, found \(Self.configText(ttl))")
        }
        let canonicalAddress = HostPort(host: hostPort.host.lowercased(), port: hostPort.port).description
        let expiresAt = now &+ ttl.wholeNanoseconds
        let (instance, changed) = state.withLock { state in
            var instances = Self.live(state.services[service] ?? [:], now: now)
            let previous = instances.values.first { $0.address == canonicalAddress }
            let instance = Instance(
                id: previous?.id ?? Self.makeID(avoiding: instances), service: service, address: canonicalAddress,
                weight: weight, ttl: ttl, metadata: metadata, expiresAt: expiresAt)
            let expired = instances.count != (state.services[service]?.count ?? 0)
            instances[instance.id] = instance
            state.services[service] = instances
            let changed = expired || previous == nil || previous?.weight != weight || previous?.metadata != metadata
            return (instance, changed)
        }
        if changed { notify([service]) }
        return instance
    }

    /// Renews instance `id` for another TTL. An instance whose TTL has already passed is
    /// gone: the answer is `unknownInstance`, and the caller registers again.
    public func heartbeat(service: String, id: String, now: UInt64) throws(RegistryError) -> Instance {
        let outcome: (result: Result<Instance, RegistryError>, expired: Bool) = state.withLock { state in
            guard let stored = state.services[service] else { return (.failure(.unknownService(service)), false) }
            var instances = Self.live(stored, now: now)
            let expired = instances.count != stored.count
            defer { state.services[service] = instances.isEmpty ? nil : instances }
            guard let current = instances[id] else {
                return (.failure(.unknownInstance(service: service, id: id)), expired)
            }
            let renewed = Instance(
                id: id, service: service, address: current.address, weight: current.weight, ttl: current.ttl,
                metadata: current.metadata, expiresAt: now &+ current.ttl.wholeNanoseconds)
            instances[id] = renewed
            return (.success(renewed), expired)
        }
        if outcome.expired { notify([service]) }
        return try outcome.result.get()
    }

    public func deregister(service: String, id: String) throws(RegistryError) {
        let result: Result<Void, RegistryError> = state.withLock { state in
            guard var instances = state.services[service] else { return .failure(.unknownService(service)) }
            guard instances.removeValue(forKey: id) != nil else {
                return .failure(.unknownInstance(service: service, id: id))
            }
            state.services[service] = instances.isEmpty ? nil : instances
            return .success(())
        }
        try result.get()
        notify([service])
    }

    /// Live instances (expired ones dropped, which counts as a change), ordered by address.
    public func instances(of service: String, now: UInt64) -> [Instance] {
        let (instances, expired) = state.withLock { state in
            guard let stored = state.services[service] else { return ([Instance](), false) }
            let live = Self.live(stored, now: now)
            state.services[service] = live.isEmpty ? nil : live
            return (Self.ordered(live), live.count != stored.count)
        }
        if expired { notify([service]) }
        return instances
    }

    /// Every service with live instances (expired ones dropped, which counts as a change).
    public func services(now: UInt64) -> [String: [Instance]] {
        let (snapshot, changed) = state.withLock { state in
            let changed = Self.dropExpired(&state, now: now)
            return (state.services.mapValues(Self.ordered), changed)
        }
        notify(changed)
        return snapshot
    }

    /// Removes expired instances; returns the services that changed.
    @discardableResult
    public func expire(now: UInt64) -> Set<String> {
        let changed = state.withLock { state in Self.dropExpired(&state, now: now) }
        notify(changed)
        return changed
    }

    /// Called (outside the lock) with the service name after every change (register,
    /// deregister, expiry, weight or metadata change); not on a plain heartbeat.
    public func onChange(_ observer: @escaping @Sendable (String) -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    private func notify(_ services: Set<String>) {
        guard !services.isEmpty else { return }
        let observers = state.withLock { $0.observers }
        for service in services.sorted() {
            for observer in observers { observer(service) }
        }
    }

    private static func live(_ instances: [String: Instance], now: UInt64) -> [String: Instance] {
        instances.filter { $0.value.expiresAt > now }
    }

    private static func dropExpired(_ state: inout State, now: UInt64) -> Set<String> {
        var changed: Set<String> = []
        for (service, instances) in state.services {
            let live = live(instances, now: now)
            guard live.count != instances.count else { continue }
            changed.insert(service)
            state.services[service] = live.isEmpty ? nil : live
        }
        return changed
    }

    private static func ordered(_ instances: [String: Instance]) -> [Instance] {
        instances.values.sorted { ($0.address, $0.id) < ($1.address, $1.id) }
    }

    /// A duration as configuration writes it ("45s", "999ms"), for messages: `Duration`'s
    /// own description shows binary fractions ("3600.9999999999995 seconds").
    private static func configText(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds)s" }
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        return nanoseconds % 1_000_000 == 0 ? "\(nanoseconds / 1_000_000)ms" : "\(nanoseconds)ns"
    }

    /// 64 random bits from the system generator as 16 hex digits; a collision within the
    /// service (astronomically unlikely) draws again rather than overwrite an instance.
    private static func makeID(avoiding instances: [String: Instance]) -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            let hex = String(generator.next() as UInt64, radix: 16)
            let id = String(repeating: "0", count: 16 - hex.count) + hex
            if instances[id] == nil { return id }
        }
    }
}

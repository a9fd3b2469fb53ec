import MoongateCore
import Synchronization
import Testing

@Suite("Service registry")
struct ServiceRegistryTests {
    private static let second: UInt64 = 1_000_000_000

    /// Service names passed to observers, in order.
    private final class ChangeLog: Sendable {
        private let names = Mutex<[String]>([])
        var all: [String] { names.withLock { $0 } }
        func record(_ service: String) { names.withLock { $0.append(service) } }
        func clear() { names.withLock { $0.removeAll() } }
    }

    private func observed(_ registry: ServiceRegistry) -> ChangeLog {
        let log = ChangeLog()
        registry.onChange { log.record($0) }
        return log
    }

    @Test("register answers an id, the canonical address and the TTL; defaults are weight 100 and 30 s")
    func register() throws {
        let registry = ServiceRegistry()
        let instance = try registry.register(service: "orders", address: "Orders-1.Internal:8080", now: 5)
        #expect(instance.id.count == 16 && instance.id.allSatisfy(\.isHexDigit))
        #expect(instance.service == "orders")
        #expect(instance.address == "orders-1.internal:8080")
        #expect(instance.weight == 100)
        #expect(instance.ttl == .seconds(30))
        #expect(instance.metadata == [:])
        #expect(instance.expiresAt == 5 + 30 * Self.second)
        #expect(registry.instances(of: "orders", now: 5) == [instance])
    }

    @Test("ids differ between instances")
    func distinctIDs() throws {
        let registry = ServiceRegistry()
        let ids = try (1...50).map { try registry.register(service: "s", address: "10.0.0.\($0):80", now: 0).id }
        #expect(Set(ids).count == 50)
    }

    @Test("an instance expires when its TTL passes without a heartbeat")
    func expiry() throws {
        let registry = ServiceRegistry()
        let log = observed(registry)
        let short = try registry.register(service: "orders", address: "10.0.0.1:80", ttl: .seconds(2), now: 0)
        let long = try registry.register(service: "orders", address: "10.0.0.2:80", ttl: .seconds(10), now: 0)
        log.clear()
        #expect(registry.expire(now: 2 * Self.second - 1).isEmpty)
        #expect(registry.instances(of: "orders", now: 2 * Self.second - 1) == [short, long])
        #expect(log.all.isEmpty)
        #expect(registry.expire(now: 2 * Self.second) == ["orders"])
        #expect(log.all == ["orders"])
        #expect(registry.instances(of: "orders", now: 2 * Self.second) == [long])
        #expect(registry.expire(now: 10 * Self.second) == ["orders"])
        #expect(registry.services(now: 10 * Self.second).isEmpty)
        #expect(log.all == ["orders", "orders"])
    }

    @Test("reading a service drops its expired instances and reports the change")
    func lazyExpiry() throws {
        let registry = ServiceRegistry()
        _ = try registry.register(service: "a", address: "10.0.0.1:80", ttl: .seconds(1), now: 0)
        let survivor = try registry.register(service: "b", address: "10.0.0.2:80", ttl: .seconds(5), now: 0)
        _ = try registry.register(service: "b", address: "10.0.0.3:80", ttl: .seconds(1), now: 0)
        let log = observed(registry)
        #expect(registry.instances(of: "a", now: 3 * Self.second).isEmpty)
        #expect(log.all == ["a"])
        #expect(registry.services(now: 3 * Self.second) == ["b": [survivor]])
        #expect(log.all == ["a", "b"])
        #expect(registry.expire(now: 3 * Self.second).isEmpty, "nothing left to expire")
    }

    @Test("a heartbeat extends the TTL from its own time and is not a change")
    func heartbeatExtends() throws {
        let registry = ServiceRegistry()
        let instance = try registry.register(service: "orders", address: "10.0.0.1:80", ttl: .seconds(3), now: 0)
        let log = observed(registry)
        let renewed = try registry.heartbeat(service: "orders", id: instance.id, now: 2 * Self.second)
        #expect(renewed.expiresAt == 5 * Self.second)
        #expect(renewed.id == instance.id && renewed.address == instance.address && renewed.ttl == instance.ttl)
        #expect(registry.expire(now: 4 * Self.second).isEmpty)
        #expect(registry.instances(of: "orders", now: 4 * Self.second) == [renewed])
        #expect(log.all.isEmpty)
        #expect(registry.expire(now: 5 * Self.second) == ["orders"])
    }

    @Test("a heartbeat after the TTL passed finds the instance gone")
    func lateHeartbeat() throws {
        let registry = ServiceRegistry()
        let instance = try registry.register(service: "orders", address: "10.0.0.1:80", ttl: .seconds(1), now: 0)
        let other = try registry.register(service: "orders", address: "10.0.0.2:80", ttl: .seconds(60), now: 0)
        let log = observed(registry)
        #expect(throws: RegistryError.unknownInstance(service: "orders", id: instance.id)) {
            try registry.heartbeat(service: "orders", id: instance.id, now: Self.second)
        }
        #expect(log.all == ["orders"], "the expiry the heartbeat found is a change")
        #expect(registry.instances(of: "orders", now: Self.second) == [other])
    }

    @Test("re-registering an address renews it and keeps its id; only a weight or metadata change notifies")
    func reRegister() throws {
        let registry = ServiceRegistry()
        let first = try registry.register(service: "orders", address: "10.0.0.1:80", ttl: .seconds(5), now: 0)
        let log = observed(registry)
        let renewed = try registry.register(service: "orders", address: "10.0.0.1:80", ttl: .seconds(20), now: 4 * Self.second)
        #expect(renewed.id == first.id)
        #expect(renewed.expiresAt == 24 * Self.second)
        #expect(log.all.isEmpty)
        let reweighted = try registry.register(
            service: "orders", address: "10.0.0.1:80", weight: 0, ttl: .seconds(20), metadata: ["zone": "b"], now: 5 * Self.second)
        #expect(reweighted.id == first.id)
        #expect(reweighted.weight == 0 && reweighted.metadata == ["zone": "b"])
        #expect(log.all == ["orders"])
        #expect(registry.instances(of: "orders", now: 5 * Self.second) == [reweighted])
    }

    @Test("the same address in another service is another instance")
    func perService() throws {
        let registry = ServiceRegistry()
        let a = try registry.register(service: "a", address: "10.0.0.1:80", now: 0)
        let b = try registry.register(service: "b", address: "10.0.0.1:80", now: 0)
        #expect(a.id != b.id)
        #expect(registry.services(now: 0) == ["a": [a], "b": [b]])
    }

    @Test("deregister removes the instance and notifies; a service without instances is unknown")
    func deregister() throws {
        let registry = ServiceRegistry()
        let instance = try registry.register(service: "orders", address: "10.0.0.1:80", now: 0)
        let log = observed(registry)
        #expect(throws: RegistryError.unknownInstance(service: "orders", id: "0000000000000000")) {
            try registry.deregister(service: "orders", id: "0000000000000000")
        }
        try registry.deregister(service: "orders", id: instance.id)
        #expect(log.all == ["orders"])
        #expect(registry.instances(of: "orders", now: 0).isEmpty)
        #expect(throws: RegistryError.unknownService("orders")) { try registry.deregister(service: "orders", id: instance.id) }
        #expect(throws: RegistryError.unknownService("orders")) { try registry.heartbeat(service: "orders", id: instance.id, now: 0) }
    }

    @Test("every observer hears every change, and may call back into the registry")
    func observers() throws {
        let registry = ServiceRegistry()
        let first = observed(registry)
        let counts = Mutex<[Int]>([])
        registry.onChange { service in
            let count = registry.instances(of: service, now: 0).count
            counts.withLock { $0.append(count) }
        }
        let instance = try registry.register(service: "orders", address: "10.0.0.1:80", now: 0)
        _ = try registry.register(service: "orders", address: "10.0.0.2:80", now: 0)
        try registry.deregister(service: "orders", id: instance.id)
        #expect(first.all == ["orders", "orders", "orders"])
        #expect(counts.withLock { $0 } == [1, 2, 1])
    }

    @Test(
        "invalid registrations are refused with a message that says what is wrong",
        arguments: [
            ("orders", "10.0.0.1", 100, Duration.seconds(30), "address: expected 'host:port', found '10.0.0.1' (the port is missing)"),
            ("orders", "10.0.0.1:0", 100, .seconds(30), "address: port must be a number from 1 to 65535, found '0' in '10.0.0.1:0'"),
            ("orders", "::1:80", 100, .seconds(30), "address: IPv6 addresses need brackets: expected '[::1]:80', found '::1:80'"),
            ("orders", "10.0.0.1:80", -1, .seconds(30), "weight must be from 0 (drained) to 65535, found -1"),
            ("orders", "10.0.0.1:80", 65536, .seconds(30), "weight must be from 0 (drained) to 65535, found 65536"),
            ("orders", "10.0.0.1:80", 100, .milliseconds(999), "ttl must be from 1s to 1h, found 999ms"),
            ("orders", "10.0.0.1:80", 100, .seconds(3601), "ttl must be from 1s to 1h, found 3601s"),
            ("orders", "10.0.0.1:80", 100, .seconds(-5), "ttl must be from 1s to 1h, found -5s"),
            ("", "10.0.0.1:80", 100, .seconds(30),
             "service name '' is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128 characters"),
            ("a/b", "10.0.0.1:80", 100, .seconds(30),
             "service name 'a/b' is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128 characters"),
        ])
    func validation(service: String, address: String, weight: Int, ttl: Duration, message: String) {
        let registry = ServiceRegistry()
        #expect(throws: RegistryError.invalid(message)) {
            try registry.register(service: service, address: address, weight: weight, ttl: ttl, now: 0)
        }
        #expect(registry.services(now: 0).isEmpty)
    }

    @Test("the limits themselves are accepted: weight 0 and 65535, TTL 1 s and 1 h, bracketed IPv6")
    func limits() throws {
        let registry = ServiceRegistry()
        #expect(try registry.register(service: "s", address: "[::1]:80", weight: 0, ttl: .seconds(1), now: 0).address == "[::1]:80")
        #expect(try registry.register(service: "s", address: "10.0.0.1:80", weight: 65535, ttl: .seconds(3600), now: 0).weight == 65535)
    }

    @Test("errors read as sentences")
    func errorMessages() {
        #expect(RegistryError.unknownService("orders").description == "service 'orders' has no registered instances")
        #expect(
            RegistryError.unknownInstance(service: "orders", id: "ab").description
                == "service 'orders' has no instance 'ab' (it was deregistered, expired without a heartbeat, or never registered)")
    }
}

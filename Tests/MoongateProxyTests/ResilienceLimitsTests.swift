import Foundation
import HTTPTestSupport
import MoongateCore
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import MoongateProxy

/// Circuit limits and shedding, discovery through the registry, and key-based
/// balancing, through real origins.
@Suite("Resilience: limits, registry, balancing", .serialized)
struct ResilienceLimitsTests {
    /// Starts `count` requests that the origin holds for `milliseconds`, each on its
    /// own thread (blocking clients would starve the test's small task pool).
    func background(_ gateway: ResilienceGateway, count: Int, milliseconds: Int, path: String = "/") -> [BackgroundRequest] {
        (0..<count).map { _ in BackgroundRequest(gateway: gateway, target: "\(path)?delay=\(milliseconds)") }
    }

    @Test("max_requests: the request over the limit gets a fast 503 with Retry-After; other upstreams keep answering")
    func maxRequestsSheds() async throws {
        let yaml = """
            upstreams:
              - name: small
                targets: [{ address: "ORIGIN_0" }]
                limits: { max_requests: 2 }
              - name: other
                targets: [{ address: "ORIGIN_1" }]
            routes:
              - name: small
                match: { paths: ["/small"] }
                upstream: small
              - name: other
                match: { paths: ["/other"] }
                upstream: other
            """
        try await ResilienceGateway.with(yaml: yaml, origins: 2) { (gateway: ResilienceGateway) async throws in
            let held = background(gateway, count: 2, milliseconds: 2000, path: "/small")
            #expect(waitUntil { gateway.origins[0].maxInFlight == 2 })
            let shed = try gateway.get("/small")
            #expect(shed.status == 503)
            #expect(shed.response.header("retry-after") == "1")
            #expect(shed.response.text.contains("too many requests in flight"))
            #expect(try gateway.get("/other").status == 200)
            for request in held { #expect(request.status() == 200) }
            // The slots came back.
            #expect(try gateway.get("/small").status == 200)
        }
    }

    @Test("max_connections with max_pending: one waits for the connection, the next is shed")
    func pendingQueue() async throws {
        let yaml = """
            upstreams:
              - name: one
                targets: [{ address: "ORIGIN_0" }]
                limits: { max_connections: 1, max_pending: 1 }
                timeouts: { connect: 5s, read: 10s, write: 10s }
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: one
            """
        try await ResilienceGateway.with(yaml: yaml, origins: 1) { (gateway: ResilienceGateway) async throws in
            let first = background(gateway, count: 1, milliseconds: 800)
            #expect(waitUntil { gateway.origins[0].maxInFlight == 1 })
            let waiting = background(gateway, count: 1, milliseconds: 0)
            // Once the second waits in the only pending place, a third is shed at once.
            let circuit = try #require(gateway.server.upstreams.runtime(named: "one")).circuit
            #expect(waitUntil { circuit.stats.pendingRequests == 1 })
            let shed = try gateway.get("/")
            #expect(shed.status == 503)
            #expect(shed.response.header("retry-after") == "1")
            #expect(shed.response.text.contains("waiting for a connection"))
            #expect(first[0].status() == 200)
            #expect(waiting[0].status() == 200)
            #expect(gateway.origins[0].connectionCount == 1)
        }
    }

    @Test("max_connections across event loops: an idle connection on one loop makes room for a request on another")
    func connectionLimitAcrossLoops() async throws {
        let yaml = """
            upstreams:
              - name: one
                targets: [{ address: "ORIGIN_0" }]
                limits: { max_connections: 1, max_pending: 4 }
                timeouts: { connect: 3s, read: 10s, write: 10s }
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: one
            """
        try await ResilienceGateway.with(yaml: yaml, origins: 1, loops: 2) { (gateway: ResilienceGateway) async throws in
            // Client connections are spread over the two loops in turn; each request
            // leaves its upstream connection idle on its own loop, holding the one slot.
            for _ in 0..<4 {
                let response = try gateway.get("/")
                #expect(response.status == 200)
                #expect(response.origin == "o0")
            }
            let circuit = try #require(gateway.server.upstreams.runtime(named: "one")).circuit
            #expect(circuit.stats.openConnections <= 1)
            #expect(circuit.stats.rejections.connections >= 1)  // the other loop had to wait for room
        }
    }

    @Test("registry discovery: a registered instance serves until its TTL passes without a heartbeat")
    func registryExpiry() async throws {
        let yaml = """
            upstreams:
              - name: orders
                discovery: { registry: orders }
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: orders
            """
        try await ResilienceGateway.with(yaml: yaml, origins: 1) { (gateway: ResilienceGateway) async throws in
            let empty = try gateway.get("/")
            #expect(empty.status == 503)
            let instance = try gateway.registry.register(
                service: "orders", address: gateway.origins[0].address, ttl: .seconds(1), now: NIODeadline.now().uptimeNanoseconds)
            #expect(try waitUntil { try gateway.get("/").origin == "o0" })
            // Heartbeats keep it.
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(500))
                _ = try gateway.registry.heartbeat(service: "orders", id: instance.id, now: NIODeadline.now().uptimeNanoseconds)
                #expect(try gateway.get("/").origin == "o0")
            }
            // Without them it expires.
            #expect(try waitUntil { try gateway.get("/").status == 503 })
        }
    }

    @Test("consistent-hash on a header: a user sticks to one target; users spread over targets")
    func consistentHash() async throws {
        let yaml = """
            upstreams:
              - name: pool
                algorithm: consistent-hash
                hash_on: header:X-User
                targets: [{ address: "ORIGIN_0" }, { address: "ORIGIN_1" }, { address: "ORIGIN_2" }]
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: pool
            """
        try await ResilienceGateway.with(yaml: yaml, origins: 3) { (gateway: ResilienceGateway) async throws in
            var seen = Set<String>()
            for user in 0..<30 {
                let counts = try gateway.tally(5, headers: ["X-User": "user-\(user)"])
                #expect(counts.count == 1)
                seen.formUnion(counts.keys)
            }
            #expect(seen.count == 3)
        }
    }

    @Test("least-connections sends new requests away from a target holding slow ones")
    func leastConnections() async throws {
        let yaml = """
            upstreams:
              - name: pool
                algorithm: least-connections
                targets: [{ address: "ORIGIN_0" }, { address: "ORIGIN_1" }]
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: pool
            """
        try await ResilienceGateway.with(yaml: yaml, origins: 2) { (gateway: ResilienceGateway) async throws in
            // Hold 4 requests; whichever targets they land on, the quick ones that
            // follow go to the less busy target.
            let held = background(gateway, count: 4, milliseconds: 1500)
            #expect(waitUntil { gateway.origins[0].maxInFlight + gateway.origins[1].maxInFlight >= 4 })
            let busier = gateway.origins[0].maxInFlight >= gateway.origins[1].maxInFlight ? "o0" : "o1"
            if gateway.origins[0].maxInFlight != gateway.origins[1].maxInFlight {
                let counts = try gateway.tally(5)
                #expect(counts[busier] == nil)
            }
            for request in held { _ = request.status() }
        }
    }
}

/// A blocking GET on its own thread; `status()` waits for its answer (-1 on an error).
final class BackgroundRequest: Sendable {
    private let result = NIOLockedValueBox<Int?>(nil)

    init(gateway: ResilienceGateway, target: String) {
        let result = self.result
        Thread.detachNewThread {
            let status = (try? gateway.client().request("GET", target).status) ?? -1
            result.withLockedValue { $0 = status }
        }
    }

    func status() -> Int {
        _ = waitUntil(within: 30) { result.withLockedValue { $0 } != nil }
        return result.withLockedValue { $0 } ?? -1
    }
}

import Foundation
import HTTPTestSupport
import MoongateCore
import Testing

@testable import MoongateProxy

/// Targets found through DNS: a real resolver path, against a UDP DNS server run by
/// the test (`proxy.resolver` points the gateway at it).
@Suite("Resilience: DNS discovery", .serialized)
struct ResilienceDiscoveryTests {
    @Test("a host-name target is resolved through the resolver and gets its name as Host")
    func hostNameTarget() async throws {
        let yaml = """
            proxy: { resolver: "DNS_SERVER" }
            upstreams:
              - name: named
                targets: [{ address: "orders.test:ORIGIN_0_PORT" }]
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: named
            """
        try await ResilienceGateway.with(
            yaml: yaml, origins: 1, prepare: { dns, _ in dns?.setAddresses("orders.test", ipv4: ["127.0.0.1"], ttl: 1) }
        ) { (gateway: ResilienceGateway) async throws in
            #expect(try waitUntil { try gateway.get("/").origin == "o0" })
            #expect(gateway.dns!.queries.contains { $0.hasPrefix("orders.test") })
            // The name goes away: after its TTL the upstream has no target left.
            gateway.dns!.remove("orders.test")
            #expect(try waitUntil(within: 15) { try gateway.get("/").status == 503 })
        }
    }

    @Test("SRV discovery follows the records as they change (re-resolved on their TTL)")
    func srvDiscovery() async throws {
        let yaml = """
            proxy: { resolver: "DNS_SERVER" }
            upstreams:
              - name: orders
                discovery: { srv: _http._tcp.orders.test }
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: orders
            """
        try await ResilienceGateway.with(
            yaml: yaml, origins: 2,
            prepare: { dns, origins in
                dns?.setAddresses("a.orders.test", ipv4: ["127.0.0.1"], ttl: 1)
                dns?.setServices(
                    "_http._tcp.orders.test", [.init(weight: 10, port: UInt16(origins[0].port), target: "a.orders.test")], ttl: 1)
            }
        ) { (gateway: ResilienceGateway) async throws in
            #expect(try waitUntil { try gateway.get("/").origin == "o0" })
            let dns = try #require(gateway.dns)
            dns.setServices(
                "_http._tcp.orders.test",
                [
                    .init(weight: 10, port: UInt16(gateway.origins[0].port), target: "a.orders.test"),
                    .init(weight: 10, port: UInt16(gateway.origins[1].port), target: "a.orders.test"),
                ], ttl: 1)
            #expect(try waitUntil { try gateway.tally(4) == ["o0": 2, "o1": 2] })
        }
    }
}

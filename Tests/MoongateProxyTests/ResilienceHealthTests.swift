import Foundation
import HTTPTestSupport
import MoongateCore
import Testing

@testable import MoongateProxy

/// Passive ejection, active probes and panic mode through real origins.
@Suite("Resilience: health", .serialized)
struct ResilienceHealthTests {
    @Test("a target answering 503 is ejected, then readmitted when its ejection ends")
    func passiveEjectionAndReadmission() async throws {
        let yaml = """
            upstreams:
              - name: pool
                targets: [{ address: "ORIGIN_0" }, { address: "ORIGIN_1" }]
                health: { passive: { failures: 3, statuses: [503], ejection: 1s, max_ejection_percent: 50 } }
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: pool
            """
        try await ResilienceGateway.with(yaml: yaml, origins: 2) { (gateway: ResilienceGateway) async throws in
            gateway.origins[1].set(.status(503))
            // Round-robin: o1 takes every other request until its third 503 ejects it.
            let first = try gateway.tally(6)
            #expect(first["status 503"] == nil)  // its 503s are the origin's own: counted under its name
            #expect(first["o1"] == 3)
            let ejected = try gateway.tally(20)
            #expect(ejected == ["o0": 20])
            gateway.origins[1].set(.ok)
            // The ejection (1 s) runs out; o1 takes traffic again.
            #expect(try waitUntil { try gateway.tally(4)["o1"] != nil })
        }
    }

    @Test("active probes take a failing target out and bring it back when it passes again")
    func activeProbeRecovery() async throws {
        let yaml = """
            upstreams:
              - name: pool
                targets: [{ address: "ORIGIN_0" }, { address: "ORIGIN_1" }]
                health:
                  active: { path: /healthz, interval: 100ms, timeout: 100ms, healthy_after: 2, unhealthy_after: 2 }
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: pool
            """
        try await ResilienceGateway.with(yaml: yaml, origins: 2) { (gateway: ResilienceGateway) async throws in
            #expect(try waitUntil { gateway.origins[1].healthCheckCount >= 2 })
            gateway.origins[1].setHealth(status: 500)
            #expect(try waitUntil { try gateway.tally(10) == ["o0": 10] })
            let before = gateway.origins[1].requestCount
            #expect(try gateway.tally(20) == ["o0": 20])
            #expect(gateway.origins[1].requestCount == before)
            gateway.origins[1].setHealth(status: 200)
            #expect(try waitUntil { try gateway.tally(4)["o1"] != nil })
        }
    }

    @Test("a TCP probe marks a closed port unhealthy")
    func tcpProbe() async throws {
        let yaml = """
            upstreams:
              - name: pool
                targets: [{ address: "ORIGIN_0" }, { address: "ORIGIN_1" }]
                health:
                  active: { type: tcp, interval: 100ms, timeout: 100ms, healthy_after: 1, unhealthy_after: 1 }
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: pool
            """
        try await ResilienceGateway.with(yaml: yaml, origins: 2) { (gateway: ResilienceGateway) async throws in
            await gateway.origins[1].stop()
            #expect(try waitUntil { try gateway.tally(10) == ["o0": 10] })
            try await gateway.origins[1].restart()
            #expect(try waitUntil { try gateway.tally(4)["o1"] != nil })
        }
    }

    @Test("every target unhealthy: 503 without panic; with panic_threshold 50 all targets serve")
    func panicMode() async throws {
        func yaml(panic: Int) -> String {
            """
            upstreams:
              - name: pool
                targets: [{ address: "ORIGIN_0" }, { address: "ORIGIN_1" }]
                health:
                  active: { path: /healthz, interval: 100ms, timeout: 100ms, healthy_after: 1, unhealthy_after: 1 }
                  panic_threshold: \(panic)
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: pool
            """
        }
        try await ResilienceGateway.with(yaml: yaml(panic: 0), origins: 2) { (gateway: ResilienceGateway) async throws in
            for origin in gateway.origins { origin.setHealth(status: 503) }
            #expect(try waitUntil { try gateway.get("/").status == 503 })
            let response = try gateway.get("/")
            #expect(response.origin == nil)
            #expect(response.response.text.contains("no target available"))
        }
        try await ResilienceGateway.with(yaml: yaml(panic: 50), origins: 2) { (gateway: ResilienceGateway) async throws in
            gateway.origins[1].setHealth(status: 503)
            // One of two healthy is 50%: not below the threshold, so o1 is left out.
            #expect(try waitUntil { try gateway.tally(10) == ["o0": 10] })
            gateway.origins[0].setHealth(status: 503)
            // None healthy: panic, both serve.
            #expect(try waitUntil { try gateway.tally(10) == ["o0": 5, "o1": 5] })
        }
    }
}

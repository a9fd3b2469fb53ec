import Foundation
import HTTPTestSupport
import NIOPosix
import Testing

/// Balancing and resilience through the built binary: a config with a dead target,
/// passive health and retries, driven by a plain HTTP client.
@Suite("moongate run: failover", .serialized)
struct ResilienceEndToEndTests {
    @Test("one of two targets refuses: every GET succeeds, and the log reports the ejection")
    func deadTargetIsRetriedAndEjected() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let origin = try await TestOrigin(group: group)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("moongate-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try RunningGateway.freePort()
        let deadPort = try RunningGateway.freePort()
        let file = directory.appendingPathComponent("moongate.yaml")
        try """
            proxy:
              listen: ["127.0.0.1:\(port)"]
              workers: 2
            upstreams:
              - name: pool
                algorithm: least-connections
                targets: [{ address: "127.0.0.1:\(origin.port)" }, { address: "127.0.0.1:\(deadPort)" }]
                retries: { attempts: 1, retry_on: [connect-failure, reset], backoff: 0s }
                health: { passive: { failures: 2, ejection: 30s } }
            routes:
              - name: all
                match: { paths: ["/"] }
                upstream: pool
            """.write(to: file, atomically: true, encoding: .utf8)
        let check = try MoongateBinary.locate().run(["check", "-c", file.path])
        #expect(check.status == 0)
        let gateway = try RunningGateway(arguments: ["run", "-c", file.path], port: port, workingDirectory: directory)
        for _ in 0..<100 {
            let response = try RawHTTPClient(port: port).request("GET", "/")
            #expect(response.status == 200)
        }
        gateway.signal(SIGTERM)
        #expect(gateway.waitForExit() == 0)
        #expect(gateway.log().contains("target ejected"))
        await origin.close()
        try await group.shutdownGracefully()
    }
}

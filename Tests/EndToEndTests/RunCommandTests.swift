import Foundation
import HTTPTestSupport
import NIOPosix
import Testing

/// The built binary with a config file, driven by a plain HTTP client.
@Suite("moongate run and check", .serialized)
struct RunCommandTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("moongate-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func config(port: Int, originPort: Int, extraRoute: String = "") -> String {
        """
        proxy:
          listen: ["127.0.0.1:\(port)"]
          drain_timeout: 5s
        upstreams:
          - name: origin
            targets: [{ address: "127.0.0.1:\(originPort)" }]
        routes:
          - name: api
            match: { paths: ["/api"] }
            upstream: origin
        \(extraRoute)
        """
    }

    /// An origin, a config file for it, and `moongate run -c FILE`; the origin is
    /// shut down after `body` whatever happens (the gateway process when released).
    func withRunningGateway(
        config makeConfig: (_ port: Int, _ originPort: Int) -> String,
        _ body: (_ port: Int, _ origin: TestOrigin, _ file: URL, _ gateway: RunningGateway) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let origin = try await TestOrigin(group: group)
        do {
            let directory = try temporaryDirectory()
            let file = directory.appendingPathComponent("moongate.yaml")
            let port = try RunningGateway.freePort()
            try makeConfig(port, origin.port).write(to: file, atomically: true, encoding: .utf8)
            let gateway = try RunningGateway(arguments: ["run", "-c", file.path], port: port, workingDirectory: directory)
            try await body(port, origin, file, gateway)
        } catch {
            await origin.close()
            try? await group.shutdownGracefully()
            throw error
        }
        await origin.close()
        try await group.shutdownGracefully()
    }

    @Test("check: a valid file exits 0; an invalid one exits 1 naming file:line")
    func check() throws {
        let directory = try temporaryDirectory()
        let good = directory.appendingPathComponent("good.yaml")
        try config(port: 8080, originPort: 9000).write(to: good, atomically: true, encoding: .utf8)
        let ok = try MoongateBinary.locate().run(["check", "-c", good.path])
        #expect(ok.status == 0, "\(ok.standardOutput)\(ok.standardError)")

        let bad = directory.appendingPathComponent("bad.yaml")
        try config(port: 8080, originPort: 9000).replacingOccurrences(of: "upstream: origin", with: "upstream: nowhere")
            .write(to: bad, atomically: true, encoding: .utf8)
        let failed = try MoongateBinary.locate().run(["check", "-c", bad.path])
        #expect(failed.status == 1)
        #expect(failed.standardOutput.contains("bad.yaml:"))
        #expect(failed.standardOutput.contains("nowhere"))
    }

    @Test("run: proxies, reloads on SIGHUP (a bad file keeps the old config), drains on SIGTERM with exit 0")
    func runReloadStop() async throws {
        try await withRunningGateway(config: { config(port: $0, originPort: $1) }) { port, origin, file, gateway in
            let client = try RawHTTPClient(port: port)
            #expect(try client.request("GET", "/api/x").status == 200)
            #expect(try client.request("GET", "/other").status == 404)

            let extra = """
                  - name: other
                    match: { paths: ["/other"] }
                    upstream: origin
                """
            try config(port: port, originPort: origin.port, extraRoute: extra).write(to: file, atomically: true, encoding: .utf8)
            gateway.signal(SIGHUP)
            var reloaded = false
            for _ in 0..<100 where !reloaded {
                reloaded = try RawHTTPClient(port: port).request("GET", "/other").status == 200
                if !reloaded { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(reloaded)

            try "routes: [ this is not yaml".write(to: file, atomically: true, encoding: .utf8)
            gateway.signal(SIGHUP)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try RawHTTPClient(port: port).request("GET", "/other").status == 200)

            gateway.signal(SIGTERM)
            #expect(gateway.waitForExit() == 0)
        }
    }

    @Test("SIGHUP reloads while traffic flows: zero failed requests")
    func reloadUnderTraffic() async throws {
        try await withRunningGateway(config: { config(port: $0, originPort: $1) }) { port, origin, file, gateway in
            let traffic = TrafficLoop(port: port, target: "/api/load")
            traffic.start()
            let extra = """
                  - name: other
                    match: { paths: ["/other"] }
                    upstream: origin
                """
            for round in 0..<6 {
                try config(port: port, originPort: origin.port, extraRoute: round % 2 == 0 ? extra : "")
                    .write(to: file, atomically: true, encoding: .utf8)
                gateway.signal(SIGHUP)
                try await Task.sleep(for: .milliseconds(150))
            }
            let (succeeded, failed) = traffic.stop()
            #expect(succeeded > 50)
            #expect(failed == 0)

            gateway.signal(SIGTERM)
            #expect(gateway.waitForExit() == 0)
        }
    }

    @Test("20 MiB each way through the binary: intact, and the gateway's peak memory stays bounded")
    func largeBodiesBoundedMemory() async throws {
        let bytesRoute = """
              - name: bytes
                match: { paths: ["/bytes"] }
                upstream: origin
            """
        let withLimits = { (port: Int, originPort: Int) in
            config(port: port, originPort: originPort, extraRoute: bytesRoute)
                .replacingOccurrences(of: "  drain_timeout: 5s", with: "  drain_timeout: 5s\n  limits: { max_body_bytes: 64m }")
        }
        try await withRunningGateway(config: withLimits) { port, _, _, gateway in
            let baseline = gateway.peakResidentKiB()

            let size = 20 << 20
            let body = Array((0..<(size / 65536)).map { _ in patternChunk }.joined())
            var expected = fnvOffset
            fnv1a(body, into: &expected)
            let client = try RawHTTPClient(port: port)
            let up = try client.request("POST", "/api/upload", body: body)
            #expect(up.text.contains("body-fnv=\(expected)\n"))
            let down = try client.request("GET", "/bytes/\(size)")
            var received = fnvOffset
            fnv1a(down.body, into: &received)
            #expect(down.body.count == size)
            #expect(received == expected)

            // Streaming, not buffering: 40 MiB went through; the peak grew by far less.
            let growthKiB = gateway.peakResidentKiB() - baseline
            #expect(growthKiB < 16 * 1024, "peak RSS grew by \(growthKiB) KiB")

            gateway.signal(SIGTERM)
            #expect(gateway.waitForExit() == 0)
        }
    }

    @Test("run: an invalid config exits 1; a port in use exits 3")
    func startupFailures() async throws {
        let directory = try temporaryDirectory()
        let file = directory.appendingPathComponent("moongate.yaml")
        try "routes:\n  - name: x\n    upstream: missing\n".write(to: file, atomically: true, encoding: .utf8)
        let invalid = try MoongateBinary.locate().run(["run", "-c", file.path])
        #expect(invalid.status == 1)
        #expect(invalid.standardError.contains("moongate.yaml:"))

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let origin = try await TestOrigin(group: group)
        try config(port: origin.port, originPort: origin.port).write(to: file, atomically: true, encoding: .utf8)
        let busy = try MoongateBinary.locate().run(["run", "-c", file.path])
        #expect(busy.status == 3)
        await origin.close()
        try await group.shutdownGracefully()
    }
}

/// Sends requests on keep-alive connections from a thread of its own until stopped,
/// counting 200s and everything else (errors included).
final class TrafficLoop: @unchecked Sendable {
    let port: Int
    let target: String
    private let lock = NSLock()
    private var running = true
    private var succeeded = 0
    private var failed = 0
    private let finished = DispatchSemaphore(value: 0)

    init(port: Int, target: String) {
        self.port = port
        self.target = target
    }

    func start() {
        Thread { [self] in
            var client: RawHTTPClient?
            while lock.withLock({ running }) {
                do {
                    if client == nil { client = try RawHTTPClient(port: port) }
                    let status = try client!.request("GET", target).status
                    lock.withLock { if status == 200 { succeeded += 1 } else { failed += 1 } }
                } catch {
                    client = nil
                    lock.withLock { failed += 1 }
                }
            }
            finished.signal()
        }.start()
    }

    func stop() -> (succeeded: Int, failed: Int) {
        lock.withLock { running = false }
        finished.wait()
        return lock.withLock { (succeeded, failed) }
    }
}

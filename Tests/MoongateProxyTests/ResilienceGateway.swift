import Foundation
import HTTPTestSupport
import MoongateCore
import NIOCore
import NIOPosix

@testable import MoongateProxy

/// A gateway in-process in front of several ControllableOrigins, configured from YAML
/// the way `moongate run` is: `ORIGIN_0`, `ORIGIN_1`, … in the text are replaced by
/// the origins' addresses (`ORIGIN_0_PORT` by the port alone), and `DNS_SERVER` by the address of a TestDNSServer (started
/// only then), whose records the test sets before the gateway starts in `prepare`.
final class ResilienceGateway: Sendable {
    let group: MultiThreadedEventLoopGroup
    let origins: [ControllableOrigin]
    let dns: TestDNSServer?
    let server: GatewayServer
    let registry: ServiceRegistry
    let port: Int

    init(
        yaml: String, origins count: Int, loops: Int = 1,
        prepare: (TestDNSServer?, [ControllableOrigin]) throws -> Void = { _, _ in }
    ) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
        var origins: [ControllableOrigin] = []
        for index in 0..<count { origins.append(try await ControllableOrigin(name: "o\(index)", group: group)) }
        self.origins = origins
        dns = yaml.contains("DNS_SERVER") ? try await TestDNSServer(group: group) : nil
        try prepare(dns, origins)
        var text = yaml
        if let dns { text = text.replacingOccurrences(of: "DNS_SERVER", with: dns.address) }
        for (index, origin) in origins.enumerated().reversed() {
            text = text.replacingOccurrences(of: "ORIGIN_\(index)_PORT", with: String(origin.port))
            text = text.replacingOccurrences(of: "ORIGIN_\(index)", with: origin.address)
        }
        let document = try ConfigLoader.parse(yaml: text, file: "resilience.yaml")
        let outcome = ConfigCompiler.compile(document, previous: nil)
        guard outcome.rejected.isEmpty else { throw ResilienceGatewayError(description: "\(outcome.rejected)") }
        var runtime = outcome.runtime
        runtime.proxy.listen = ["127.0.0.1:0"]
        registry = ServiceRegistry()
        server = GatewayServer(store: ConfigStore(try ServingConfig(generation: 1, runtime: runtime)), group: group, registry: registry)
        port = try await server.start().first!.port!
    }

    func client() throws -> RawHTTPClient { try RawHTTPClient(port: port, timeoutSeconds: 20) }

    /// One GET on a new connection; the status, and the origin that answered (nil
    /// for a gateway-made answer).
    func get(_ path: String, headers: [String: String] = [:]) throws -> (status: Int, origin: String?, response: RawHTTPClient.Response) {
        let response = try client().request("GET", path, headers: headers)
        return (response.status, response.header("x-origin-name"), response)
    }

    /// Counts of answers by origin name (or by "status NNN" for gateway answers).
    func tally(_ count: Int, path: String = "/", headers: [String: String] = [:]) throws -> [String: Int] {
        let client = try client()
        var counts: [String: Int] = [:]
        for _ in 0..<count {
            let response = try client.request("GET", path, headers: headers)
            counts[response.header("x-origin-name") ?? "status \(response.status)", default: 0] += 1
        }
        return counts
    }

    static func with(
        yaml: String, origins: Int, loops: Int = 1, prepare: (TestDNSServer?, [ControllableOrigin]) throws -> Void = { _, _ in },
        _ body: (ResilienceGateway) async throws -> Void
    ) async throws {
        let gateway = try await ResilienceGateway(yaml: yaml, origins: origins, loops: loops, prepare: prepare)
        do {
            try await body(gateway)
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }

    func shutdown() async {
        server.stopBackgroundWork()
        for origin in origins { await origin.stop() }
        await dns?.close()
        try? await group.shutdownGracefully()
    }
}

struct ResilienceGatewayError: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass (bounded waits, not
/// timing assertions: a slow machine only makes the test take longer).
func waitUntil(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return try condition()
}

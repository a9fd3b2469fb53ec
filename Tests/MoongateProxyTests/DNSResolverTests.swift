import HTTPTestSupport
import MoongateCore
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import MoongateProxy

/// The resolver and the watcher against a real UDP DNS server (`TestDNSServer`).
@Suite("DNS resolver and watcher")
struct DNSResolverTests {
    /// A loop, a DNS server on it, and a resolver asking that server.
    private static func withServer(
        timeout: Duration = .seconds(2), _ body: (TestDNSServer, DNSResolver) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await TestDNSServer(group: group)
        let resolver = DNSResolver(nameserver: server.address, eventLoopGroup: group, timeout: timeout)
        do {
            try await body(server, resolver)
        } catch {
            await server.close()
            try await group.shutdownGracefully()
            throw error
        }
        await server.close()
        try await group.shutdownGracefully()
    }

    private func resolverError(_ future: EventLoopFuture<[ResolvedAddress]>) async -> DNSResolverError? {
        do {
            _ = try await future.get()
            return nil
        } catch {
            return error as? DNSResolverError
        }
    }

    // MARK: addresses

    @Test("A and AAAA are both asked; every address gets the port, weight 100 and the TTL")
    func addresses() async throws {
        try await Self.withServer { server, resolver in
            server.setAddresses("orders.test", ipv4: ["10.0.0.1", "10.0.0.2"], ipv6: ["2001:db8::1"], ttl: 30)
            let addresses = try await resolver.resolveAddresses("Orders.Test.", port: 8080).get()
            #expect(
                addresses == [
                    ResolvedAddress(host: "10.0.0.1", port: 8080, weight: 100, ttl: .seconds(30)),
                    ResolvedAddress(host: "10.0.0.2", port: 8080, weight: 100, ttl: .seconds(30)),
                    ResolvedAddress(host: "2001:db8::1", port: 8080, weight: 100, ttl: .seconds(30)),
                ])
            #expect(addresses.last?.address == "[2001:db8::1]:8080")
            #expect(server.queries.sorted() == ["orders.test A", "orders.test AAAA"])
        }
    }

    @Test("a name with only IPv4 addresses, and a name with no addresses at all")
    func partialAndEmpty() async throws {
        try await Self.withServer { server, resolver in
            server.setAddresses("v4.test", ipv4: ["192.0.2.7"])
            server.setServices("nothing.test", [])
            let v4 = try await resolver.resolveAddresses("v4.test", port: 80).get()
            #expect(v4.map(\.host) == ["192.0.2.7"])
            let nothing = try await resolver.resolveAddresses("nothing.test", port: 80).get()
            #expect(nothing == [])
        }
    }

    @Test("a CNAME is followed and the alias's smaller TTL wins")
    func alias() async throws {
        try await Self.withServer { server, resolver in
            server.setAlias("www.test", to: "web.test", ttl: 5)
            server.setAddresses("web.test", ipv4: ["10.9.9.9"], ttl: 60)
            let addresses = try await resolver.resolveAddresses("www.test", port: 443).get()
            #expect(addresses == [ResolvedAddress(host: "10.9.9.9", port: 443, weight: 100, ttl: .seconds(5))])
        }
    }

    @Test("IP literals resolve to themselves without a query", arguments: [
        ("10.1.2.3", "10.1.2.3"), ("::1", "::1"), ("[2001:DB8:0:0::5]", "2001:db8::5"),
    ])
    func literals(literal: String, host: String) async throws {
        try await Self.withServer { server, resolver in
            let addresses = try await resolver.resolveAddresses(literal, port: 9000).get()
            #expect(addresses == [ResolvedAddress(host: host, port: 9000, weight: 100, ttl: DNSResolver.literalTTL)])
            #expect(server.queryCount == 0)
        }
    }

    @Test("NXDOMAIN fails with an error naming the name, the type and the server")
    func nameNotFound() async throws {
        try await Self.withServer { server, resolver in
            let error = await resolverError(resolver.resolveAddresses("missing.test", port: 80))
            #expect(error?.reason == .nameNotFound)
            #expect(error?.name == "missing.test")
            #expect(
                error?.description == "DNS lookup of 'missing.test' (\(error?.type.description ?? "")) at \(server.address) failed: no such name (NXDOMAIN)")
        }
    }

    @Test("a server that does not answer: the query and one retry, then a timeout naming the server")
    func timeout() async throws {
        try await Self.withServer(timeout: .milliseconds(200)) { server, resolver in
            server.setAnswering(false)
            let error = await resolverError(resolver.resolveService("_http._tcp.silent.test"))
            #expect(error?.reason == .timeout(.milliseconds(200)))
            #expect(
                error?.description
                    == "DNS lookup of '_http._tcp.silent.test' (SRV) at \(server.address) timed out: no answer within 0.2 seconds to the query or its retry")
            let retried = try await eventually { server.queryCount == 2 ? true : nil }
            #expect(retried == true)
            #expect(server.queries == ["_http._tcp.silent.test SRV", "_http._tcp.silent.test SRV"])
        }
    }

    @Test("a closed port fails as unreachable instead of waiting for the timeout")
    func closedPort() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let probe = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress!.port!
        try await probe.close()
        let resolver = DNSResolver(nameserver: "127.0.0.1:\(port)", eventLoopGroup: group, timeout: .seconds(30))
        let error = await resolverError(resolver.resolveService("_x._tcp.test"))
        #expect(error?.reason == .unreachable("nothing answers at that address (connection refused)"))
        try await group.shutdownGracefully()
    }

    @Test("a nameserver that is not ip:port fails every lookup with the reason; a bare IP means port 53")
    func badNameserver() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let byName = DNSResolver(nameserver: "dns.example:53", eventLoopGroup: group)
        let error = await resolverError(byName.resolveAddresses("a.test", port: 80))
        #expect(error?.reason == .invalidNameserver("nameserver 'dns.example:53' must be an IP address and port, such as 10.0.0.2:53"))
        let noPort = DNSResolver(nameserver: "10.0.0.1:", eventLoopGroup: group)
        #expect(
            await resolverError(noPort.resolveAddresses("a.test", port: 80))?.reason
                == .invalidNameserver("nameserver '10.0.0.1:': port must be a number from 1 to 65535, found '' in '10.0.0.1:'"))
        try await group.shutdownGracefully()
    }

    @Test("names and ports that cannot be asked about fail without a query")
    func invalidQueries() async throws {
        try await Self.withServer { server, resolver in
            #expect(
                await resolverError(resolver.resolveAddresses("a..test", port: 80))?.reason
                    == .invalidQuery("cannot ask about 'a..test': it has an empty label (a leading or doubled '.')"))
            #expect(
                await resolverError(resolver.resolveAddresses("a.test", port: 0))?.reason
                    == .invalidQuery("port must be from 1 to 65535, found 0"))
            #expect(server.queryCount == 0)
        }
    }

    // MARK: services

    private func orders(_ server: TestDNSServer, glue: Bool) {
        server.setServices(
            "_http._tcp.orders.test",
            [
                .init(priority: 10, weight: 5, port: 8080, target: "a.orders.test"),
                .init(priority: 10, weight: 0, port: 8081, target: "b.orders.test"),
                .init(priority: 20, weight: 50, port: 9000, target: "backup.orders.test"),
            ], ttl: 20, glue: glue)
        server.setAddresses("a.orders.test", ipv4: ["10.0.1.1"], ipv6: ["fd00::1"], ttl: 60)
        server.setAddresses("b.orders.test", ipv4: ["10.0.1.2"], ttl: 10)
        server.setAddresses("backup.orders.test", ipv4: ["10.0.9.9"])
    }

    private let expectedOrders = [
        ResolvedAddress(host: "10.0.1.1", port: 8080, weight: 5, ttl: .seconds(20)),
        ResolvedAddress(host: "fd00::1", port: 8080, weight: 5, ttl: .seconds(20)),
        ResolvedAddress(host: "10.0.1.2", port: 8081, weight: 1, ttl: .seconds(10)),
    ]

    @Test("SRV with glue: one query; the lowest priority group only; weight 0 becomes 1")
    func serviceWithGlue() async throws {
        try await Self.withServer { server, resolver in
            orders(server, glue: true)
            let addresses = try await resolver.resolveService("_http._tcp.orders.test").get()
            #expect(addresses == expectedOrders)
            #expect(server.queries == ["_http._tcp.orders.test SRV"])
        }
    }

    @Test("SRV without glue: the targets are looked up (A and AAAA each)")
    func serviceWithoutGlue() async throws {
        try await Self.withServer { server, resolver in
            orders(server, glue: false)
            let addresses = try await resolver.resolveService("_http._tcp.orders.test").get()
            #expect(addresses == expectedOrders)
            #expect(
                server.queries.sorted() == [
                    "_http._tcp.orders.test SRV", "a.orders.test A", "a.orders.test AAAA", "b.orders.test A", "b.orders.test AAAA",
                ])
        }
    }

    @Test("an SRV target that does not exist contributes nothing; a '.' target and port 0 are skipped")
    func serviceMissingTarget() async throws {
        try await Self.withServer { server, resolver in
            server.setServices(
                "_x._tcp.test",
                [
                    .init(weight: 1, port: 80, target: "gone.test"), .init(weight: 1, port: 81, target: "here.test"),
                    .init(weight: 1, port: 0, target: "here.test"), .init(weight: 1, port: 82, target: "."),
                ], glue: false)
            server.setAddresses("here.test", ipv4: ["10.2.2.2"])
            let addresses = try await resolver.resolveService("_x._tcp.test").get()
            #expect(addresses.map(\.address) == ["10.2.2.2:81"])
        }
    }

    @Test("SRV NXDOMAIN fails; a service name without records gives an empty list")
    func serviceAbsent() async throws {
        try await Self.withServer { server, resolver in
            #expect(await resolverError(resolver.resolveService("_x._tcp.none.test"))?.reason == .nameNotFound)
            server.setAddresses("_x._tcp.empty.test", ipv4: ["10.0.0.1"])
            let empty = try await resolver.resolveService("_x._tcp.empty.test").get()
            #expect(empty == [])
        }
    }

    // MARK: watcher

    /// What a watch reported, in order.
    private final class Reports: Sendable {
        private let sets = Mutex<[[String]]>([])
        func record(_ addresses: [ResolvedAddress]) {
            sets.withLock { $0.append(addresses.map { "\($0.address)/\($0.weight)" }) }
        }
        var all: [[String]] { sets.withLock { $0 } }
    }

    @Test("the watcher reports at once, re-resolves when a 1 s TTL passes and reports the change")
    func watcherFollowsChanges() async throws {
        try await Self.withServer { server, resolver in
            server.setAddresses("live.test", ipv4: ["10.0.0.1"], ttl: 1)
            let reports = Reports()
            let watch = DNSWatcher(resolver: resolver).watch(name: "live.test", kind: .addresses(port: 80)) { reports.record($0) }
            let first = try await eventually { reports.all.isEmpty ? nil : reports.all }
            #expect(first == [["10.0.0.1:80/100"]])
            let queriesBefore = server.queryCount
            let lookedAgain = try await eventually { server.queryCount >= queriesBefore + 2 ? true : nil }
            #expect(lookedAgain == true)
            #expect(reports.all == [["10.0.0.1:80/100"]], "an unchanged answer is not reported again")
            server.setAddresses("live.test", ipv4: ["10.0.0.2", "10.0.0.1"], ttl: 1)
            let changed = try await eventually { reports.all.count == 2 ? reports.all : nil }
            #expect(changed == [["10.0.0.1:80/100"], ["10.0.0.1:80/100", "10.0.0.2:80/100"]])
            watch.cancel()
        }
    }

    @Test("the watcher follows SRV records and weight changes")
    func watcherService() async throws {
        try await Self.withServer { server, resolver in
            server.setServices("_h._tcp.svc.test", [.init(weight: 3, port: 8000, target: "t.test")], ttl: 1)
            server.setAddresses("t.test", ipv4: ["10.3.3.3"])
            let reports = Reports()
            let watch = DNSWatcher(resolver: resolver).watch(name: "_h._tcp.svc.test", kind: .service) { reports.record($0) }
            let first = try await eventually { reports.all.isEmpty ? nil : reports.all }
            #expect(first == [["10.3.3.3:8000/3"]])
            server.setServices("_h._tcp.svc.test", [.init(weight: 7, port: 8000, target: "t.test")], ttl: 1)
            let changed = try await eventually { reports.all.count == 2 ? reports.all.last : nil }
            #expect(changed == ["10.3.3.3:8000/7"])
            watch.cancel()
        }
    }

    @Test("the watcher keeps the last good set while the server does not answer, and picks up changes after")
    func watcherKeepsLastGoodSet() async throws {
        try await Self.withServer(timeout: .milliseconds(100)) { server, resolver in
            server.setAddresses("flaky.test", ipv4: ["10.0.0.1"], ttl: 1)
            let reports = Reports()
            let watcher = DNSWatcher(resolver: resolver, retryDelay: .milliseconds(200))
            let watch = watcher.watch(name: "flaky.test", kind: .addresses(port: 80)) { reports.record($0) }
            let first = try await eventually { reports.all.isEmpty ? nil : reports.all }
            #expect(first == [["10.0.0.1:80/100"]])
            server.setAnswering(false)
            let queriesBefore = server.queryCount
            // Three failed lookups (A and AAAA, each tried twice).
            let failedThrice = try await eventually { server.queryCount >= queriesBefore + 12 ? true : nil }
            #expect(failedThrice == true)
            #expect(reports.all == [["10.0.0.1:80/100"]])
            server.setAddresses("flaky.test", ipv4: ["10.0.0.5"], ttl: 1)
            server.setAnswering(true)
            let changed = try await eventually { reports.all.count == 2 ? reports.all.last : nil }
            #expect(changed == ["10.0.0.5:80/100"])
            watch.cancel()
        }
    }

    @Test("a name that disappears is reported empty once NXDOMAIN is confirmed")
    func watcherNameRemoved() async throws {
        try await Self.withServer { server, resolver in
            server.setAddresses("gone.test", ipv4: ["10.0.0.1"], ttl: 1)
            let reports = Reports()
            let watcher = DNSWatcher(resolver: resolver, retryDelay: .milliseconds(200))
            let watch = watcher.watch(name: "gone.test", kind: .addresses(port: 80)) { reports.record($0) }
            let first = try await eventually { reports.all.isEmpty ? nil : reports.all }
            #expect(first == [["10.0.0.1:80/100"]])
            server.remove("gone.test")
            let emptied = try await eventually { reports.all.count == 2 ? reports.all : nil }
            #expect(emptied == [["10.0.0.1:80/100"], []])
            #expect(server.queries.filter { $0 == "gone.test A" }.count >= 3, "the first, the NXDOMAIN, its confirmation")
            watch.cancel()
        }
    }

    @Test("a cancelled watch stops asking")
    func cancel() async throws {
        try await Self.withServer { server, resolver in
            server.setAddresses("c.test", ipv4: ["10.0.0.1"], ttl: 1)
            let reports = Reports()
            let watch = DNSWatcher(resolver: resolver).watch(name: "c.test", kind: .addresses(port: 80)) { reports.record($0) }
            let reported = try await eventually { reports.all.isEmpty ? nil : true }
            #expect(reported == true)
            watch.cancel()
            let queries = server.queryCount
            try await Task.sleep(for: .milliseconds(2500))
            #expect(server.queryCount == queries)
        }
    }
}

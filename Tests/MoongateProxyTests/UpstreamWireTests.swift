import HTTPTestSupport
import MoongateCore
import NIOCore
import Testing

@testable import MoongateProxy

/// Upstreams that answer with exact bytes, through the real proxy: what the gateway's
/// own response parser passes on, refuses, and does with a connection afterwards.
@Suite("Upstream wire behaviour")
struct UpstreamWireTests {
    static let canned: [String: (bytes: String, close: Bool)] = [
        "/until-close": ("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nhello, until the close", true),
        "/split": (
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "2B\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!\r\n0\r\n\r\n", false
        ),
        // After its response, the start of another whose last field would take the next
        // response's status line as its value: headers injected into the next answer.
        "/extra": ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nX-Injected: yes\r\nX-Pad: ", false),
        "/upgrade": ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n", false),
        "/fine": ("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine", false),
    ]

    private func withGateway(_ body: (GatewayHarness, ScriptedUpstream) async throws -> Void) async throws {
        let origin = try await ScriptedUpstream { CannedResponder(responses: Self.canned) }
        let route = (
            RouteSpec(name: "canned", paths: ["/"]), CompiledRoute(name: "canned", upstreams: [WeightedUpstream(name: "canned", weight: 1)])
        )
        let upstream = UpstreamSpec(name: "canned", targets: [BalancerTarget(address: "127.0.0.1:\(origin.port)")])
        do {
            try await GatewayHarness.with([route], extraUpstreams: [upstream]) { gateway in try await body(gateway, origin) }
        } catch {
            await origin.close()
            throw error
        }
        await origin.close()
    }

    @Test("a body delimited by the upstream's close reaches an HTTP/1.1 client whole, re-framed")
    func untilClose() async throws {
        try await withGateway { (gateway: GatewayHarness, _: ScriptedUpstream) async throws in
            let response = try gateway.client().request("GET", "/until-close")
            #expect(response.status == 200)
            #expect(response.text == "hello, until the close")
            #expect(response.header("transfer-encoding") == "chunked")
        }
    }

    @Test("Content-Length beside Transfer-Encoding and an unrequested 101 are 502s, nothing of them passed on")
    func refused() async throws {
        try await withGateway { (gateway: GatewayHarness, _: ScriptedUpstream) async throws in
            for path in ["/split", "/upgrade"] {
                let client = try gateway.client()
                let response = try client.request("GET", path)
                #expect(response.status == 502, "\(path)")
                #expect(!response.text.contains("EVIL"), "\(path)")
            }
        }
    }

    @Test("an upstream that sends more than the response is not asked again on that connection")
    func extraBytes() async throws {
        try await withGateway { (gateway: GatewayHarness, origin: ScriptedUpstream) async throws in
            let client = try gateway.client()
            let first = try client.request("GET", "/extra")
            #expect(first.status == 200)
            #expect(first.text == "ok")
            let second = try client.request("GET", "/fine")
            #expect(second.status == 200)
            #expect(second.text == "fine")
            #expect(second.header("x-injected") == nil)
            #expect(origin.connections.count == 2)
        }
    }
}

/// Answers each request head with the canned bytes for its path (then closes when
/// told to).
private final class CannedResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let responses: [String: (bytes: String, close: Bool)]
    private var received = ""

    init(responses: [String: (bytes: String, close: Bool)]) { self.responses = responses }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        while let end = received.range(of: "\r\n\r\n") {
            let head = received[..<end.lowerBound]
            received = String(received[end.upperBound...])
            let target = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
            let (bytes, close) = responses[target] ?? ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", false)
            let written = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: bytes)))
            if close {
                let context = context
                written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                return
            }
        }
    }
}

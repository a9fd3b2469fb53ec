import Foundation
import HTTPTestSupport
import NIOCore
import NIOPosix
import Testing

/// A streaming upstream behind a header_filter hook that is preempted (it runs past
/// its slice): the body part that arrived while the hook ran must reach the client at
/// once, not when the upstream next sends something.
@Suite struct StreamingAfterHookTests {
    static let scripts = [
        "slow-filter.lua": """
        return { priority = 1, header_filter = function(conf)
          -- Longer than the 1 ms slice: the hook is preempted and finishes on a later tick.
          local deadline = os.clock() + 0.02
          while os.clock() < deadline do end
          gate.response.set_header("X-Filtered", "yes")
        end }
        """
    ]

    @Test("the first event of a stream that waited for a preempted header_filter goes out without waiting for the next")
    func firstEventNotHeld() async throws {
        let origin = try await ScriptedUpstream { StreamingResponder() }
        let yaml = """
            scripts:
              limits: { hook_timeout: 3s, slice: 1ms }
            upstreams:
              - name: stream
                targets: [{ address: "127.0.0.1:\(origin.port)" }]
            routes:
              - { name: stream, match: { paths: ["/"] }, upstream: stream, plugins: [{ name: slow-filter }] }
            """
        do {
            try await PluginGateway.with(yaml: yaml, scripts: Self.scripts) { gateway in
                // The origin sends the rest only after the client has seen the first event,
                // so without the flush this waits until the client's timeout.
                let seen = try await StreamReader.firstBytes(port: gateway.port, until: "first-event", group: origin.group)
                #expect(seen.contains("x-filtered: yes") || seen.contains("X-Filtered: yes"))
                #expect(seen.contains("first-event"))
                for connection in origin.connections {
                    connection.writeAndFlush(ByteBuffer(string: "0\r\n\r\n"), promise: nil)
                }
            }
        } catch {
            await origin.close()
            throw error
        }
        await origin.close()
    }
}

/// Answers every request with a chunked head and one chunk; the test sends the last
/// chunk on the connection itself.
private final class StreamingResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var received = ""

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        guard received.contains("\r\n\r\n") else { return }
        received = ""
        // Head and first chunk in one write: they arrive in one read at the gateway,
        // so the chunk waits behind the (preempted) header_filter.
        let bytes = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nfirst-event\r\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: bytes)), promise: nil)
    }
}

/// Sends a GET and collects what comes back until `marker` is seen (or 10 s pass).
private final class StreamReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let marker: String
    private let promise: EventLoopPromise<String>
    private var seen = ""

    init(marker: String, promise: EventLoopPromise<String>) {
        self.marker = marker
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        seen += String(buffer: unwrapInboundIn(data))
        if seen.contains(marker) { promise.succeed(seen) }
    }

    static func firstBytes(port: Int, until marker: String, group: EventLoopGroup) async throws -> String {
        let loop = group.next()
        let promise = loop.makePromise(of: String.self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StreamReader(marker: marker, promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let timeout = loop.scheduleTask(in: .seconds(10)) { promise.fail(StreamReaderTimeout()) }
        try await channel.writeAndFlush(ByteBuffer(string: "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n"))
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

private struct StreamReaderTimeout: Error {}

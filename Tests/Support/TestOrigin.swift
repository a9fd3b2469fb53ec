import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An upstream for the tests, on 127.0.0.1 with an ephemeral port.
///
/// - `/slow...`: never answers.
/// - `/delay/MS...`: answers after MS milliseconds.
/// - `/bytes/N`: answers N bytes (a repeating pattern), streamed in 64 KiB chunks.
/// - anything else: a JSON-ish echo: `method`, `uri`, every header as `h:name=value`
///   lines, `body-bytes` and `body-fnv` (an FNV-1a hash of the body).
public final class TestOrigin: Sendable {
    public let channel: Channel
    private let connectionsBox: NIOLockedValueBox<Int>
    private let requestsBox: NIOLockedValueBox<Int>

    public var port: Int { channel.localAddress!.port! }

    public init(group: EventLoopGroup) async throws {
        let connections = NIOLockedValueBox(0)
        let requests = NIOLockedValueBox(0)
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                connections.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(OriginHandler(requests: requests))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.connectionsBox = connections
        self.requestsBox = requests
    }
    public var connectionCount: Int { connectionsBox.withLockedValue { $0 } }
    public var requestCount: Int { requestsBox.withLockedValue { $0 } }

    public func close() async { try? await channel.close() }
}

public func fnv1a(_ bytes: some Sequence<UInt8>, into hash: inout UInt64) {
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
}

public let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325

/// The byte at `index` of the pattern the origin and the tests use for large bodies.
/// It repeats every 64 KiB, so the origin can send one precomputed chunk again and
/// again (per-byte work is slow in debug builds).
public func patternByte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: (index & 0xFF) ^ ((index >> 8) & 0xFF) &* 7) }

/// 64 KiB of the pattern, starting at index 0.
public let patternChunk: [UInt8] = (0..<65536).map(patternByte)

final class OriginHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let requests: NIOLockedValueBox<Int>
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var hash = fnvOffset
    /// Set by `/close-next`: the next request on this connection is met with a close,
    /// as when a keep-alive timeout closes a connection just as a request arrives.
    private var closeOnNextRequest = false

    init(requests: NIOLockedValueBox<Int>) { self.requests = requests }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if closeOnNextRequest {
                context.close(promise: nil)
                return
            }
            if head.uri.hasPrefix("/close-next") { closeOnNextRequest = true }
            self.head = head
            bodyBytes = 0
            hash = fnvOffset
            requests.withLockedValue { $0 += 1 }
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            fnv1a(buffer.readableBytesView, into: &hash)
        case .end:
            guard let head else { return }
            respond(context: context, head: head)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        if head.uri.hasPrefix("/slow") { return }
        if head.uri.hasPrefix("/delay/"), let milliseconds = Int64(head.uri.dropFirst(7).prefix { $0.isNumber }) {
            let loop = context.eventLoop.assumeIsolated()
            loop.scheduleTask(in: .milliseconds(milliseconds)) { [self] in
                sendText(context: context, head: head, text: "delayed \(milliseconds)\n")
            }
            return
        }
        if head.uri.hasPrefix("/bytes/"), let count = Int(head.uri.dropFirst(7)) {
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: String(count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            var offset = 0
            while offset < count {
                let size = min(65536, count - offset)
                let buffer = context.channel.allocator.buffer(bytes: patternChunk[0..<size])
                context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                offset += size
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        var text = "method=\(head.method.rawValue)\nuri=\(head.uri)\n"
        for (name, value) in head.headers { text += "h:\(name.lowercased())=\(value)\n" }
        text += "body-bytes=\(bodyBytes)\nbody-fnv=\(hash)\n"
        sendText(context: context, head: head, text: text)
    }

    private func sendText(context: ChannelHandlerContext, head: HTTPRequestHead, text: String) {
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(text.utf8.count))
        headers.add(name: "x-origin", value: "test")
        headers.add(name: "connection", value: "keep-alive, x-origin-private")
        headers.add(name: "x-origin-private", value: "hop-by-hop")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

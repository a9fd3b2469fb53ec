import NIOCore
import NIOHTTP1
import NIOPosix

/// The quickstart's built-in upstream: answers every request with a small JSON
/// description of what it received, so `moongate run` shows a real proxied exchange
/// without any other server.
public enum EchoOrigin {
    /// Starts on 127.0.0.1 with an ephemeral port; returns the listening channel.
    public static func start(group: EventLoopGroup) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }
}

final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            guard let head else { return }
            let forwardedFor = head.headers.first(name: "x-forwarded-for") ?? ""
            let body = """
                {"message":"hello from moongate's built-in echo upstream","method":"\(head.method.rawValue)",\
                "path":"\(GatewayError.jsonEscaped(head.uri))","host":"\(GatewayError.jsonEscaped(head.headers.first(name: "host") ?? ""))",\
                "x_forwarded_for":"\(GatewayError.jsonEscaped(forwardedFor))","body_bytes":\(bodyBytes)}

                """
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(body.utf8.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            self.head = nil
        }
    }
}

import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An upstream on 127.0.0.1 whose connections each get a handler made by the test,
/// for answers written byte by byte (what TestOrigin's HTTP codec would not send).
final class ScriptedUpstream: Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel: Channel
    private let accepted = NIOLockedValueBox<[Channel]>([])
    let port: Int

    /// The connections accepted so far.
    var connections: [Channel] { accepted.withLockedValue { $0 } }

    init(handler makeHandler: @escaping @Sendable () -> ChannelHandler) async throws {
        let accepted = self.accepted
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                accepted.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(makeHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    func close() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

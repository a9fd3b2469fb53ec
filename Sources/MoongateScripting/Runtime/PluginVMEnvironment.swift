import LuaKit
import NIOCore

/// Where a plugin VM lives: its event loop (waits and timers are scheduled there),
/// the process-wide services, how `gate.http.request` reaches the network, and where
/// `gate.log` lines go.
public final class PluginVMEnvironment {
    public let eventLoop: EventLoop
    public let services: PluginServices
    public let http: PDKHTTPTransport
    /// Where a preempted hook waits for its next slice (default: the loop's task queue).
    /// The proxy puts it behind the loop's next poll of its sockets (`SliceRequeue`).
    public var requeue: LuaRequeue?
    /// Receives every `gate.log` line (besides the logger): `moongate plugin test` collects them.
    public var logSink: ((PluginLogRecord) -> Void)?

    public init(eventLoop: EventLoop, services: PluginServices, http: PDKHTTPTransport) {
        self.eventLoop = eventLoop
        self.services = services
        self.http = http
    }
}

public struct PluginLogRecord: Sendable, Equatable {
    public var level: String
    public var plugin: String
    public var message: String
}

/// `upstreams[].limits` (SPEC §2): the circuit breaker's thresholds. Defaults: 1024
/// connections, 1024 requests in flight, 256 requests waiting for a connection.
public struct UpstreamConnectionLimits: Sendable, Equatable {
    public var maxConnections: Int
    public var maxRequests: Int
    /// 0 = never wait: fail at once when no connection is free.
    public var maxPending: Int

    public init(maxConnections: Int = 1024, maxRequests: Int = 1024, maxPending: Int = 256) {
        self.maxConnections = maxConnections
        self.maxRequests = maxRequests
        self.maxPending = maxPending
    }
}

extension UpstreamConnectionLimits {
    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> UpstreamConnectionLimits? {
        guard let fields = reader.fields(node, allowed: ["max_connections", "max_requests", "max_pending"]) else { return nil }
        var limits = UpstreamConnectionLimits()
        limits.maxConnections = reader.int(fields["max_connections"], in: 1...Int.max) ?? limits.maxConnections
        limits.maxRequests = reader.int(fields["max_requests"], in: 1...Int.max) ?? limits.maxRequests
        limits.maxPending = reader.int(fields["max_pending"], in: 0...Int.max) ?? limits.maxPending
        return limits
    }
}

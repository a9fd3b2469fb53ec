/// What `UpstreamCircuit` holds at one moment and what it has refused since it was made,
/// for metrics and the admin API.
public struct UpstreamCircuitStats: Sendable, Equatable {
    public var activeRequests: Int
    public var openConnections: Int
    public var pendingRequests: Int
    public var activeRetries: Int
    public var rejections: Rejections

    /// Refusals per limit, counted since the circuit was made.
    public struct Rejections: Sendable, Equatable {
        /// Requests shed at `max_requests`.
        public var requests: Int
        /// Connections not opened at `max_connections`.
        public var connections: Int
        /// Requests shed at `max_pending` (no free connection and the queue full).
        public var pending: Int
        /// Retries not started because the retry budget was spent.
        public var retryBudget: Int

        public init(requests: Int = 0, connections: Int = 0, pending: Int = 0, retryBudget: Int = 0) {
            self.requests = requests
            self.connections = connections
            self.pending = pending
            self.retryBudget = retryBudget
        }
    }

    public init(
        activeRequests: Int = 0, openConnections: Int = 0, pendingRequests: Int = 0, activeRetries: Int = 0,
        rejections: Rejections = Rejections()
    ) {
        self.activeRequests = activeRequests
        self.openConnections = openConnections
        self.pendingRequests = pendingRequests
        self.activeRetries = activeRetries
        self.rejections = rejections
    }
}

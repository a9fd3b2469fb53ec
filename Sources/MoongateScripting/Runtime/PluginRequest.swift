import LuaKit
import MoongateCore
import NIOHTTP1

/// One request as its plugins see and change it: what the client sent (read by
/// `gate.request`), what goes upstream (`gate.service.request`), the consumer
/// (`gate.client.authenticate`), a short-circuit response (`gate.response.exit`) and,
/// once the upstream answered, both responses. The proxy builds it from the request
/// head, runs the phases over it, and applies what the plugins decided.
///
/// Confined to the request's event loop.
public final class PluginRequest: PluginRunContext {
    // MARK: The request as the client sent it

    public let method: String
    public let scheme: String
    /// Without port, lowercase.
    public let host: String
    /// The listener's port.
    public let port: Int
    /// The normalised path (what the router matched).
    public let path: String
    /// "" when the request had no query.
    public let rawQuery: String
    public let headers: HTTPHeaders
    public let httpVersion: HTTPVersion
    public let clientIP: String
    public let clientPort: Int
    /// The client as `trusted_proxies` lets us believe (SPEC §2).
    public let forwardedIP: String

    // MARK: Routing

    public struct RouteInfo: Sendable {
        public var name: String
        public var upstream: String
        public var hosts: [String]
        public var paths: [String]

        public init(name: String, upstream: String, hosts: [String], paths: [String]) {
            self.name = name
            self.upstream = upstream
            self.hosts = hosts
            self.paths = paths
        }
    }

    /// Nil before routing (the rewrite phase).
    public var route: RouteInfo?
    /// Upstream names `gate.service.set_upstream` accepts.
    public var knownUpstreams: Set<String> = []
    /// The configuration's consumers (`gate.consumers.find`).
    public var consumers = ConsumerIndex.empty

    // MARK: What goes upstream

    public var upstreamMethod: String?
    public var upstreamPath: String?
    public var upstreamRawQuery: String?
    public var upstreamHeaderEdits: [HeaderEdit] = []
    /// Replaces the client's body (`gate.service.request.set_body`).
    public var upstreamBody: [UInt8]?
    /// `gate.service.set_upstream`.
    public var upstreamOverride: String?
    /// `gate.service.set_target` or `gate.balancer.set_target`: "host:port".
    public var targetOverride: String?
    public var retriesOverride: Int?
    /// Milliseconds: connect, write, read.
    public var timeoutsOverride: (connect: Int, write: Int, read: Int)?

    // MARK: Consumer

    /// Set by `gate.client.authenticate` (the consumer and credential tables stay in
    /// Lua, in the request's context, for `get_consumer`/`get_credential`).
    public var consumerUsername: String?
    /// The consumer's groups, comma-separated; nil when it has none.
    public var consumerGroups: String?

    /// Every edit of the upstream request headers, in the order they apply, without
    /// the plugins' edits of the fields `excluding` names (in one array, allocated once).
    public func allUpstreamHeaderEdits(excluding: (String) -> Bool = { _ in false }) -> [HeaderEdit] {
        var edits: [HeaderEdit] = []
        edits.reserveCapacity(PluginRequest.consumerHeaderClears.count + 2 + upstreamHeaderEdits.count)
        // A client must not be able to pose as a consumer: the gateway's own consumer
        // headers (SPEC §3, as Kong does) replace whatever came in.
        edits += PluginRequest.consumerHeaderClears
        if let username = consumerUsername {
            edits.append(.set("X-Consumer-Username", username))
            if let groups = consumerGroups { edits.append(.set("X-Consumer-Groups", groups)) }
        }
        for edit in upstreamHeaderEdits where !excluding(edit.name) { edits.append(edit) }
        return edits
    }

    /// Notes an edit of the upstream request headers. Room for a few is made at the
    /// first (an authentication plugin makes two or three: growing one at a time
    /// reallocated at each).
    func editUpstreamHeaders(_ edit: HeaderEdit) {
        if upstreamHeaderEdits.capacity == 0 { upstreamHeaderEdits.reserveCapacity(4) }
        upstreamHeaderEdits.append(edit)
    }

    private static let consumerHeaderClears: [HeaderEdit] = [.clear("X-Consumer-Username"), .clear("X-Consumer-Groups")]

    // MARK: Body

    /// The client's body once complete (`gate.request.get_body`).
    public var body: [UInt8]?
    var bodyRequested = false
    /// Runs waiting for the body to complete.
    var bodyWaiters: [([UInt8]) -> Void] = []
    /// Set by the proxy: starts collecting the body (answers through `bodyArrived`).
    public var requestBody: (() -> Void)?

    /// The proxy hands the complete body here; waiting runs continue.
    public func bodyArrived(_ bytes: [UInt8]) {
        body = bytes
        let waiters = bodyWaiters
        bodyWaiters = []
        for waiter in waiters { waiter(bytes) }
    }

    // MARK: Responses

    /// A short-circuit response (`gate.response.exit`).
    public struct Exit: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
    }

    public var exit: Exit?

    /// The upstream's response as received (`gate.service.response`).
    public var serviceResponse: (status: Int, headers: HTTPHeaders)?
    /// The response going to the client: exists from the header_filter phase on.
    public var clientResponse: (status: Int, headers: HTTPHeaders)?
    /// Edits asked for before the response existed.
    public var pendingResponseEdits: [HeaderEdit] = []
    public var pendingResponseStatus: Int?

    // MARK: Balancer

    public struct TargetInfo: Sendable {
        public var address: String
        public var weight: Int
        public var healthy: Bool
        /// Requests in flight to it from this event loop.
        public var active: Int
        /// The balancer's latency estimate (0 when the algorithm keeps none).
        public var latencyMilliseconds: Double

        public init(address: String, weight: Int, healthy: Bool, active: Int = 0, latencyMilliseconds: Double = 0) {
            self.address = address
            self.weight = weight
            self.healthy = healthy
            self.active = active
            self.latencyMilliseconds = latencyMilliseconds
        }
    }

    /// The current upstream's targets, for `gate.balancer.get_targets`.
    public var balancerTargets: [TargetInfo] = []

    // MARK: Per-request Lua state

    /// Identifies the request's `gate.ctx` tables in its VM.
    var contextID: Int64 = 0
    /// True once a plugin touched `gate.ctx` (the tables are dropped at the end).
    var usedContext = false

    public init(
        method: String, scheme: String, host: String, port: Int, path: String, rawQuery: String, headers: HTTPHeaders,
        httpVersion: HTTPVersion, clientIP: String, clientPort: Int, forwardedIP: String
    ) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.rawQuery = rawQuery
        self.headers = headers
        self.httpVersion = httpVersion
        self.clientIP = clientIP
        self.clientPort = clientPort
        self.forwardedIP = forwardedIP
        super.init(phase: nil, pluginName: "")
    }
}

import NIOCore
import NIOHTTP1

/// A response the gateway makes itself (SPEC §2 status table): JSON `{"message": "..."}`,
/// or a response a plugin made (`gate.response.exit`, after its response phases).
struct GatewayError: Error, Equatable {
    let status: HTTPResponseStatus
    let message: String
    /// A plugin's response: sent as is instead of the JSON message.
    var pluginResponse: PluginMadeResponse?
    /// Seconds for `Retry-After` (a shed request may come back then).
    var retryAfter: Int?

    init(status: HTTPResponseStatus, message: String) {
        self.status = status
        self.message = message
    }

    init(plugin response: PluginMadeResponse) {
        status = HTTPResponseStatus(statusCode: response.status)
        message = ""
        pluginResponse = response
    }

    static let noRoute = GatewayError(status: .notFound, message: "no route matched")
    static let badRequest = GatewayError(status: .badRequest, message: "bad request")
    static let headerTimeout = GatewayError(status: .requestTimeout, message: "timed out reading the request headers")
    static let bodyTooLarge = GatewayError(status: .payloadTooLarge, message: "request body too large")
    static let headersTooLarge = GatewayError(status: .requestHeaderFieldsTooLarge, message: "request headers too large")
    static let upstreamUnavailable = GatewayError(status: .badGateway, message: "failed to reach the upstream")
    static let upstreamBroken = GatewayError(status: .badGateway, message: "the upstream sent an invalid response")
    static let upstreamTimeout = GatewayError(status: .gatewayTimeout, message: "the upstream timed out")
    static let noTarget = GatewayError(status: .serviceUnavailable, message: "no target available for the upstream")
    /// Shed by the upstream's circuit (`limits`): too many requests in flight, or no
    /// connection free and the waiting line full (or waited out).
    static func shed(_ message: String) -> GatewayError {
        var error = GatewayError(status: .serviceUnavailable, message: message)
        error.retryAfter = 1
        return error
    }
    /// A plugin hook failed (runtime error or limit abort); Kong's wording.
    static let pluginFailure = GatewayError(status: .internalServerError, message: "An unexpected error occurred")

    static func badRequest(_ message: String) -> GatewayError { GatewayError(status: .badRequest, message: message) }

    /// The body, JSON-escaped.
    var body: String { "{\"message\":\"\(GatewayError.jsonEscaped(message))\"}" }

    var bodyBytes: [UInt8] { pluginResponse?.body ?? Array(body.utf8) }

    func responseHead(version: HTTPVersion, close: Bool) -> HTTPResponseHead {
        if let response = pluginResponse {
            var headers = response.headers
            headers.replaceOrAdd(name: "content-length", value: String(response.body.count))
            if close { headers.replaceOrAdd(name: "connection", value: "close") }
            return HTTPResponseHead(version: version, status: status, headers: headers)
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.utf8.count))
        if let retryAfter { headers.add(name: "retry-after", value: String(retryAfter)) }
        if close { headers.add(name: "connection", value: "close") }
        return HTTPResponseHead(version: version, status: status, headers: headers)
    }

    static func jsonEscaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// A whole response made by plugins: status, headers and body after the response phases.
struct PluginMadeResponse: Equatable {
    var status: Int
    var headers: HTTPHeaders
    /// Complete (body filters have run over all of it), so it is sent with its length.
    var body: [UInt8]
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

import NIOCore
import NIOHTTP1
import NIOPosix

/// A request made by `gate.http.request`.
public struct PDKHTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var timeout: TimeAmount

    public init(method: String, url: String, headers: [(String, String)], body: [UInt8], timeout: TimeAmount) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct PDKHTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

public struct PDKHTTPError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How `gate.http.request` reaches a server: the network (`PDKHTTPClient`), or the
/// `mocks:` of a `moongate plugin test` request file.
public protocol PDKHTTPTransport: Sendable {
    /// Completes on `eventLoop`.
    func send(_ request: PDKHTTPRequest, on eventLoop: EventLoop) -> EventLoopFuture<PDKHTTPResponse>
}

/// `http://host[:port]/path?query`, split for the client.
struct PDKURL: Equatable {
    var host: String
    var port: Int
    var target: String

    init?(_ text: String) {
        guard text.lowercased().hasPrefix("http://") else { return nil }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<slash]
        var target = String(rest[slash...])
        if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
        guard !authority.isEmpty, !authority.contains("@"), !target.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            return nil
        }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty {
                port = 80
            } else {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()), (1...65535).contains(value) else { return nil }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = Int(authority[authority.index(after: colon)...]), (1...65535).contains(value) else { return nil }
            port = value
        } else {
            host = String(authority)
            port = 80
        }
        guard !host.isEmpty else { return nil }
        self.target = target
    }

    var hostHeader: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? shown : "\(shown):\(port)"
    }
}

/// A plain HTTP/1.1 client on the caller's event loop: one connection per request
/// (`Connection: close`), the response collected up to `maxResponseBytes`. Nothing
/// blocks: the calling hook's coroutine waits on the future.
public struct PDKHTTPClient: PDKHTTPTransport {
    public var maxResponseBytes: Int

    public init(maxResponseBytes: Int = 16 << 20) {
        self.maxResponseBytes = maxResponseBytes
    }

    public func send(_ request: PDKHTTPRequest, on eventLoop: EventLoop) -> EventLoopFuture<PDKHTTPResponse> {
        guard let url = PDKURL(request.url) else {
            let reason =
                request.url.lowercased().hasPrefix("https://")
                ? "https is not supported yet (plain http only)" : "invalid url '\(request.url)'"
            return eventLoop.makeFailedFuture(PDKHTTPError(reason))
        }
        let promise = eventLoop.makePromise(of: PDKHTTPResponse.self)
        let limit = maxResponseBytes
        let connect = ClientBootstrap(group: eventLoop)
            .connectTimeout(request.timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(PDKHTTPResponseCollector(promise: promise, limit: limit))
                }
            }
            .connect(host: url.host, port: url.port)
        let timeout = eventLoop.scheduleTask(in: request.timeout) {
            promise.fail(PDKHTTPError("timeout"))
        }
        connect.whenComplete { result in
            switch result {
            case .failure(let error):
                promise.fail(PDKHTTPError("connection failed: \(error)"))
            case .success(let channel):
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: url.hostHeader)
                for (name, value) in request.headers where name.lowercased() != "host" && name.lowercased() != "content-length" {
                    headers.add(name: name, value: value)
                }
                headers.replaceOrAdd(name: "Connection", value: "close")
                if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) {
                    headers.add(name: "Content-Length", value: String(request.body.count))
                }
                let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: url.target, headers: headers)
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                if !request.body.isEmpty {
                    channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: request.body))), promise: nil)
                }
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            }
        }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        return promise.futureResult
    }
}

/// Collects one response into a `PDKHTTPResponse`.
private final class PDKHTTPResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let promise: EventLoopPromise<PDKHTTPResponse>
    private let limit: Int
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    init(promise: EventLoopPromise<PDKHTTPResponse>, limit: Int) {
        self.promise = promise
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let buffer):
            guard body.count + buffer.readableBytes <= limit else {
                promise.fail(PDKHTTPError("response body over \(limit) bytes"))
                context.close(promise: nil)
                return
            }
            body += buffer.readableBytesView
        case .end:
            guard let head else { return }
            promise.succeed(PDKHTTPResponse(status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }, body: body))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(PDKHTTPError("connection closed before the response completed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(PDKHTTPError("broken response: \(error)"))
        context.close(promise: nil)
    }
}

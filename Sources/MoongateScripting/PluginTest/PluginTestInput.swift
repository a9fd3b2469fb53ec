import LuaKit
import Yams

/// A request described in YAML or JSON for `moongate plugin test` (SPEC §8): `method`,
/// `path` (with its query), `headers`, `body`, `client_ip`, `route`, `mocks` answering
/// `gate.http.request`, and optionally `upstream_response` (then the response phases
/// run on it too).
public struct PluginTestInput: Sendable {
    public struct Mock: Sendable {
        public var url: String
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public init(url: String, status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = []) {
            self.url = url
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    public var method = "GET"
    public var path = "/"
    public var rawQuery = ""
    public var headers: [(String, String)] = []
    public var body: [UInt8] = []
    public var clientIP = "127.0.0.1"
    public var routeName = "test-route"
    public var mocks: [Mock] = []
    public var upstreamResponse: Response?

    public init() {}

    /// `consumers` is read by the command (it has the shape of moongate.yaml's).
    static let keys = ["method", "path", "headers", "body", "client_ip", "route", "mocks", "upstream_response", "consumers"]

    /// Reads the request file's text (YAML, or JSON, which is YAML too).
    public static func parse(_ text: String, file: String) throws(PluginTestInputError) -> PluginTestInput {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw PluginTestInputError("\(file): not valid YAML or JSON: \(error)")
        }
        guard let node else { throw PluginTestInputError("\(file): the request file is empty") }
        return try decode(node, file: file, at: "")
    }

    public static func decode(_ node: Node, file: String, at prefix: String) throws(PluginTestInputError) -> PluginTestInput {
        guard let mapping = node.mapping else { throw PluginTestInputError("\(file): \(prefix.isEmpty ? "the request" : prefix) must be a mapping") }
        var input = PluginTestInput()
        func field(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }
        func fail(_ key: String, _ message: String, _ at: Node) -> PluginTestInputError {
            PluginTestInputError("\(file):\(at.mark.map { "\($0.line):" } ?? "") \(field(key)): \(message)")
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { continue }
            switch key {
            case "method":
                guard let method = value.string, !method.isEmpty else { throw fail(key, "expected a method name", value) }
                input.method = method.uppercased()
            case "path":
                guard let path = value.string, path.hasPrefix("/") else { throw fail(key, "expected a path starting with '/'", value) }
                if let mark = path.firstIndex(of: "?") {
                    input.path = String(path[..<mark])
                    input.rawQuery = String(path[path.index(after: mark)...])
                } else {
                    input.path = path
                }
            case "headers":
                input.headers = try headers(value) { fail(key, $0, value) }
            case "body":
                guard let body = value.string else { throw fail(key, "expected a string", value) }
                input.body = Array(body.utf8)
            case "client_ip":
                guard let ip = value.string else { throw fail(key, "expected an IP address", value) }
                input.clientIP = ip
            case "route":
                guard let route = value.string else { throw fail(key, "expected a route name", value) }
                input.routeName = route
            case "mocks":
                guard let list = value.sequence else { throw fail(key, "expected a list of {url, status, headers, body}", value) }
                for item in list {
                    let response = try self.response(item) { fail(key, $0, item) }
                    guard let url = item.mapping?["url"]?.string else { throw fail(key, "each mock needs a url", item) }
                    input.mocks.append(Mock(url: url, status: response.status, headers: response.headers, body: response.body))
                }
            case "upstream_response":
                input.upstreamResponse = try response(value) { fail(key, $0, value) }
            case "consumers":
                continue
            default:
                throw fail(key, "unknown field (expected one of \(keys.joined(separator: ", ")))", keyNode)
            }
        }
        return input
    }

    private static func headers(_ node: Node, _ fail: (String) -> PluginTestInputError) throws(PluginTestInputError) -> [(String, String)] {
        guard let mapping = node.mapping else { throw fail("expected a mapping of header names to values") }
        var headers: [(String, String)] = []
        for (name, value) in mapping {
            guard let name = name.string else { throw fail("header names must be strings") }
            if let list = value.sequence {
                for item in list {
                    guard let text = item.string else { throw fail("header '\(name)': values must be strings") }
                    headers.append((name, text))
                }
            } else if let text = value.string {
                headers.append((name, text))
            } else {
                throw fail("header '\(name)': expected a string or a list of strings")
            }
        }
        return headers
    }

    private static func response(_ node: Node, _ fail: (String) -> PluginTestInputError) throws(PluginTestInputError) -> Response {
        guard let mapping = node.mapping else { throw fail("expected a mapping with status, headers, body") }
        var response = Response(status: 200, headers: [], body: [])
        if let status = mapping["status"] {
            guard let code = status.int, (100...599).contains(code) else { throw fail("status must be an HTTP status") }
            response.status = code
        }
        if let headers = mapping["headers"] { response.headers = try self.headers(headers, fail) }
        if let body = mapping["body"] {
            guard let text = body.string else { throw fail("body must be a string") }
            response.body = Array(text.utf8)
        }
        return response
    }
}

public struct PluginTestInputError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

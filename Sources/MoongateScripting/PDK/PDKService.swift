import LuaKit
import MoongateCore

/// `gate.service`, `gate.service.request` and `gate.service.response`: routing
/// decisions, the request as it goes upstream, and the upstream's answer.
enum PDKService {
    static func register(_ pdk: PDKRegistrar) {
        registerRouting(pdk)
        registerRequest(pdk)
        registerResponse(pdk)
    }

    private static func registerRouting(_ pdk: PDKRegistrar) {
        pdk.registerRequest("gate.service.set_upstream", [.rewrite, .access]) { call, request in
            guard let name = call.text(1) else { return call.argumentError(1, "gate.service.set_upstream", expected: "string") }
            guard request.knownUpstreams.contains(name) else { return call.return(.nil, .string("unknown upstream '\(name)'")) }
            request.upstreamOverride = name
            request.targetOverride = nil
            return call.return(.boolean(true))
        }
        pdk.registerRequest("gate.service.set_target", .beforeUpstream) { call, request in
            guard let host = call.text(1), !host.isEmpty else {
                return call.argumentError(1, "gate.service.set_target", expected: "string")
            }
            guard let port = call.integer(2), (1...65535).contains(port) else {
                return call.argumentError(2, "gate.service.set_target", expected: "port number (1-65535)")
            }
            request.targetOverride = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
            return .results(0)
        }
        pdk.registerRequest("gate.service.set_retries", .beforeUpstream) { call, request in
            guard let count = call.integer(1), count >= 0 else {
                return call.argumentError(1, "gate.service.set_retries", expected: "non-negative integer")
            }
            request.retriesOverride = Int(count)
            return .results(0)
        }
        pdk.registerRequest("gate.service.set_timeouts", .beforeUpstream) { call, request in
            var values: [Int] = []
            for position in 1...3 {
                guard let value = call.integer(position), value > 0 else {
                    return call.argumentError(position, "gate.service.set_timeouts", expected: "positive integer (ms)")
                }
                values.append(Int(value))
            }
            request.timeoutsOverride = (values[0], values[1], values[2])
            return .results(0)
        }
    }

    private static func registerRequest(_ pdk: PDKRegistrar) {
        let phases = PDKPhases.beforeUpstream
        pdk.registerRequest("gate.service.request.set_method", phases) { call, request in
            guard let method = call.text(1), HTTPToken.isValid(method) else {
                return call.argumentError(1, "gate.service.request.set_method", expected: "method name")
            }
            request.upstreamMethod = method.uppercased()
            return .results(0)
        }
        pdk.registerRequest("gate.service.request.set_path", phases) { call, request in
            guard let path = call.text(1), path.hasPrefix("/"), !path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
                return call.argumentError(1, "gate.service.request.set_path", expected: "path starting with '/'")
            }
            request.upstreamPath = path
            return .results(0)
        }
        pdk.registerRequest("gate.service.request.set_raw_query", phases) { call, request in
            guard let query = call.text(1) else {
                return call.argumentError(1, "gate.service.request.set_raw_query", expected: "string")
            }
            request.upstreamRawQuery = query
            return .results(0)
        }
        pdk.registerRequest("gate.service.request.set_query", phases) { call, request in
            guard let table = try? call.argument(1), let query = QueryString.encode(table) else {
                return call.argumentError(1, "gate.service.request.set_query", expected: "table of arguments")
            }
            request.upstreamRawQuery = query
            return .results(0)
        }
        for (function, make) in [
            ("set_header", { HeaderEdit.set($0, $1) }), ("add_header", { HeaderEdit.add($0, $1) }),
        ] as [(String, (String, String) -> HeaderEdit)] {
            let name = "gate.service.request.\(function)"
            pdk.registerRequest(name, phases) { call, request in
                guard let header = call.text(1), HTTPToken.isValid(header) else {
                    return call.argumentError(1, name, expected: "header name")
                }
                guard let value = call.text(2), HTTPToken.isFieldValue(value) else {
                    return call.argumentError(2, name, expected: "header value without CR/LF")
                }
                request.editUpstreamHeaders(make(header, value))
                return .results(0)
            }
        }
        pdk.registerRequest("gate.service.request.clear_header", phases) { call, request in
            guard let header = call.text(1) else {
                return call.argumentError(1, "gate.service.request.clear_header", expected: "header name")
            }
            request.editUpstreamHeaders(.clear(header))
            return .results(0)
        }
        pdk.registerRequest("gate.service.request.set_headers", phases) { call, request in
            guard case .map(let entries)? = try? call.argument(1) else {
                return call.argumentError(1, "gate.service.request.set_headers", expected: "table")
            }
            var edits: [HeaderEdit] = []
            for (key, value) in entries.sorted(by: { ($0.key.stringValue ?? "") < ($1.key.stringValue ?? "") }) {
                guard let name = key.stringValue, HTTPToken.isValid(name), let values = PDKHeaders.values(value),
                    values.allSatisfy(HTTPToken.isFieldValue)
                else {
                    return .error("gate.service.request.set_headers: invalid header \(key.stringValue.map { "'\($0)'" } ?? "name")")
                }
                edits.append(.clear(name))
                edits += values.map { HeaderEdit.add(name, $0) }
            }
            request.upstreamHeaderEdits += edits
            return .results(0)
        }
        pdk.registerRequest("gate.service.request.set_body", phases) { call, request in
            guard let body = call.bytes(1) else {
                return call.argumentError(1, "gate.service.request.set_body", expected: "string")
            }
            request.upstreamBody = body
            return .results(0)
        }
    }

    private static func registerResponse(_ pdk: PDKRegistrar) {
        pdk.registerRequest("gate.service.response.get_status", .response) { call, request in
            call.return(request.serviceResponse.map { .integer(Int64($0.status)) } ?? .nil)
        }
        pdk.registerRequest("gate.service.response.get_header", .response) { call, request in
            guard let name = call.text(1) else {
                return call.argumentError(1, "gate.service.response.get_header", expected: "string")
            }
            return call.return(string: request.serviceResponse?.headers.first(name: name))
        }
        pdk.registerRequest("gate.service.response.get_headers", .response) { call, request in
            call.return(request.serviceResponse.map { PDKHeaders.table($0.headers) } ?? .map([:]))
        }
    }
}

import LuaKit
import MoongateCore

/// `gate.response`: the response the client gets. `exit` short-circuits the request
/// (the remaining rewrite/access hooks and the upstream are skipped); header changes
/// made before the response exists are applied when it does.
enum PDKResponse {
    static func register(_ pdk: PDKRegistrar) {
        pdk.registerRequest("gate.response.exit", [.rewrite, .access]) { call, request in
            guard let status = call.integer(1), (100...599).contains(status) else {
                return call.argumentError(1, "gate.response.exit", expected: "HTTP status (100-599)")
            }
            var headers: [(String, String)] = []
            var body: [UInt8] = []
            switch try? call.argument(2) {
            case .nil?, nil:
                break
            case .string(let bytes)?:
                body = bytes
            case let table? where PDKResponse.isTable(table):
                switch LuaJSON.encode(table) {
                case .success(let json):
                    body = json
                    headers.append(("Content-Type", "application/json; charset=utf-8"))
                case .failure(let error):
                    return .error("gate.response.exit: the body cannot be sent as JSON: \(error)")
                }
            default:
                return call.argumentError(2, "gate.response.exit", expected: "string or table")
            }
            if call.argumentCount >= 3, call.typeName(3) != "nil" {
                guard case .map(let entries)? = try? call.argument(3) else {
                    return call.argumentError(3, "gate.response.exit", expected: "table of headers")
                }
                for (key, value) in entries.sorted(by: { ($0.key.stringValue ?? "") < ($1.key.stringValue ?? "") }) {
                    guard let name = key.stringValue, HTTPToken.isValid(name), let values = PDKHeaders.values(value),
                        values.allSatisfy(HTTPToken.isFieldValue)
                    else { return .error("gate.response.exit: invalid header \(key.stringValue.map { "'\($0)'" } ?? "name")") }
                    headers.removeAll { $0.0.equalsIgnoringASCIICase(name) }
                    headers += values.map { (name, $0) }
                }
            }
            request.exit = PluginRequest.Exit(status: Int(status), headers: headers, body: body)
            return .results(0)
        }
        pdk.registerRequest("gate.response.set_status", [.rewrite, .access, .headerFilter]) { call, request in
            guard let status = call.integer(1), (100...599).contains(status) else {
                return call.argumentError(1, "gate.response.set_status", expected: "HTTP status (100-599)")
            }
            if request.clientResponse != nil {
                request.clientResponse!.status = Int(status)
            } else {
                request.pendingResponseStatus = Int(status)
            }
            return .results(0)
        }
        for (function, make) in [
            ("set_header", { HeaderEdit.set($0, $1) }), ("add_header", { HeaderEdit.add($0, $1) }),
        ] as [(String, (String, String) -> HeaderEdit)] {
            let name = "gate.response.\(function)"
            pdk.registerRequest(name, [.rewrite, .access, .headerFilter]) { call, request in
                guard let header = call.text(1), HTTPToken.isValid(header) else {
                    return call.argumentError(1, name, expected: "header name")
                }
                guard let value = call.text(2), HTTPToken.isFieldValue(value) else {
                    return call.argumentError(2, name, expected: "header value without CR/LF")
                }
                request.editResponse(make(header, value))
                return .results(0)
            }
        }
        pdk.registerRequest("gate.response.clear_header", [.rewrite, .access, .headerFilter]) { call, request in
            guard let header = call.text(1) else {
                return call.argumentError(1, "gate.response.clear_header", expected: "header name")
            }
            request.editResponse(.clear(header))
            return .results(0)
        }
        pdk.registerRequest("gate.response.get_status", .response) { call, request in
            call.return(request.clientResponse.map { .integer(Int64($0.status)) } ?? .nil)
        }
        pdk.registerRequest("gate.response.get_header", .response) { call, request in
            guard let name = call.text(1) else { return call.argumentError(1, "gate.response.get_header", expected: "string") }
            return call.return(string: request.clientResponse?.headers.first(name: name))
        }
    }

    static func isTable(_ value: LuaValue) -> Bool {
        switch value {
        case .map, .array: return true
        default: return false
        }
    }
}

extension PluginRequest {
    /// Applies a header change to the client response, or keeps it until it exists.
    func editResponse(_ edit: HeaderEdit) {
        if clientResponse != nil {
            edit.apply(to: &clientResponse!.headers)
        } else {
            pendingResponseEdits.append(edit)
        }
    }
}

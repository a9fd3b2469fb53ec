import LuaKit

/// `gate.client` and `gate.consumers`: who is calling, and authenticating them.
enum PDKClient {
    static func register(_ pdk: PDKRegistrar) {
        pdk.registerRequest("gate.client.get_ip", .request) { call, request in call.return(.string(request.clientIP)) }
        pdk.registerRequest("gate.client.get_forwarded_ip", .request) { call, request in
            call.return(.string(request.forwardedIP))
        }
        pdk.registerRequest("gate.client.get_port", .request) { call, request in
            call.return(.integer(Int64(request.clientPort)))
        }
        pdk.registerRequest("gate.client.authenticate", [.rewrite, .access]) { call, request in
            let consumer: LuaValue
            let credential: LuaValue
            do throws(LuaError) {
                consumer = try call.argument(1)
                credential = try call.argument(2)
            } catch {
                return .error("gate.client.authenticate: \(error)")
            }
            guard consumer == .nil || consumer["username"]?.stringValue != nil else {
                return .error("gate.client.authenticate: the consumer must be a table with a username (from gate.consumers.find)")
            }
            request.consumer = consumer == .nil ? nil : consumer
            request.credential = credential == .nil ? nil : credential
            return .results(0)
        }
        pdk.registerRequest("gate.client.get_consumer", .request) { call, request in call.return(request.consumer ?? .nil) }
        pdk.registerRequest("gate.client.get_credential", .request) { call, request in
            call.return(request.credential ?? .nil)
        }
        pdk.registerRequest("gate.consumers.find", .request) { call, request in
            guard let kind = call.text(1) else { return call.argumentError(1, "gate.consumers.find", expected: "string") }
            guard let key = call.text(2) else { return call.return(.nil) }
            guard let found = request.consumers.find(kind: kind, key: key) else { return call.return(.nil) }
            return call.return(found.consumer, found.credential)
        }
    }
}

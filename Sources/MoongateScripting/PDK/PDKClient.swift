import LuaKit

/// `gate.client` and `gate.consumers`: who is calling, and authenticating them.
enum PDKClient {
    static func register(_ pdk: PDKRegistrar) {
        pdk.registerRequest("gate.client.get_ip", .request) { call, request in call.return(string: request.clientIP) }
        pdk.registerRequest("gate.client.get_forwarded_ip", .request) { call, request in
            call.return(string: request.forwardedIP)
        }
        pdk.registerRequest("gate.client.get_port", .request) { call, request in
            call.return(.integer(Int64(request.clientPort)))
        }
        // authenticate, get_consumer and get_credential are Lua functions of the prelude
        // (the tables stay in the request's Lua context); these are their Swift halves.
        // Answers with the request's `gate.ctx` id: the prelude keeps the consumer and
        // credential tables there.
        pdk.registerRequest("__moongate_host.set_consumer", [.rewrite, .access], shownAs: "gate.client.authenticate") {
            [contextIDs = pdk.contextIDs] call, request in
            request.consumerUsername = call.string(1)
            request.consumerGroups = call.string(2)
            return call.return(.integer(contextIDs.id(of: request)))
        }
        // The Swift half of gate.consumers.find: the prelude caches what it returns per
        // plan, so a consumer's tables are built once per VM and configuration.
        pdk.registerRequest("__moongate_host.consumers_find", .request, shownAs: "gate.consumers.find") { call, request in
            guard let kind = call.text(1) else { return call.argumentError(1, "gate.consumers.find", expected: "string") }
            guard let key = call.text(2) else { return call.return(.nil) }
            guard let found = request.consumers.find(kind: kind, key: key) else { return call.return(.nil) }
            return call.return(found.consumer, found.credential)
        }
        pdk.registerRequest("__moongate_host.consumers_generation", .request, shownAs: "gate.consumers.find") { call, request in
            call.return(.integer(Int64(request.consumers.generation)))
        }
    }
}

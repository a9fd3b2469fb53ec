import LuaKit

/// `gate.router` (where the request was routed) and `gate.balancer` (the targets of
/// its upstream, and choosing one).
enum PDKRouting {
    static func register(_ pdk: PDKRegistrar) {
        pdk.registerRequest("gate.router.get_route", .request) { call, request in
            guard let route = request.route else { return call.return(.nil) }
            return call.return(
                .map([
                    "name": .string(route.name), "upstream": .string(request.upstreamOverride ?? route.upstream),
                    "hosts": .array(route.hosts.map { .string($0) }), "paths": .array(route.paths.map { .string($0) }),
                ]))
        }
        pdk.registerRequest("gate.router.get_upstream", .request) { call, request in
            guard let upstream = request.upstreamOverride ?? request.route?.upstream else { return call.return(.nil) }
            return call.return(string: upstream)
        }
        pdk.registerRequest("gate.balancer.get_targets", .balancer) { call, request in
            call.return(
                .array(
                    request.balancerTargets.map { target in
                        .map([
                            "address": .string(target.address), "weight": .integer(Int64(target.weight)),
                            "healthy": .boolean(target.healthy), "active": .integer(Int64(target.active)),
                            "latency_ms": .number(target.latencyMilliseconds),
                        ])
                    }))
        }
        pdk.registerRequest("gate.balancer.set_target", .balancer) { call, request in
            guard let address = call.text(1) else { return call.argumentError(1, "gate.balancer.set_target", expected: "string") }
            guard request.balancerTargets.contains(where: { $0.address == address }) else {
                return call.return(.nil, .string("'\(address)' is not a target of this upstream"))
            }
            request.targetOverride = address
            return call.return(.boolean(true))
        }
    }
}

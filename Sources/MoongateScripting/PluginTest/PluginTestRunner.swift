import LuaKit
import Logging
import MoongateCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Runs one plugin's phases against described requests with no network (SPEC §8):
/// the engine of `moongate plugin test`, and of the bundled plugins' tests. The
/// phases run exactly as in the proxy (same VM setup, chains, limits and PDK); only
/// the sockets are replaced: `gate.http.request` is answered from the request's
/// `mocks`, and the upstream's answer is the request's `upstream_response`.
public final class PluginTestRunner {
    /// What one request produced.
    public struct Outcome: Sendable {
        public struct Message: Sendable {
            public var status: Int?
            public var method: String?
            public var path: String?
            public var query: String?
            public var headers: [(String, String)]
            public var body: [UInt8]
        }

        /// The short-circuit response, or the filtered upstream response.
        public var response: Message?
        /// The request as the upstream would receive it (nil when short-circuited).
        public var upstreamRequest: Message?
        /// The upstream chosen (the route's, or `gate.service.set_upstream`'s).
        public var upstreamName: String?
        public var logs: [PluginLogRecord]
        /// The failed hook, when one failed.
        public var failure: PluginHookFailure?
        public var shortCircuited: Bool
    }

    private let group: MultiThreadedEventLoopGroup
    private let loop: EventLoop
    private let plan: PluginPlan
    private let vm: PluginVM
    private let environment: PluginVMEnvironment
    private let mocks: MockHTTPTransport
    private let routeName: String
    private let routeUpstream: String
    private var logs: [PluginLogRecord] = []

    /// - Parameters:
    ///   - plugin: the plugin's name (its file is found in `scripts`).
    ///   - config: the instance config (validated by the plugin's schema).
    ///   - upstreams: names `gate.service.set_upstream` accepts; the first is the route's.
    ///   - alongside: other plugin instances on the same route (an auth plugin in front of acl).
    public init(
        plugin: String, scripts: ScriptSet, config: [String: ConfigValue], consumers: [ConsumerConfig] = [],
        upstreams: [String] = ["default"], routeName: String = "test-route", limits: ScriptLimitsConfig = ScriptLimitsConfig(),
        alongside: [PluginInstanceConfig] = []
    ) throws(PluginTestSetupError) {
        // Logs go into the outcome, not to the terminal.
        let services = PluginServices(
            maxSharedKeys: limits.sharedKeys, logger: Logger(label: "moongate.plugin-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let generation: ScriptGeneration
        switch ScriptGeneration.compile(scripts, limits: limits, number: 1, services: services) {
        case .success(let compiled): generation = compiled
        case .failure(let error): throw PluginTestSetupError(error.description)
        }
        guard generation.plugins[plugin] != nil else {
            throw PluginTestSetupError("'\(plugin)' is not a plugin (its file must return a table with at least one phase function)")
        }
        let upstreamNames = upstreams.isEmpty ? ["default"] : upstreams
        var specs: [String: UpstreamSpec] = [:]
        for name in upstreamNames {
            specs[name] = UpstreamSpec(name: name, targets: [BalancerTarget(address: "\(name):80", weight: 100)])
        }
        let route = CompiledRoute(
            name: routeName, upstreams: [WeightedUpstream(name: upstreamNames[0], weight: 100)],
            plugins: [PluginInstanceConfig(name: plugin, config: config)] + alongside)
        let runtime = RuntimeConfig(
            proxy: ProxySettings(), routeSpecs: [RouteSpec(name: routeName, paths: ["/"])], routes: [route], upstreams: specs,
            consumers: consumers)
        switch PluginPlan.build(runtime, generation: generation) {
        case .success(let built): plan = built
        case .failure(let error): throw PluginTestSetupError(error.description)
        }
        self.routeName = routeName
        routeUpstream = upstreamNames[0]
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        mocks = MockHTTPTransport()
        environment = PluginVMEnvironment(eventLoop: loop, services: services, http: mocks)
        let environment = self.environment
        let plan = self.plan
        do {
            vm = try loop.submit { () throws -> PluginVM in
                let vm = try PluginVM(generation: generation, environment: environment)
                try vm.prepare(plan)
                return vm
            }.wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw PluginTestSetupError("cannot start the plugin: \(error)")
        }
        environment.logSink = { [unowned self] record in logs.append(record) }
    }

    deinit {
        // The last reference may go on the runner's own loop (a finishing run holds it).
        group.shutdownGracefully { _ in }
    }

    /// Runs the phases for `input`; waits (the hooks may sleep or wait on mocks).
    public func run(_ input: PluginTestInput) -> Outcome {
        let promise = loop.makePromise(of: Outcome.self)
        loop.execute { [self] in
            logs = []
            mocks.responses = input.mocks
            runPhases(input) { promise.succeed($0) }
        }
        // The runner's own loop does the work; this thread only waits for it.
        return try! promise.futureResult.wait()
    }

    private func runPhases(_ input: PluginTestInput, completion: @escaping (Outcome) -> Void) {
        var headers = HTTPHeaders()
        for (name, value) in input.headers { headers.add(name: name, value: value) }
        let host = headers.first(name: "host").map { String($0.split(separator: ":").first ?? "") } ?? "localhost"
        let request = PluginRequest(
            method: input.method, scheme: "http", host: host.lowercased(), port: 8000, path: input.path, rawQuery: input.rawQuery,
            headers: headers, httpVersion: .http1_1, clientIP: input.clientIP, clientPort: 40000, forwardedIP: input.clientIP)
        request.consumers = plan.consumers
        request.knownUpstreams = plan.upstreamNames
        request.requestBody = { [unowned request] in request.bodyArrived(input.body) }
        let upstream = routeUpstream
        let chain = plan.chain(routeIndex: 0, upstream: upstream)
        vm.retain(plan)

        func finish(_ response: Outcome.Message?, upstreamRequest: Outcome.Message?, failure: PluginHookFailure?, short: Bool) {
            vm.release(plan, request: request)
            completion(
                Outcome(
                    response: response, upstreamRequest: upstreamRequest,
                    upstreamName: request.upstreamOverride ?? request.route?.upstream, logs: logs, failure: failure,
                    shortCircuited: short))
        }

        vm.runPhase(.rewrite, chain: plan.rewriteChain, plan: plan, request: request) { [self] outcome in
            request.route = PluginRequest.RouteInfo(name: routeName, upstream: upstream, hosts: [], paths: ["/"])
            let afterAccess: (PluginPhaseOutcome) -> Void = { [self] outcome in
                switch outcome {
                case .failed(let failure):
                    respond(request, chain: chain, status: 500, headers: [("Content-Type", "application/json")],
                        body: Array(#"{"message":"An unexpected error occurred"}"#.utf8)) { response, _ in
                        finish(response, upstreamRequest: nil, failure: failure, short: true)
                    }
                case .exited:
                    let exit = request.exit!
                    respond(request, chain: chain, status: exit.status, headers: exit.headers, body: exit.body) { response, failure in
                        finish(response, upstreamRequest: nil, failure: failure, short: true)
                    }
                case .proceed:
                    let upstreamName = request.upstreamOverride ?? upstream
                    request.balancerTargets = [PluginRequest.TargetInfo(address: "\(upstreamName):80", weight: 100, healthy: true)]
                    vm.runPhase(.balancer, chain: chain, plan: plan, request: request) { [self] outcome in
                        if case .failed(let failure) = outcome {
                            return respond(request, chain: chain, status: 500, headers: [("Content-Type", "application/json")],
                                body: Array(#"{"message":"An unexpected error occurred"}"#.utf8)) { response, _ in
                                finish(response, upstreamRequest: nil, failure: failure, short: true)
                            }
                        }
                        let upstreamRequest = upstreamMessage(request, input)
                        guard let answer = input.upstreamResponse else {
                            return finish(nil, upstreamRequest: upstreamRequest, failure: nil, short: false)
                        }
                        var headers = HTTPHeaders()
                        for (name, value) in answer.headers { headers.add(name: name, value: value) }
                        request.serviceResponse = (answer.status, headers)
                        respond(request, chain: chain, status: answer.status, headers: answer.headers, body: answer.body) {
                            response, failure in
                            finish(response, upstreamRequest: upstreamRequest, failure: failure, short: false)
                        }
                    }
                }
            }
            switch outcome {
            case .proceed: vm.runPhase(.access, chain: chain, plan: plan, request: request, completion: afterAccess)
            default: afterAccess(outcome)
            }
        }
    }

    /// The response phases over a response (short-circuit or upstream): header_filter,
    /// body_filter over the whole body as one chunk, then log.
    private func respond(
        _ request: PluginRequest, chain: PluginChain, status: Int, headers: [(String, String)], body: [UInt8],
        completion: @escaping (Outcome.Message, PluginHookFailure?) -> Void
    ) {
        var responseHeaders = HTTPHeaders()
        for (name, value) in headers { responseHeaders.add(name: name, value: value) }
        request.clientResponse = (request.pendingResponseStatus ?? status, responseHeaders)
        for edit in request.pendingResponseEdits { edit.apply(to: &request.clientResponse!.headers) }
        request.pendingResponseEdits = []
        vm.runPhase(.headerFilter, chain: chain, plan: plan, request: request) { [self] outcome in
            var failure: PluginHookFailure?
            if case .failed(let failed) = outcome {
                failure = failed
                request.clientResponse = (500, ["Content-Type": "application/json"])
            }
            let bodyToFilter = failure == nil ? body : Array(#"{"message":"An unexpected error occurred"}"#.utf8)
            let afterBody: ([UInt8], PluginHookFailure?) -> Void = { [self] finalBody, bodyFailure in
                vm.runPhase(.log, chain: chain, plan: plan, request: request) { _ in
                    var headers = request.clientResponse!.headers
                    if chain.has(.bodyFilter) { headers.remove(name: "content-length") }
                    completion(
                        Outcome.Message(
                            status: request.clientResponse!.status, headers: headers.map { ($0.name, $0.value) }, body: finalBody),
                        failure ?? bodyFailure)
                }
            }
            guard chain.has(.bodyFilter) else { return afterBody(bodyToFilter, nil) }
            vm.runBodyFilter(chain: chain, plan: plan, request: request, chunk: bodyToFilter, eof: true) { result in
                switch result {
                case .success(let filtered): afterBody(filtered, nil)
                case .failure(let failed): afterBody(bodyToFilter, failed)
                }
            }
        }
    }

    private func upstreamMessage(_ request: PluginRequest, _ input: PluginTestInput) -> Outcome.Message {
        var headers = request.headers
        HeaderEdit.apply(request.allUpstreamHeaderEdits(), to: &headers)
        let body = request.upstreamBody ?? input.body
        if request.upstreamBody != nil { headers.replaceOrAdd(name: "Content-Length", value: String(body.count)) }
        return Outcome.Message(
            status: nil, method: request.upstreamMethod ?? request.method, path: request.upstreamPath ?? request.path,
            query: request.upstreamRawQuery ?? request.rawQuery, headers: headers.map { ($0.name, $0.value) }, body: body)
    }
}

public struct PluginTestSetupError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Answers `gate.http.request` from a request file's `mocks`: the first mock whose
/// url equals the request's url (or is a prefix of it ending in `*`); otherwise the
/// request fails with "no mock for URL".
final class MockHTTPTransport: PDKHTTPTransport, @unchecked Sendable {
    // Set and read on the runner's event loop only.
    var responses: [PluginTestInput.Mock] = []

    func send(_ request: PDKHTTPRequest, on eventLoop: EventLoop) -> EventLoopFuture<PDKHTTPResponse> {
        let match = responses.first { mock in
            mock.url.hasSuffix("*") ? request.url.hasPrefix(String(mock.url.dropLast())) : mock.url == request.url
        }
        guard let mock = match else { return eventLoop.makeFailedFuture(PDKHTTPError("no mock for \(request.url)")) }
        return eventLoop.makeSucceededFuture(PDKHTTPResponse(status: mock.status, headers: mock.headers, body: mock.body))
    }
}

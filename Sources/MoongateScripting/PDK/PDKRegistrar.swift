import LuaKit

/// Registers the `gate` functions on a VM, each with the phases where it may be
/// called, and keeps the list (the docs are checked against it, STYLE #4). A call
/// outside its phases raises a Lua error naming the function and the phase.
final class PDKRegistrar {
    let vm: LuaVM
    let environment: PluginVMEnvironment
    private(set) var functions: [(name: String, phases: PDKPhases)] = []
    /// Gives out the requests' `gate.ctx` ids on this VM.
    let contextIDs = PDKContextIDs()

    init(vm: LuaVM, environment: PluginVMEnvironment) {
        self.vm = vm
        self.environment = environment
    }

    /// A function that needs no request (`gate.json.encode`, `gate.log.info`...).
    ///
    /// `shownAs`: for the Swift half of a function the prelude defines in Lua, the
    /// function's public name; its phase errors then name it and point at its caller.
    func register(
        _ name: String, _ phases: PDKPhases, shownAs: String? = nil,
        _ body: @escaping (LuaCall, PluginRunContext?) -> LuaHostResult
    ) {
        functions.append((name, phases))
        let refusal = PDKRegistrar.refusal(shownAs ?? name, wrapped: shownAs != nil)
        vm.register(name) { call in
            let context = call.runContext.map { unsafeDowncast($0, to: PluginRunContext.self) }
            let current = context.map { PDKPhases($0.phase) } ?? .load
            guard phases.contains(current) else { return refusal(current) }
            return body(call, context)
        }
    }

    /// A function that works on the current request.
    func registerRequest(
        _ name: String, _ phases: PDKPhases, shownAs: String? = nil, _ body: @escaping (LuaCall, PluginRequest) -> LuaHostResult
    ) {
        precondition(phases.isSubset(of: .request), "\(name): request functions run in request phases only")
        functions.append((name, phases))
        let refusal = PDKRegistrar.refusal(shownAs ?? name, wrapped: shownAs != nil)
        vm.register(name) { call in
            guard let context = call.runContext.map({ unsafeDowncast($0, to: PluginRunContext.self) }) else {
                return refusal(.load)
            }
            let current = PDKPhases(context.phase)
            // The class compared, not cast with `as?`: PluginRequest is final, and a
            // dynamic cast per call showed in the host-call benchmark.
            guard phases.contains(current), type(of: context) == PluginRequest.self else { return refusal(current) }
            return body(call, unsafeDowncast(context, to: PluginRequest.self))
        }
    }

    private static func refusal(_ name: String, wrapped: Bool) -> (PDKPhases) -> LuaHostResult {
        { phase in wrapped ? .errorForCaller(notAllowed(name, phase)) : .error(notAllowed(name, phase)) }
    }

    static func notAllowed(_ name: String, _ phase: PDKPhases) -> String {
        switch phase {
        case .load: return "\(name) cannot be called while the plugin file loads (call it from a phase function)"
        case .timer: return "\(name) cannot be called in a timer callback (no request)"
        default: return "\(name) cannot be called in the \(phase.names.first ?? "?") phase"
        }
    }
}

extension LuaCall {
    /// The argument at `position` as text, or nil (numbers are accepted as Lua's tostring would).
    func text(_ position: Int) -> String? {
        if let string = string(position) { return string }
        if let integer = integer(position) { return String(integer) }
        if let number = number(position) { return String(number) }
        return nil
    }

    func argumentError(_ position: Int, _ function: String, expected: String) -> LuaHostResult {
        .error("bad argument #\(position) to '\(function)' (\(expected) expected, got \(typeName(position)))")
    }
}

/// Numbers the requests that use `gate.ctx` on one VM. Host functions capture it
/// (not the registrar, which holds the VM: that would be a cycle).
final class PDKContextIDs {
    private var last: Int64 = 0

    /// The id of `request`'s `gate.ctx` tables, given on first use (the tables are
    /// dropped when the request ends: `PluginVM.release`).
    func id(of request: PluginRequest) -> Int64 {
        if !request.usedContext {
            request.usedContext = true
            last &+= 1
            request.contextID = last
        }
        return request.contextID
    }
}

import LuaKit
import MoongateCore
import NIOCore

/// `gate.http.request`, `gate.sleep` and the Swift half of `gate.timer.at`: the
/// functions that wait. Each suspends the hook's coroutine and resumes it from a
/// future or a scheduled task on the VM's event loop; nothing blocks the loop, and
/// time parked here does not count against `hook_timeout`.
enum PDKAsync {
    static func register(_ pdk: PDKRegistrar, timers: @escaping (Int64, TimeAmount) -> Void) {
        let environment = pdk.environment
        pdk.register("gate.http.request", .waiting) { call, _ in
            let options: LuaValue
            do throws(LuaError) { options = try call.argument(1) } catch { return .error("gate.http.request: \(error)") }
            guard case .map = options, let url = options["url"]?.stringValue else {
                return .error("bad argument #1 to 'gate.http.request' (table with a url expected)")
            }
            let method = (options["method"]?.stringValue ?? "GET").uppercased()
            guard HTTPToken.isValid(method) else { return call.return(.nil, .string("invalid method '\(method)'")) }
            var headers: [(String, String)] = []
            if case .map(let entries)? = options["headers"] {
                for (key, value) in entries {
                    guard let name = key.stringValue, HTTPToken.isValid(name), let values = PDKHeaders.values(value),
                        values.allSatisfy(HTTPToken.isFieldValue)
                    else { return call.return(.nil, .string("invalid header \(key.stringValue.map { "'\($0)'" } ?? "name")")) }
                    headers += values.map { (name, $0) }
                }
            }
            var body: [UInt8] = []
            if case .string(let bytes)? = options["body"] { body = bytes }
            let seconds = options["timeout"]?.numberValue ?? 10
            guard seconds > 0, seconds <= 3600 else { return call.return(.nil, .string("timeout must be within (0, 3600] seconds")) }
            guard let handle = call.suspend() else {
                return .error("gate.http.request cannot wait here (inside a metamethod or iterator)")
            }
            let request = PDKHTTPRequest(
                method: method, url: url, headers: headers, body: body, timeout: .nanoseconds(Int64(seconds * 1e9)))
            environment.http.send(request, on: environment.eventLoop).whenComplete { result in
                switch result {
                case .success(let response):
                    var table: [LuaValue: LuaValue] = [:]
                    for (name, value) in response.headers where table[.string(name.lowercased())] == nil {
                        table[.string(name.lowercased())] = .string(value)
                    }
                    handle.resume(with: [
                        .map(["status": .integer(Int64(response.status)), "headers": .map(table), "body": .string(response.body)])
                    ])
                case .failure(let error):
                    handle.resume(with: [.nil, .string(String(describing: error))])
                }
            }
            return .yield
        }
        pdk.register("gate.sleep", .waiting) { call, _ in
            guard let seconds = call.number(1), seconds >= 0, seconds <= 86_400 else {
                return call.argumentError(1, "gate.sleep", expected: "seconds (0 to 86400)")
            }
            guard let handle = call.suspend() else { return .error("gate.sleep cannot wait here (inside a metamethod or iterator)") }
            environment.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) { handle.resume() }
            return .yield
        }
        // Called by the Lua half of gate.timer.at (the prelude), which keeps the function.
        pdk.register("__moongate_host.timer_schedule", .anywhere, shownAs: "gate.timer.at") { call, _ in
            guard let id = call.integer(1), let seconds = call.number(2), seconds >= 0, seconds <= 86_400 * 30 else {
                return .error("bad argument to 'gate.timer.at' (delay in seconds expected)")
            }
            timers(id, .nanoseconds(Int64(seconds * 1e9)))
            return .results(0)
        }
    }
}

import Foundation
import Logging
import LuaKit

/// The `gate` functions that need no request: JSON, base64, digests, JWT, regexes,
/// time and identifiers. Callable anywhere, including a plugin file's top level.
enum PDKUtilities {
    static func register(_ pdk: PDKRegistrar) {
        let nodeID = pdk.environment.services.nodeID
        pdk.register("gate.json.encode", .anywhere) { call, _ in
            let value: LuaValue
            do throws(LuaError) { value = try call.argument(1) } catch { return call.return(.nil, .string("\(error)")) }
            switch LuaJSON.encode(value) {
            case .success(let bytes): return call.return(.string(bytes))
            case .failure(let error): return call.return(.nil, .string(error.message))
            }
        }
        pdk.register("gate.json.decode", .anywhere) { call, _ in
            guard let bytes = call.bytes(1) else { return call.argumentError(1, "gate.json.decode", expected: "string") }
            switch LuaJSON.decode(bytes) {
            case .success(let value): return call.return(value)
            case .failure(let error): return call.return(.nil, .string(error.message))
            }
        }
        pdk.register("gate.base64.encode", .anywhere) { call, _ in
            guard let bytes = call.bytes(1) else { return call.argumentError(1, "gate.base64.encode", expected: "string") }
            return call.return(.string(LuaBase64.encode(bytes, urlSafe: isTrue(call, 2))))
        }
        pdk.register("gate.base64.decode", .anywhere) { call, _ in
            guard let bytes = call.bytes(1) else { return call.argumentError(1, "gate.base64.decode", expected: "string") }
            return call.return(LuaBase64.decode(bytes, urlSafe: isTrue(call, 2)).map { LuaValue.string($0) } ?? .nil)
        }
        pdk.register("gate.crypto.sha256", .anywhere) { call, _ in
            guard let bytes = call.bytes(1) else { return call.argumentError(1, "gate.crypto.sha256", expected: "string") }
            return call.return(.string(PDKCrypto.sha256(bytes)))
        }
        pdk.register("gate.crypto.hmac_sha256", .anywhere) { call, _ in
            guard let key = call.bytes(1) else { return call.argumentError(1, "gate.crypto.hmac_sha256", expected: "string") }
            guard let message = call.bytes(2) else { return call.argumentError(2, "gate.crypto.hmac_sha256", expected: "string") }
            return call.return(.string(PDKCrypto.hmacSHA256(key: key, message: message)))
        }
        pdk.register("gate.crypto.random_bytes", .anywhere) { call, _ in
            guard let count = call.integer(1), (0...65536).contains(count) else {
                return call.argumentError(1, "gate.crypto.random_bytes", expected: "count (0-65536)")
            }
            return call.return(.string(PDKCrypto.randomBytes(Int(count))))
        }
        pdk.register("gate.crypto.to_hex", .anywhere) { call, _ in
            guard let bytes = call.bytes(1) else { return call.argumentError(1, "gate.crypto.to_hex", expected: "string") }
            return call.return(.string(PDKCrypto.toHex(bytes)))
        }
        pdk.register("gate.jwt.decode", .anywhere) { call, _ in
            guard let token = call.bytes(1) else { return call.return(.nil, .string("invalid token")) }
            switch JWTVerifier.decode(token) {
            case .success(let parts): return call.return(parts.header, parts.claims)
            case .failure(let error): return call.return(.nil, .string(error.message))
            }
        }
        pdk.register("gate.jwt.verify", .anywhere) { call, _ in
            guard let token = call.bytes(1) else { return call.return(.nil, .string("invalid token")) }
            guard let key = call.bytes(2) else { return call.argumentError(2, "gate.jwt.verify", expected: "string key") }
            var algorithms: [String] = []
            switch try? call.argument(3) {
            case .string(let name)?: algorithms = [String(decoding: name, as: UTF8.self)]
            case .array(let names)?: algorithms = names.compactMap(\.stringValue)
            default: return call.argumentError(3, "gate.jwt.verify", expected: "list of algorithms")
            }
            switch JWTVerifier.verify(token, key: key, algorithms: algorithms) {
            case .success(let claims): return call.return(claims)
            case .failure(let error): return call.return(.nil, .string(error.message))
            }
        }
        pdk.register("gate.re.match", .anywhere) { call, _ in
            guard let subject = call.bytes(1), let pattern = call.string(2) else {
                return .error("bad arguments to 'gate.re.match' (subject and regex strings expected)")
            }
            switch PDKRegex.match(subject, pattern) {
            case .success(nil): return call.return(.nil)
            case .success(let captures?):
                var table: [LuaValue: LuaValue] = [:]
                for (index, text) in captures { table[.integer(Int64(index))] = text.map { LuaValue.string($0) } ?? .boolean(false) }
                return call.return(.map(table))
            case .failure(let error): return call.return(.nil, .string(error.message))
            }
        }
        pdk.register("gate.re.find", .anywhere) { call, _ in
            guard let subject = call.bytes(1), let pattern = call.string(2) else {
                return .error("bad arguments to 'gate.re.find' (subject and regex strings expected)")
            }
            switch PDKRegex.find(subject, pattern) {
            case .success(nil): return call.return(.nil)
            case .success(let range?): return call.return(.integer(Int64(range.from)), .integer(Int64(range.to)))
            case .failure(let error): return call.return(.nil, .string(error.message))
            }
        }
        pdk.register("gate.re.gsub", .anywhere) { call, _ in
            guard let subject = call.bytes(1), let pattern = call.string(2), let replacement = call.bytes(3) else {
                return .error("bad arguments to 'gate.re.gsub' (subject, regex and replacement strings expected)")
            }
            switch PDKRegex.gsub(subject, pattern, replacement) {
            case .success(let outcome): return call.return(.string(outcome.result), .integer(Int64(outcome.count)))
            case .failure(let error): return call.return(.nil, .string(error.message))
            }
        }
        pdk.register("gate.now", .anywhere) { call, _ in
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            return call.return(.number(Double(now.tv_sec) + Double(now.tv_nsec) / 1e9))
        }
        pdk.register("gate.uuid", .anywhere) { call, _ in call.return(string: uuid()) }
        pdk.register("gate.node.get_id", .anywhere) { call, _ in call.return(string: nodeID) }
    }

    static func isTrue(_ call: LuaCall, _ position: Int) -> Bool {
        (try? call.argument(position)) == .boolean(true)
    }

    /// A random (version 4) UUID, lowercase.
    static func uuid() -> String {
        UUID().uuidString.lowercased()
    }
}

/// `gate.log.debug|info|warn|err(...)`: the arguments joined with spaces, logged with
/// the plugin's name.
enum PDKLog {
    static func register(_ pdk: PDKRegistrar) {
        let environment = pdk.environment
        for level in ["debug", "info", "warn", "err"] {
            pdk.register("gate.log.\(level)", .anywhere) { call, context in
                var parts: [String] = []
                for position in 1...max(1, call.argumentCount) where position <= call.argumentCount {
                    parts.append(describe((try? call.argument(position)) ?? .nil))
                }
                let message = parts.joined(separator: " ")
                let plugin = context?.pluginName ?? ""
                let record = PluginLogRecord(level: level, plugin: plugin, message: message)
                environment.logSink?(record)
                let logger = environment.services.logger
                let metadata: Logging.Logger.Metadata = ["plugin": "\(plugin)"]
                switch level {
                case "debug": logger.debug("\(message)", metadata: metadata)
                case "info": logger.info("\(message)", metadata: metadata)
                case "warn": logger.warning("\(message)", metadata: metadata)
                default: logger.error("\(message)", metadata: metadata)
                }
                return .results(0)
            }
        }
    }

    static func describe(_ value: LuaValue) -> String {
        switch value {
        case .nil: return "nil"
        case .boolean(let flag): return flag ? "true" : "false"
        case .integer(let integer): return String(integer)
        case .number(let number): return String(number)
        case .string(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .array, .map:
            if case .success(let json) = LuaJSON.encode(value) { return String(decoding: json, as: UTF8.self) }
            return "table"
        case .other(let typeName): return typeName
        }
    }
}

/// `gate.shared.dict(name)`: the Swift half of the dict methods (the Lua half, in
/// the prelude, builds the dict objects and calls these with the dict's name).
enum PDKShared {
    static func register(_ pdk: PDKRegistrar) {
        let store = pdk.environment.services.sharedDicts
        pdk.register("__moongate_host.dict_get", .anywhere) { call, _ in
            guard let name = call.string(1), let key = call.text(2) else { return .error("dict:get(key): key must be a string") }
            return call.return(store.dict(name).get(key).map(luaValue) ?? .nil)
        }
        pdk.register("__moongate_host.dict_set", .anywhere) { call, _ in
            guard let name = call.string(1), let key = call.text(2) else { return .error("dict:set(key, value): key must be a string") }
            let value: SharedValue?
            switch sharedValue(call, 3) {
            case .success(let converted): value = converted
            case .failure(let problem): return .error("dict:set: \(problem.message)")
            }
            store.dict(name).set(key, value, ttl: call.number(4))
            return call.return(.boolean(true))
        }
        pdk.register("__moongate_host.dict_add", .anywhere) { call, _ in
            guard let name = call.string(1), let key = call.text(2) else { return .error("dict:add(key, value): key must be a string") }
            guard case .success(let value?) = sharedValue(call, 3) else {
                return .error("dict:add: the value must be a string, number or boolean")
            }
            if store.dict(name).add(key, value, ttl: call.number(4)) { return call.return(.boolean(true)) }
            return call.return(.boolean(false), .string("exists"))
        }
        pdk.register("__moongate_host.dict_incr", .anywhere) { call, _ in
            guard let name = call.string(1), let key = call.text(2) else { return .error("dict:incr(key, delta): key must be a string") }
            guard let delta = number(call, 3) else { return .error("dict:incr: delta must be a number") }
            let initial = call.argumentCount >= 4 && call.typeName(4) != "nil" ? number(call, 4) : nil
            if call.argumentCount >= 4, call.typeName(4) != "nil", initial == nil { return .error("dict:incr: init must be a number") }
            switch store.dict(name).incr(key, by: delta, initial: initial, ttl: call.number(5)) {
            case .success(let value): return call.return(luaValue(value))
            case .failure(let error): return call.return(.nil, .string(error.description))
            }
        }
        pdk.register("__moongate_host.dict_delete", .anywhere) { call, _ in
            guard let name = call.string(1), let key = call.text(2) else { return .error("dict:delete(key): key must be a string") }
            store.dict(name).delete(key)
            return .results(0)
        }
    }

    static func number(_ call: LuaCall, _ position: Int) -> SharedNumber? {
        if let integer = call.integer(position) { return .integer(integer) }
        if let number = call.number(position) { return .number(number) }
        return nil
    }

    static func sharedValue(_ call: LuaCall, _ position: Int) -> Result<SharedValue?, ScriptProblem> {
        switch try? call.argument(position) {
        case .nil?, nil: return .success(nil)
        case .string(let bytes)?: return .success(.string(bytes))
        case .integer(let integer)?: return .success(.integer(integer))
        case .number(let number)?: return .success(.number(number))
        case .boolean(let flag)?: return .success(.boolean(flag))
        default: return .failure(ScriptProblem("only strings, numbers and booleans can be stored (tables belong to one VM)"))
        }
    }

    static func luaValue(_ value: SharedValue) -> LuaValue {
        switch value {
        case .string(let bytes): return .string(bytes)
        case .integer(let integer): return .integer(integer)
        case .number(let number): return .number(number)
        case .boolean(let flag): return .boolean(flag)
        }
    }
}

/// A problem found in what a script passed or declared, as the message it gets.
struct ScriptProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

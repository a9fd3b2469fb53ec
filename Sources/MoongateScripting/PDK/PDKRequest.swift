import LuaKit
import MoongateCore
import NIOHTTP1

/// `gate.request`: the request as the client sent it (SPEC §3). Header names are
/// case-insensitive; changes made through `gate.service.request` are not visible
/// here, as in Kong.
enum PDKRequest {
    static func register(_ pdk: PDKRegistrar) {
        pdk.registerRequest("gate.request.get_method", .request) { call, request in call.return(string: request.method) }
        pdk.registerRequest("gate.request.get_scheme", .request) { call, request in call.return(string: request.scheme) }
        pdk.registerRequest("gate.request.get_host", .request) { call, request in call.return(string: request.host) }
        pdk.registerRequest("gate.request.get_port", .request) { call, request in call.return(.integer(Int64(request.port))) }
        pdk.registerRequest("gate.request.get_path", .request) { call, request in call.return(string: request.path) }
        pdk.registerRequest("gate.request.get_raw_query", .request) { call, request in call.return(string: request.rawQuery) }
        pdk.registerRequest("gate.request.get_http_version", .request) { call, request in
            call.return(.number(Double(request.httpVersion.major) + Double(request.httpVersion.minor) / 10))
        }
        // get_query is assembled in Lua (the prelude) from a flat name/value list.
        pdk.registerRequest("__moongate_host.query_pairs", .request, shownAs: "gate.request.get_query") { call, request in
            if request.rawQuery.isEmpty { return call.return(.array([])) }
            return call.return(
                .array(
                    QueryString.parse(request.rawQuery).flatMap { name, value in
                        [LuaValue.string(name), value.map { LuaValue.string($0) } ?? .boolean(true)]
                    }))
        }
        pdk.registerRequest("gate.request.get_query_arg", .request) { call, request in
            guard let name = call.text(1) else { return call.argumentError(1, "gate.request.get_query_arg", expected: "string") }
            for (key, value) in QueryString.parse(request.rawQuery) where key == name {
                return call.return(value.map { LuaValue.string($0) } ?? .boolean(true))
            }
            return call.return(.nil)
        }
        pdk.registerRequest("gate.request.get_header", .request) { call, request in
            guard let name = call.text(1) else { return call.argumentError(1, "gate.request.get_header", expected: "string") }
            return call.return(string: PDKHeaders.lookup(name, in: request.headers).first)
        }
        pdk.registerRequest("gate.request.get_header_count", .request) { call, request in
            guard let name = call.text(1) else { return call.argumentError(1, "gate.request.get_header_count", expected: "string") }
            return call.return(.integer(Int64(PDKHeaders.lookup(name, in: request.headers).count)))
        }
        pdk.registerRequest("gate.request.get_headers", .request) { call, request in
            call.returnTable(groupingLowercased: request.headers)
        }
        pdk.registerRequest("gate.request.get_body", [.rewrite, .access]) { call, request in
            if let body = request.body { return call.return(.string(body)) }
            if !request.bodyRequested {
                request.bodyRequested = true
                request.requestBody?()
                // A body already complete arrives at once.
                if let body = request.body { return call.return(.string(body)) }
            }
            guard let handle = call.suspend() else {
                return .error("gate.request.get_body cannot wait here (inside a metamethod or iterator)")
            }
            request.bodyWaiters.append { bytes in handle.resume(with: [.string(bytes)]) }
            return .yield
        }
    }
}

/// Header tables for Lua: lowercase names; a repeated header is an array of values.
enum PDKHeaders {
    static func table(_ headers: HTTPHeaders) -> LuaValue {
        var entries: [LuaValue: LuaValue] = [:]
        for (name, value) in headers {
            let key = LuaValue.string(name.lowercased())
            switch entries[key] {
            case nil: entries[key] = .string(value)
            case .array(var values)?:
                values.append(.string(value))
                entries[key] = .array(values)
            case let first?:
                entries[key] = .array([first, .string(value)])
            }
        }
        return .map(entries)
    }

    /// The first value of the request fields called `name` (case-insensitive), and how
    /// many there are. Lua style: when none is called `name`, underscores stand for
    /// dashes, as in Kong (`get_header("x_api_key")`).
    static func lookup(_ name: String, in headers: HTTPHeaders) -> (first: String?, count: Int) {
        let found = fields(named: name, in: headers)
        guard found.count == 0, name.utf8.contains(UInt8(ascii: "_")) else { return found }
        return fields(named: dashed(name), in: headers)
    }

    private static func fields(named name: String, in headers: HTTPHeaders) -> (first: String?, count: Int) {
        var first: String?
        var count = 0
        for (field, value) in headers where field.equalsIgnoringASCIICase(name) {
            if first == nil { first = value }
            count += 1
        }
        return (first, count)
    }

    static func dashed(_ name: String) -> String {
        String(name.map { $0 == "_" ? "-" : $0 })
    }

    /// Values of a header table entry: a string, a number, or an array of them.
    static func values(_ value: LuaValue) -> [String]? {
        switch value {
        case .string(let bytes): return [String(decoding: bytes, as: UTF8.self)]
        case .integer(let integer): return [String(integer)]
        case .number(let number): return [String(number)]
        case .array(let items):
            let strings = items.compactMap { values($0)?.first }
            return strings.count == items.count ? strings : nil
        default: return nil
        }
    }
}

/// `application/x-www-form-urlencoded` query strings, as Kong reads them.
enum QueryString {
    /// Pairs in order; a bare `flag` has a nil value.
    static func parse(_ raw: String) -> [(String, [UInt8]?)] {
        guard !raw.isEmpty else { return [] }
        return raw.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: "=") {
                let name = String(decoding: decode(pair[..<equals]), as: UTF8.self)
                return (name, decode(pair[pair.index(after: equals)...]))
            }
            return (String(decoding: decode(pair), as: UTF8.self), nil)
        }
    }

    static func decode(_ text: Substring) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var bytes = text.utf8.makeIterator()
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                if let high = bytes.next(), let low = bytes.next(), let value = UInt8(String([Character(Unicode.Scalar(high)), Character(Unicode.Scalar(low))]), radix: 16) {
                    out.append(value)
                } else {
                    out.append(byte)
                }
            default: out.append(byte)
            }
        }
        return out
    }

    /// Encodes a Lua table of arguments (`set_query`): values may be strings, numbers,
    /// `true` (a bare flag) or arrays of them. Sorted by name for a stable result.
    static func encode(_ table: LuaValue) -> String? {
        guard case .map(let entries) = table else {
            if case .array(let items) = table, items.isEmpty { return "" }
            return nil
        }
        var parts: [String] = []
        for (key, value) in entries.sorted(by: { ($0.key.stringValue ?? "") < ($1.key.stringValue ?? "") }) {
            guard let name = key.stringValue else { return nil }
            let items: [LuaValue]
            if case .array(let list) = value { items = list } else { items = [value] }
            for item in items {
                switch item {
                case .boolean(true): parts.append(escape(name))
                case .boolean(false): continue
                default:
                    guard let text = PDKHeaders.values(item)?.first else { return nil }
                    parts.append("\(escape(name))=\(escape(text))")
                }
            }
        }
        return parts.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}

import MoongateCore
import NIOHTTP1

/// The value `consistent-hash` hashes for a request (`hash_on`). A request that lacks
/// the header, cookie or query argument falls back to its client address, as Kong's
/// `hash_fallback: ip` does, so it still sticks to one target.
enum UpstreamHashKey {
    static func value(
        for key: HashKey, headers: HTTPHeaders, path: String, rawQuery: String?, clientIP: String
    ) -> UInt64 {
        switch key {
        case .ip:
            return RequestHash.hash(clientIP.utf8)
        case .path:
            return RequestHash.hash(path.utf8)
        case .header(let name):
            if let value = headers.first(name: name) { return RequestHash.hash(value.utf8) }
        case .cookie(let name):
            if let value = cookie(name, in: headers) { return RequestHash.hash(value.utf8) }
        case .queryArgument(let name):
            if let value = queryArgument(name, in: rawQuery) { return RequestHash.hash(value.utf8) }
        }
        return RequestHash.hash(clientIP.utf8)
    }

    /// The first cookie named `name` among the Cookie headers (RFC 6265 §5.4).
    static func cookie(_ name: String, in headers: HTTPHeaders) -> Substring? {
        for header in headers[canonicalForm: "cookie"] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name else { continue }
                return trimmed[trimmed.index(after: equals)...]
            }
        }
        return nil
    }

    /// The raw (undecoded) value of the first `name=` argument of the query.
    static func queryArgument(_ name: String, in rawQuery: String?) -> Substring? {
        guard let rawQuery else { return nil }
        for pair in rawQuery.split(separator: "&") {
            if let equals = pair.firstIndex(of: "=") {
                if pair[..<equals] == name { return pair[pair.index(after: equals)...] }
            } else if pair == name {
                return pair[pair.endIndex...]
            }
        }
        return nil
    }
}

/// Canonical form of a request's host (the `Host` header or the authority), so that
/// `API.Example.com:8080` and `api.example.com.` select the same routes as
/// `api.example.com`.
///
/// Host names are case-insensitive (RFC 9110 §4.2.3), the port does not take part in
/// routing, and a trailing dot only marks a name as fully qualified. Bracketed IPv6
/// literals keep their brackets (`[::1]:8000` → `[::1]`); a bare IPv6 address, which
/// has several colons, is left whole rather than mistaken for `host:port`.
public enum HostNormalizer {
    /// Lowercased, without `:port` and without a trailing dot. Never fails: a host
    /// that is not a valid name simply matches no host-bound route.
    public static func normalize(_ rawHost: Substring) -> String {
        let host = withoutPortAndTrailingDot(rawHost)
        guard host.utf8.contains(where: isASCIIUppercase) else { return String(host) }
        return String(decoding: host.utf8.map { isASCIIUppercase($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// Lowercased, without `:port` and without a trailing dot.
    public static func normalize(_ rawHost: String) -> String {
        normalize(rawHost[...])
    }

    /// Works on UTF-8 bytes: Character-wise scanning was a visible cost per request.
    private static func withoutPortAndTrailingDot(_ host: Substring) -> Substring {
        let bytes = host.utf8
        if bytes.first == UInt8(ascii: "[") {
            if let closing = bytes.firstIndex(of: UInt8(ascii: "]")) { return host[...closing] }
            return host
        }
        var end = bytes.endIndex
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
            bytes[bytes.index(after: colon)...].firstIndex(of: UInt8(ascii: ":")) == nil
        {
            end = colon
        }
        if end > bytes.startIndex, bytes[bytes.index(before: end)] == UInt8(ascii: ".") { end = bytes.index(before: end) }
        return host[..<end]
    }

    private static func isASCIIUppercase(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
    }
}

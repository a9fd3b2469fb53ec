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
        // One pass over the bytes through a pointer (native strings are contiguous):
        // this runs for every request, and String.Index arithmetic showed in profiles.
        rawHost.utf8.withContiguousStorageIfAvailable { normalize(bytes: $0) } ?? normalize(bytes: Array(rawHost.utf8))
    }

    /// Lowercased, without `:port` and without a trailing dot.
    public static func normalize(_ rawHost: String) -> String {
        normalize(rawHost[...])
    }

    private static func normalize(bytes: UnsafeBufferPointer<UInt8>) -> String {
        let host = UnsafeBufferPointer(rebasing: bytes[withoutPortAndTrailingDot(bytes)])
        guard host.contains(where: isASCIIUppercase) else { return String(decoding: host, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: host.count) { out in
            for index in 0..<host.count { out[index] = isASCIIUppercase(host[index]) ? host[index] + 0x20 : host[index] }
            return host.count
        }
    }

    private static func normalize(bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { normalize(bytes: $0) }
    }

    /// The range of the host without `:port` and a trailing dot; a bracketed IPv6
    /// literal keeps its brackets, a bare one (several colons) is left whole.
    private static func withoutPortAndTrailingDot(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        if bytes.first == UInt8(ascii: "[") {
            if let closing = bytes.firstIndex(of: UInt8(ascii: "]")) { return 0..<(closing + 1) }
            return 0..<bytes.count
        }
        var end = bytes.count
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes[(colon + 1)...].firstIndex(of: UInt8(ascii: ":")) == nil {
            end = colon
        }
        if end > 0, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        return 0..<end
    }

    private static func isASCIIUppercase(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
    }
}

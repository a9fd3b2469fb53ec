/// Canonical form of a request path, computed once per request so that routing, plugins
/// and the upstream all see the same path (SPEC §2: "the upstream receives the
/// normalised path").
///
/// Without it, `/admin`, `/%61dmin` and `/public/../admin` would be different strings
/// to the router but the same resource to the upstream, and a prefix route guarding
/// `/admin` could be bypassed. The steps, in this order:
///
/// 1. Percent-encodings of unreserved characters (`ALPHA DIGIT - . _ ~`) are decoded;
///    every other percent-encoding is kept, with its hex digits uppercased, so `%2F`
///    stays a byte inside a segment and never becomes a separator.
/// 2. Bytes that may not appear raw in a path (space, `"`, `<`, `\`, non-ASCII, …) are
///    percent-encoded, as browsers do; the result is always ASCII.
/// 3. Empty segments are merged (`//` → `/`), as nginx's `merge_slashes` does.
/// 4. Dot segments are removed (RFC 3986 §5.2.4). Decoding happens first, so
///    `/a/%2e%2e/b` is `/b`: an encoded `..` cannot survive to climb above a prefix
///    at the upstream.
///
/// Input that no server should guess about is refused (`nil`, answered with 400): a
/// path not starting with `/`, a `%` not followed by two hex digits, and control
/// characters.
public enum PathNormalizer {
    /// The normalised form of `rawPath` (the request-target's path, query already
    /// split off), or `nil` when it is invalid.
    public static func normalize(_ rawPath: Substring) -> String? {
        var rawPath = rawPath
        return rawPath.withUTF8 { bytes -> String? in
            guard bytes.first == UInt8(ascii: "/") else { return nil }
            if isAlreadyNormal(bytes) { return String(decoding: bytes, as: UTF8.self) }
            guard let canonical = canonicalBytes(bytes) else { return nil }
            return String(decoding: removingDotAndEmptySegments(canonical), as: UTF8.self)
        }
    }

    /// The normalised form of `rawPath`, or `nil` when it is invalid.
    public static func normalize(_ rawPath: String) -> String? {
        normalize(rawPath[...])
    }

    /// True for the common case, a path that every step would leave unchanged: only
    /// bytes allowed raw, no `%`, no `//` and no segment starting with `.`. It lets most
    /// requests skip the copying passes.
    private static func isAlreadyNormal(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var previous: UInt8 = 0
        for byte in bytes {
            guard PathByte.isAllowedRaw(byte) else { return false }
            if previous == UInt8(ascii: "/") && (byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")) {
                return false
            }
            previous = byte
        }
        return true
    }

    /// Steps 1 and 2: decodes unreserved percent-encodings, uppercases the others and
    /// encodes bytes not allowed raw. `nil` for a malformed `%` or a control character.
    private static func canonicalBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count,
                    let high = PathByte.hexValue(bytes[index + 1]),
                    let low = PathByte.hexValue(bytes[index + 2])
                else { return nil }
                let decoded = high << 4 | low
                if PathByte.isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    PathByte.appendPercentEncoded(decoded, to: &output)
                }
                index += 3
                continue
            }
            if PathByte.isControl(byte) { return nil }
            if PathByte.isAllowedRaw(byte) {
                output.append(byte)
            } else {
                PathByte.appendPercentEncoded(byte, to: &output)
            }
            index += 1
        }
        return output
    }

    /// Steps 3 and 4 on a path that starts with `/`. A trailing `/`, `/.` or `/..`
    /// leaves the result ending in `/`, as RFC 3986 §5.2.4 does (`/a/b/..` is `/a/`).
    private static func removingDotAndEmptySegments(_ path: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(path.count)
        // Where each kept segment's leading "/" sits in `output`, so ".." can drop the last one.
        var keptSegmentStarts: [Int] = []
        var endsAsDirectory = false
        var start = 1
        var end = 0
        repeat {
            end = path[start...].firstIndex(of: UInt8(ascii: "/")) ?? path.count
            let segment = path[start..<end]
            let dots = segment.allSatisfy { $0 == UInt8(ascii: ".") } ? segment.count : 0
            if segment.isEmpty || dots == 1 {
                endsAsDirectory = true
            } else if dots == 2 {
                if let last = keptSegmentStarts.popLast() { output.removeSubrange(last...) }
                endsAsDirectory = true
            } else {
                keptSegmentStarts.append(output.count)
                output.append(UInt8(ascii: "/"))
                output.append(contentsOf: segment)
                endsAsDirectory = false
            }
            start = end + 1
        } while end < path.count
        if output.isEmpty || endsAsDirectory { output.append(UInt8(ascii: "/")) }
        return output
    }
}

/// Byte classes of RFC 3986's path grammar, as `PathNormalizer` needs them.
private enum PathByte {
    /// `ALPHA DIGIT - . _ ~`: percent-encoding them changes nothing (RFC 3986 §2.3).
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// `pchar` and `/` without `%`: unreserved, sub-delims, `:` and `@`. Reserved
    /// characters are kept as sent, since encoding or decoding them changes meaning.
    static func isAllowedRaw(_ byte: UInt8) -> Bool {
        if isUnreserved(byte) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    static func isControl(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Appends `%XY` with uppercase hex digits, the form RFC 3986 §2.1 recommends.
    static func appendPercentEncoded(_ byte: UInt8, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "%"))
        output.append(uppercaseHexDigit(byte >> 4))
        output.append(uppercaseHexDigit(byte & 0x0F))
    }

    private static func uppercaseHexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}

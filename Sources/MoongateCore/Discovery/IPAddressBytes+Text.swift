/// Text for addresses read off the wire, in the forms `IPAddressBytes.parse` reads back,
/// so an address from DNS and the same address from configuration compare equal.
extension IPAddressBytes {
    /// Dotted-quad text of 4 bytes.
    public static func ipv4Text(_ bytes: some Collection<UInt8>) -> String {
        precondition(bytes.count == 4, "an IPv4 address has 4 bytes")
        return bytes.map { String($0) }.joined(separator: ".")
    }

    /// RFC 5952 text of 16 bytes: lower-case hex without leading zeros, the longest run
    /// of two or more zero groups (the first, on a tie) shortened to "::".
    public static func ipv6Text(_ bytes: some Collection<UInt8>) -> String {
        precondition(bytes.count == 16, "an IPv6 address has 16 bytes")
        let octets = Array(bytes)
        let groups = (0..<8).map { UInt16(octets[2 * $0]) << 8 | UInt16(octets[2 * $0 + 1]) }
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > bestLength {
                bestStart = index
                bestLength = end - index
            }
            index = end
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// The canonical text of a parsed address (`parse`'s result).
    public static func text(_ address: (bytes: [UInt8], isIPv4: Bool)) -> String {
        address.isIPv4 ? ipv4Text(address.bytes[12...]) : ipv6Text(address.bytes)
    }
}

extension StringProtocol {
    /// ASCII case-insensitive equality (header names are ASCII tokens). Inlinable: it
    /// runs for every header of every proxied message, and is specialised at each use.
    @inlinable
    public func equalsIgnoringASCIICase<Other: StringProtocol>(_ other: Other) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        // Native strings are contiguous: compared through pointers (zipping the two
        // UTF-8 views showed in profiles).
        let compared = a.withContiguousStorageIfAvailable { x in
            b.withContiguousStorageIfAvailable { y in
                for index in 0..<x.count where !Self.sameIgnoringASCIICase(x[index], y[index]) { return false }
                return true
            }
        }
        if let compared, let result = compared { return result }
        for (x, y) in zip(a, b) where !Self.sameIgnoringASCIICase(x, y) { return false }
        return true
    }

    @inlinable @inline(__always)
    static func sameIgnoringASCIICase(_ x: UInt8, _ y: UInt8) -> Bool {
        x == y || ((x | 0x20) == (y | 0x20) && (x | 0x20) >= UInt8(ascii: "a") && (x | 0x20) <= UInt8(ascii: "z"))
    }
}

/// A hash table from (namespace, byte string) to an `Int`, filled once when a
/// configuration is compiled and then only read: the router's host map, exact-path
/// maps and prefix-trie edges.
///
/// It exists because the router looks up several keys per request (host, path, one
/// edge per path segment): `Dictionary<String, _>` measured about 100 ns per lookup on
/// our build machines (200 ns with `Substring` keys), most of it in seeded SipHash;
/// this table hashes the request's UTF-8 in place with FNV-1a and compares bytes
/// directly, in about half of that, and less for misses. The namespace (a trie node
/// number, say) lets one table serve many small maps.
///
/// FNV-1a is not keyed, which is safe here: requests only read the table, so a crafted
/// key can at worst probe as far as the longest chain the configuration itself built.
struct ByteKeyTable: Sendable {
    /// One slot of the open-addressing array, holding its entry inline so that a miss
    /// reads one cache line and a hit two (slot, then key bytes).
    private struct Slot: Sendable {
        static let empty = Slot(hash: 0, namespace: 0, keyStart: 0, keyCount: 0, value: -1)

        let hash: UInt64
        let namespace: Int32
        let keyStart: Int32
        let keyCount: Int32
        /// -1 marks an empty slot.
        let value: Int32
    }

    /// A power of two in size, at most half full.
    private var slots = [Slot](repeating: .empty, count: 8)
    /// All keys, concatenated; slots point into it.
    private var keyBytes: [UInt8] = []
    private var count = 0

    var isEmpty: Bool { count == 0 }

    /// The value stored for the key, or `nil`.
    func value(namespace: Int, key: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = ByteKeyTable.hash(namespace: namespace, key: key)
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot.value < 0 { return nil }
            if slot.hash == hash && Int(slot.namespace) == namespace && keyBytesEqual(slot, key) { return Int(slot.value) }
            index = (index + 1) & mask
        }
    }

    /// The value stored for the key; when there is none, stores and returns `newValue`.
    mutating func value(namespace: Int, key: some Collection<UInt8>, orInsert newValue: Int) -> Int {
        let key = Array(key)
        if let existing = key.withUnsafeBufferPointer({ value(namespace: namespace, key: $0) }) { return existing }
        precondition(
            (0...Int(Int32.max)).contains(newValue) && (0...Int(Int32.max)).contains(namespace)
                && keyBytes.count + key.count <= Int(Int32.max),
            "ByteKeyTable holds 32-bit values, namespaces and key offsets")
        let hash = key.withUnsafeBufferPointer { ByteKeyTable.hash(namespace: namespace, key: $0) }
        let slot = Slot(
            hash: hash, namespace: Int32(namespace), keyStart: Int32(keyBytes.count), keyCount: Int32(key.count),
            value: Int32(newValue))
        keyBytes.append(contentsOf: key)
        count += 1
        if count * 2 > slots.count {
            let occupied = slots.filter { $0.value >= 0 }
            slots = [Slot](repeating: .empty, count: slots.count * 2)
            for old in occupied { place(old) }
        }
        place(slot)
        return newValue
    }

    private func keyBytesEqual(_ slot: Slot, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Int(slot.keyCount) == key.count else { return false }
        return keyBytes.withUnsafeBufferPointer { stored in
            let start = Int(slot.keyStart)
            for offset in 0..<key.count where stored[start + offset] != key[offset] { return false }
            return true
        }
    }

    private mutating func place(_ slot: Slot) {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: slot.hash) & mask
        while slots[index].value >= 0 { index = (index + 1) & mask }
        slots[index] = slot
    }

    /// FNV-1a over the key, started from the namespace, with a final mix so that the
    /// low bits used for the slot depend on every byte.
    private static func hash(namespace: Int, key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ (UInt64(truncatingIfNeeded: namespace) &* 0x9E37_79B9_7F4A_7C15)
        for byte in key {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        hash ^= hash >> 32
        hash &*= 0xD6E8_FEB8_6659_FD93
        return hash ^ (hash >> 32)
    }
}

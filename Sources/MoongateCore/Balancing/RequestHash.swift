/// Turns a request's `hash_on` value (a client address, a header, a cookie, a path or a
/// query argument) into the 64-bit key that `ConsistentHash` looks up on its ring.
///
/// FNV-1a reads any byte sequence in one pass with one multiply per byte; its high bits
/// mix poorly for short, similar keys ("user-1", "user-2"), and the ring is ordered by
/// the whole word, so the result goes through MurmurHash3's 64-bit finalizer, which
/// makes every output bit depend on every input bit. Not keyed: a client can choose
/// which target its key lands on, which it could do anyway by choosing its key.
public enum RequestHash {
    @inlinable
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return finalize(hash)
    }

    /// MurmurHash3's `fmix64`.
    @inlinable
    static func finalize(_ value: UInt64) -> UInt64 {
        var mixed = value
        mixed = (mixed ^ (mixed >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        mixed = (mixed ^ (mixed >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return mixed ^ (mixed >> 33)
    }
}

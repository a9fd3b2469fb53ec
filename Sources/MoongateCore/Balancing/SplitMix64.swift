/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): one addition and a three-step mix per number, passes BigCrush, and its
/// whole state is one word, so each balancer owns one and a pick never touches the
/// system generator (a syscall or a locked buffer) or shares state with another loop.
///
/// Not for anything secret: the sequence is predictable from one output.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A number in `0..<bound` by Lemire's multiply-shift: no division, and a bias below
    /// `bound / 2^64`, far under anything a balancer could notice.
    mutating func next(below bound: Int) -> Int {
        precondition(bound > 0, "empty range")
        return Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Two different numbers in `0..<bound` (`bound >= 2`), each uniform: the two
    /// candidates of a power-of-two-choices pick.
    mutating func distinctPair(below bound: Int) -> (Int, Int) {
        let first = next(below: bound)
        var second = next(below: bound - 1)
        if second >= first { second += 1 }
        return (first, second)
    }
}

import LuaKit

/// The inclusive bounds of a `between = {min, max}` constraint.
///
/// Bounds and values keep their Lua kind (integer or float) and are compared exactly,
/// so integers beyond 2^53 are not rounded through `Double` on the way.
struct NumericRange: Sendable, Equatable {
    let lower: LuaValue
    let upper: LuaValue

    func contains(_ value: LuaValue) -> Bool {
        guard let belowLower = NumericOrder.compare(value, lower), let aboveUpper = NumericOrder.compare(value, upper) else {
            return false
        }
        return belowLower >= 0 && aboveUpper <= 0
    }
}

/// Exact ordering of Lua numbers, integer or float, as Lua's own comparison operators do it.
enum NumericOrder {
    /// -1, 0 or 1; nil when either side is not a number or is NaN.
    static func compare(_ lhs: LuaValue, _ rhs: LuaValue) -> Int? {
        switch (lhs, rhs) {
        case (.integer(let left), .integer(let right)):
            return left < right ? -1 : (left == right ? 0 : 1)
        case (.number(let left), .number(let right)):
            guard !left.isNaN, !right.isNaN else { return nil }
            return left < right ? -1 : (left == right ? 0 : 1)
        case (.integer(let left), .number(let right)):
            return compare(integer: left, float: right)
        case (.number(let left), .integer(let right)):
            return compare(integer: right, float: left).map { -$0 }
        default:
            return nil
        }
    }

    private static func compare(integer: Int64, float: Double) -> Int? {
        if float.isNaN { return nil }
        // 2^63 is exact as a Double; every Int64 is below it and at or above -2^63.
        if float >= 9_223_372_036_854_775_808.0 { return -1 }
        if float < -9_223_372_036_854_775_808.0 { return 1 }
        let whole = float.rounded(.down)
        let wholeInteger = Int64(whole)
        if integer != wholeInteger { return integer < wholeInteger ? -1 : 1 }
        return float > whole ? -1 : 0
    }
}

/// A value stored in a `gate.shared` dictionary: the Lua scalars that can cross
/// between VMs (tables and functions belong to one VM and cannot).
public enum SharedValue: Sendable, Equatable {
    case string([UInt8])
    case integer(Int64)
    case number(Double)
    case boolean(Bool)
}

/// A number given to `incr`, kept as Lua gave it so integer counters stay integers.
public enum SharedNumber: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    case integer(Int64)
    case number(Double)

    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }

    /// The value as stored, for a counter created by `incr`.
    var sharedValue: SharedValue {
        switch self {
        case .integer(let value): .integer(value)
        case .number(let value): .number(value)
        }
    }

    /// The sum as Lua 5.4 computes it: integers wrap around, anything with a float is a float.
    func adding(_ other: SharedNumber) -> SharedNumber {
        switch (self, other) {
        case (.integer(let left), .integer(let right)): .integer(left &+ right)
        case (.integer(let left), .number(let right)): .number(Double(left) + right)
        case (.number(let left), .integer(let right)): .number(left + Double(right))
        case (.number(let left), .number(let right)): .number(left + right)
        }
    }
}

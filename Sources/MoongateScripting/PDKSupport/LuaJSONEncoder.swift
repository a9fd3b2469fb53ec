import LuaKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a `LuaValue` as JSON with lua-cjson's rules (its defaults, as Kong ships it):
///
/// - `.array` is a JSON array; an empty `.array` or `.map` is `{}` (cjson cannot tell
///   an empty Lua table's intent and picks an object).
/// - A `.map` whose keys are all positive integers is a Lua array with holes: it is
///   written as an array with `null` in the holes, unless it is excessively sparse
///   (highest index above 10 and above twice the number of entries), which is an error.
/// - Any other `.map` is an object; number keys become their decimal text, keys of other
///   types are an error. Keys are sorted by their bytes so output is reproducible.
/// - Integers print in full, doubles with `%.14g`; NaN and infinities are an error.
/// - Strings escape `"`, `\`, `/` and control characters; other bytes, including ones
///   that are not UTF-8, are copied as they are.
struct LuaJSONEncoder {
    /// cjson's `encode_sparse_safe`: arrays this short are never considered too sparse.
    private static let sparseSafeLength: Int64 = 10
    /// cjson's `encode_sparse_ratio`.
    private static let sparseRatio: Int64 = 2

    private(set) var output: [UInt8] = []

    /// Appends `value`; `depth` counts the containers already open around it.
    mutating func append(_ value: LuaValue, depth: Int) throws(LuaJSONError) {
        switch value {
        case .nil:
            output.append(contentsOf: "null".utf8)
        case .boolean(let flag):
            output.append(contentsOf: flag ? "true".utf8 : "false".utf8)
        case .integer(let integer):
            appendInteger(integer)
        case .number(let number):
            try appendNumber(number)
        case .string(let bytes):
            appendString(bytes)
        case .array(let elements):
            try checkDepth(depth)
            try appendArray(elements, depth: depth)
        case .map(let entries):
            try checkDepth(depth)
            if let elements = try Self.sequenceElements(of: entries) {
                try appendArray(elements, depth: depth)
            } else {
                try appendObject(entries, depth: depth)
            }
        case .other(let typeName):
            throw LuaJSONError(encoding: "cannot encode a \(typeName)")
        }
    }

    private func checkDepth(_ depth: Int) throws(LuaJSONError) {
        guard depth < LuaJSON.maxDepth else {
            throw LuaJSONError(encoding: "cannot encode tables nested deeper than \(LuaJSON.maxDepth) levels (or a cycle)")
        }
    }

    private mutating func appendArray(_ elements: [LuaValue], depth: Int) throws(LuaJSONError) {
        if elements.isEmpty {
            output.append(contentsOf: "{}".utf8)
            return
        }
        output.append(UInt8(ascii: "["))
        for (offset, element) in elements.enumerated() {
            if offset > 0 { output.append(UInt8(ascii: ",")) }
            try append(element, depth: depth + 1)
        }
        output.append(UInt8(ascii: "]"))
    }

    private mutating func appendObject(_ entries: [LuaValue: LuaValue], depth: Int) throws(LuaJSONError) {
        var members: [(key: [UInt8], value: LuaValue)] = []
        members.reserveCapacity(entries.count)
        for (key, value) in entries {
            members.append((try Self.objectKey(key), value))
        }
        members.sort { $0.key.lexicographicallyPrecedes($1.key) }
        output.append(UInt8(ascii: "{"))
        for (offset, member) in members.enumerated() {
            if offset > 0 { output.append(UInt8(ascii: ",")) }
            appendString(member.key)
            output.append(UInt8(ascii: ":"))
            try append(member.value, depth: depth + 1)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// The elements of a map that cjson would write as an array (all keys positive
    /// integers), holes as `.nil`; nil when it is an object.
    private static func sequenceElements(of entries: [LuaValue: LuaValue]) throws(LuaJSONError) -> [LuaValue]? {
        guard !entries.isEmpty else { return nil }
        var highestIndex: Int64 = 0
        for key in entries.keys {
            guard let index = positiveIntegerIndex(key) else { return nil }
            highestIndex = max(highestIndex, index)
        }
        let count = Int64(entries.count)
        if highestIndex > sparseSafeLength, highestIndex > count * sparseRatio {
            throw LuaJSONError(encoding: "cannot encode sparse array (highest index \(highestIndex), \(count) entries)")
        }
        var elements = [LuaValue](repeating: .nil, count: Int(highestIndex))
        for (key, value) in entries {
            if let index = positiveIntegerIndex(key) { elements[Int(index) - 1] = value }
        }
        return elements
    }

    /// A key Lua would store as the array index n >= 1 (floats with an integral value
    /// count, as they do in cjson).
    private static func positiveIntegerIndex(_ key: LuaValue) -> Int64? {
        switch key {
        case .integer(let index) where index >= 1:
            return index
        case .number(let number) where number >= 1 && number < 0x1p63 && number.rounded(.towardZero) == number:
            return Int64(number)
        default:
            return nil
        }
    }

    private static func objectKey(_ key: LuaValue) throws(LuaJSONError) -> [UInt8] {
        switch key {
        case .string(let bytes):
            return bytes
        case .integer(let integer):
            return Array(String(integer).utf8)
        case .number(let number) where number.isFinite:
            return formatDouble(number)
        case .number:
            throw LuaJSONError(encoding: "cannot encode a NaN or infinite table key")
        case .nil:
            throw LuaJSONError(encoding: "cannot encode a table key of type nil: keys must be strings or numbers")
        case .boolean:
            throw LuaJSONError(encoding: "cannot encode a table key of type boolean: keys must be strings or numbers")
        case .array, .map:
            throw LuaJSONError(encoding: "cannot encode a table key of type table: keys must be strings or numbers")
        case .other(let typeName):
            throw LuaJSONError(encoding: "cannot encode a table key of type \(typeName): keys must be strings or numbers")
        }
    }

    private mutating func appendInteger(_ integer: Int64) {
        output.append(contentsOf: String(integer).utf8)
    }

    private mutating func appendNumber(_ number: Double) throws(LuaJSONError) {
        guard number.isFinite else {
            throw LuaJSONError(encoding: "cannot encode \(number.isNaN ? "NaN" : "an infinite number"): JSON has no such value")
        }
        output.append(contentsOf: Self.formatDouble(number))
    }

    /// `%.14g`, cjson's default `encode_number_precision`: 0.1 stays "0.1" instead of
    /// Swift's shortest round-trip form, and 3.0 prints as "3".
    private static func formatDouble(_ number: Double) -> [UInt8] {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 32) { buffer in
            let length = withVaList([number]) { arguments in
                vsnprintf(buffer.baseAddress, buffer.count, "%.14g", arguments)
            }
            return UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(length)).map { $0 }
        }
    }

    private mutating func appendString(_ bytes: [UInt8]) {
        output.reserveCapacity(output.count + bytes.count + 2)
        output.append(UInt8(ascii: "\""))
        var plainStart = 0
        for (offset, byte) in bytes.enumerated() {
            guard let escape = Self.escapes[Int(byte)] else { continue }
            output.append(contentsOf: bytes[plainStart..<offset])
            output.append(contentsOf: escape)
            plainStart = offset + 1
        }
        output.append(contentsOf: bytes[plainStart...])
        output.append(UInt8(ascii: "\""))
    }

    /// For each byte value, the escape sequence cjson writes for it, or nil to copy it.
    private static let escapes: [[UInt8]?] = (0...255).map { escape(for: UInt8($0)) }

    private static func escape(for byte: UInt8) -> [UInt8]? {
        let hexDigits = Array("0123456789abcdef".utf8)
        switch byte {
        case UInt8(ascii: "\""): return Array("\\\"".utf8)
        case UInt8(ascii: "\\"): return Array("\\\\".utf8)
        case UInt8(ascii: "/"): return Array("\\/".utf8)
        case 0x08: return Array("\\b".utf8)
        case 0x0C: return Array("\\f".utf8)
        case 0x0A: return Array("\\n".utf8)
        case 0x0D: return Array("\\r".utf8)
        case 0x09: return Array("\\t".utf8)
        case 0x00..<0x20:
            return Array("\\u00".utf8) + [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
        default: return nil
        }
    }
}

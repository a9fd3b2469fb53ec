import LuaKit

/// A recursive-descent reader of one RFC 8259 JSON text into a `LuaValue`.
///
/// Strict where the RFC is (no comments, no trailing commas, no leading zeros, no raw
/// control characters in strings, lone surrogates in `\u` escapes refused), lenient like
/// cjson in one place: string bytes that are not UTF-8 are kept as they are, since Lua
/// strings are byte strings. Error offsets are 1-based, like Lua string positions.
struct LuaJSONDecoder {
    private let input: UnsafeBufferPointer<UInt8>
    private var position = 0

    init(input: UnsafeBufferPointer<UInt8>) {
        self.input = input
    }

    mutating func decodeDocument() throws(LuaJSONError) -> LuaValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == input.count else { throw failure("unexpected data after the JSON value") }
        return value
    }

    private func failure(_ problem: String, at offset: Int? = nil) -> LuaJSONError {
        LuaJSONError(decodingAt: (offset ?? position) + 1, problem)
    }

    private var current: UInt8? { position < input.count ? input[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            position += 1
        }
    }

    /// Parses the value starting at `position`; `depth` counts the enclosing containers.
    private mutating func parseValue(depth: Int) throws(LuaJSONError) -> LuaValue {
        guard let byte = current else { throw failure("unexpected end of input, expected a value") }
        switch byte {
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .boolean(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .boolean(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw failure("expected a value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(LuaJSONError) {
        let start = position
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for byte in expected {
            guard current == byte else { throw failure("expected a value", at: start) }
            position += 1
        }
    }

    private func enter(_ depth: Int) throws(LuaJSONError) {
        guard depth < LuaJSON.maxDepth else { throw failure("nesting deeper than \(LuaJSON.maxDepth) levels") }
    }

    private mutating func parseArray(depth: Int) throws(LuaJSONError) -> LuaValue {
        try enter(depth)
        position += 1
        var elements: [LuaValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(elements)
            case nil:
                throw failure("unexpected end of input, expected ',' or ']'")
            default:
                throw failure("expected ',' or ']'")
            }
        }
    }

    private mutating func parseObject(depth: Int) throws(LuaJSONError) -> LuaValue {
        try enter(depth)
        position += 1
        var entries: [LuaValue: LuaValue] = [:]
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .map(entries)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else {
                throw failure(current == nil ? "unexpected end of input, expected a string key" : "expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else {
                throw failure(current == nil ? "unexpected end of input, expected ':'" : "expected ':'")
            }
            position += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            if value == .nil {
                entries.removeValue(forKey: .string(key))
            } else {
                entries[.string(key)] = value
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .map(entries)
            case nil:
                throw failure("unexpected end of input, expected ',' or '}'")
            default:
                throw failure("expected ',' or '}'")
            }
        }
    }

    /// Parses the string whose opening quote is at `position`.
    private mutating func parseString() throws(LuaJSONError) -> [UInt8] {
        let opening = position
        position += 1
        var bytes: [UInt8] = []
        var plainStart = position
        while true {
            guard let byte = current else { throw failure("unterminated string (opened at byte \(opening + 1))") }
            switch byte {
            case UInt8(ascii: "\""):
                bytes.append(contentsOf: input[plainStart..<position])
                position += 1
                return bytes
            case UInt8(ascii: "\\"):
                bytes.append(contentsOf: input[plainStart..<position])
                try parseEscape(into: &bytes)
                plainStart = position
            case 0x00..<0x20:
                throw failure("control character in string (write it as an escape)")
            default:
                position += 1
            }
        }
    }

    /// Parses the escape whose backslash is at `position` and appends what it stands for.
    private mutating func parseEscape(into bytes: inout [UInt8]) throws(LuaJSONError) {
        let backslash = position
        position += 1
        guard let letter = current else { throw failure("unterminated string") }
        position += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(letter)
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "u"):
            var codePoint = try parseHexQuad()
            if (0xD800...0xDBFF).contains(codePoint) {
                guard current == UInt8(ascii: "\\"), position + 1 < input.count, input[position + 1] == UInt8(ascii: "u") else {
                    throw failure("invalid \\u escape: high surrogate without a low surrogate", at: backslash)
                }
                position += 2
                let low = try parseHexQuad()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw failure("invalid \\u escape: high surrogate without a low surrogate", at: backslash)
                }
                codePoint = 0x10000 + ((codePoint - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(codePoint) {
                throw failure("invalid \\u escape: low surrogate without a high surrogate", at: backslash)
            }
            // Surrogates were excluded above, so this is always a valid scalar.
            bytes.append(contentsOf: UTF8.encode(Unicode.Scalar(codePoint)!)!)
        default:
            throw failure("invalid escape '\\\(Character(Unicode.Scalar(letter)))'", at: backslash)
        }
    }

    private mutating func parseHexQuad() throws(LuaJSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let digit: UInt32
            switch current {
            case let byte? where byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case let byte? where byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case let byte? where byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid \\u escape: expected 4 hexadecimal digits")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func parseNumber() throws(LuaJSONError) -> LuaValue {
        let start = position
        let isNegative = current == UInt8(ascii: "-")
        if isNegative { position += 1 }
        if current == UInt8(ascii: "0") {
            position += 1
            if isDigit(current) { throw failure("invalid number: leading zero", at: start) }
        } else if isDigit(current) {
            while isDigit(current) { position += 1 }
        } else {
            throw failure("invalid number: expected a digit")
        }
        let integerEnd = position
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard isDigit(current) else { throw failure("invalid number: expected a digit after '.'") }
            while isDigit(current) { position += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard isDigit(current) else { throw failure("invalid number: expected a digit in the exponent") }
            while isDigit(current) { position += 1 }
        }
        if isInteger, let integer = integerValue(digitsFrom: isNegative ? start + 1 : start, to: integerEnd, negative: isNegative) {
            return .integer(integer)
        }
        let text = String(decoding: input[start..<position], as: UTF8.self)
        guard let number = Double(text) else { throw failure("invalid number", at: start) }
        return .number(number)
    }

    /// The decimal digits in `input[from..<to]` as an Int64, or nil when out of range.
    /// Accumulates negatively so that Int64.min is representable.
    private func integerValue(digitsFrom from: Int, to end: Int, negative: Bool) -> Int64? {
        var value: Int64 = 0
        for index in from..<end {
            let (shifted, overflowMultiply) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowSubtract) = shifted.subtractingReportingOverflow(Int64(input[index] - UInt8(ascii: "0")))
            guard !overflowMultiply, !overflowSubtract else { return nil }
            value = next
        }
        if negative { return value }
        return value == .min ? nil : -value
    }
}

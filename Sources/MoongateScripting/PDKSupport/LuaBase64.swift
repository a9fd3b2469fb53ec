/// Base64 for `gate.base64` (RFC 4648), in both alphabets: the standard one (`+/`,
/// padded) for headers such as `Authorization: Basic`, and the URL-safe one (`-_`,
/// unpadded) that JWTs use.
///
/// Hand-written over byte arrays: Lua strings are bytes, and Foundation's `Data`
/// round trip would cost two copies per call and knows only the standard alphabet.
public enum LuaBase64 {
    private static let standardAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafeAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// Byte -> 6-bit value, `invalid` for bytes outside the alphabet.
    private static let standardValues = decodingTable(for: standardAlphabet)
    private static let urlSafeValues = decodingTable(for: urlSafeAlphabet)
    private static let invalid: UInt8 = 0xFF
    private static let padding = UInt8(ascii: "=")

    private static func decodingTable(for alphabet: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, symbol) in alphabet.enumerated() { table[Int(symbol)] = UInt8(value) }
        return table
    }

    /// Encodes `bytes`; standard output is padded with `=`, URL-safe output is not.
    public static func encode(_ bytes: [UInt8], urlSafe: Bool) -> [UInt8] {
        let alphabet = urlSafe ? urlSafeAlphabet : standardAlphabet
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            output.append(alphabet[Int(group >> 6 & 0x3F)])
            output.append(alphabet[Int(group & 0x3F)])
            index += 3
        }
        switch bytes.count - index {
        case 1:
            let group = UInt32(bytes[index]) << 16
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            if !urlSafe { output.append(contentsOf: [padding, padding]) }
        case 2:
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            output.append(alphabet[Int(group >> 6 & 0x3F)])
            if !urlSafe { output.append(padding) }
        default:
            break
        }
        return output
    }

    /// Decodes `bytes`, or nil when they are not base64 of the chosen alphabet. Padding
    /// is optional in both alphabets, but when present it must complete the last group
    /// to four symbols. Whitespace is not skipped, and unused low bits of the last
    /// symbol must be zero, so that each byte string has exactly one accepted encoding.
    public static func decode(_ bytes: [UInt8], urlSafe: Bool) -> [UInt8]? {
        let values = urlSafe ? urlSafeValues : standardValues
        var length = bytes.count
        var paddingCount = 0
        while paddingCount < 2, length > 0, bytes[length - 1] == padding {
            length -= 1
            paddingCount += 1
        }
        let tailLength = length % 4
        guard tailLength != 1 else { return nil }
        guard paddingCount == 0 || tailLength + paddingCount == 4 else { return nil }

        var output: [UInt8] = []
        output.reserveCapacity(length / 4 * 3 + 2)
        var index = 0
        while index + 4 <= length {
            let a = values[Int(bytes[index])], b = values[Int(bytes[index + 1])]
            let c = values[Int(bytes[index + 2])], d = values[Int(bytes[index + 3])]
            guard a != invalid, b != invalid, c != invalid, d != invalid else { return nil }
            let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
            output.append(UInt8(truncatingIfNeeded: group >> 16))
            output.append(UInt8(truncatingIfNeeded: group >> 8))
            output.append(UInt8(truncatingIfNeeded: group))
            index += 4
        }
        switch tailLength {
        case 2:
            let a = values[Int(bytes[index])], b = values[Int(bytes[index + 1])]
            guard a != invalid, b != invalid, b & 0x0F == 0 else { return nil }
            output.append(a << 2 | b >> 4)
        case 3:
            let a = values[Int(bytes[index])], b = values[Int(bytes[index + 1])], c = values[Int(bytes[index + 2])]
            guard a != invalid, b != invalid, c != invalid, c & 0x03 == 0 else { return nil }
            output.append(a << 2 | b >> 4)
            output.append(b << 4 | c >> 2)
        default:
            break
        }
        return output
    }
}

import LuaKit

/// The codec behind `gate.json`: JSON <-> `LuaValue`, behaving like lua-cjson (the
/// library Kong plugins use), so that plugins ported from Kong keep their output.
///
/// Hand-written rather than Foundation's `JSONSerialization`, which goes through
/// `NSNumber` (so 1 and 1.0 and `true` blur together), cannot pass non-UTF-8 bytes and
/// is slow on the request path.
public enum LuaJSON {
    /// Containers nested deeper than this are refused both ways; it matches how deep
    /// `LuaValue` reads a Lua table, and stops cycles and stack exhaustion.
    public static let maxDepth = 64

    /// Encodes `value` as cjson would (see `LuaJSONEncoder` for the details): empty
    /// tables become `{}`, `/` is escaped, doubles print with 14 significant digits,
    /// object keys come out sorted so the same table always gives the same bytes.
    public static func encode(_ value: LuaValue) -> Result<[UInt8], LuaJSONError> {
        var encoder = LuaJSONEncoder()
        do {
            try encoder.append(value, depth: 0)
        } catch {
            return .failure(error)
        }
        return .success(encoder.output)
    }

    /// Decodes one RFC 8259 JSON text (any value at the top level). Integers that fit
    /// Int64 become `.integer`, other numbers `.number`; `null` becomes `.nil` in arrays
    /// and at the top level, and drops its key in objects (a Lua table cannot hold nil).
    public static func decode(_ bytes: [UInt8]) -> Result<LuaValue, LuaJSONError> {
        bytes.withUnsafeBufferPointer { buffer in
            var decoder = LuaJSONDecoder(input: buffer)
            do throws(LuaJSONError) {
                return .success(try decoder.decodeDocument())
            } catch {
                return .failure(error)
            }
        }
    }
}

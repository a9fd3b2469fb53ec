import LuaKit
import MoongateScripting
import Testing

@Suite struct PDKSupportJSONTests {
    private func encoded(_ value: LuaValue) -> String? {
        guard case .success(let bytes) = LuaJSON.encode(value) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func encodingError(_ value: LuaValue) -> String? {
        guard case .failure(let error) = LuaJSON.encode(value) else { return nil }
        return error.message
    }

    private func decoded(_ text: String) -> LuaValue? {
        try? LuaJSON.decode(Array(text.utf8)).get()
    }

    private func decodingError(_ text: String) -> String? {
        guard case .failure(let error) = LuaJSON.decode(Array(text.utf8)) else { return nil }
        return error.message
    }

    private func nested(_ levels: Int) -> LuaValue {
        var value: LuaValue = 1
        for _ in 0..<levels { value = .array([value]) }
        return value
    }

    // MARK: encoding

    @Test func encodesScalarsLikeCJSON() {
        #expect(encoded(.nil) == "null")
        #expect(encoded(true) == "true")
        #expect(encoded(false) == "false")
        #expect(encoded(42) == "42")
        #expect(encoded(.integer(.min)) == "-9223372036854775808")
        #expect(encoded(3.0) == "3")
        #expect(encoded(0.1) == "0.1")
        #expect(encoded(-2.5) == "-2.5")
        #expect(encoded(1e20) == "1e+20")
        #expect(encoded(3.14159265358979323) == "3.1415926535898")
    }

    @Test func refusesNumbersJSONCannotHold() {
        #expect(encodingError(.number(.nan))?.contains("NaN") == true)
        #expect(encodingError(.number(.infinity))?.contains("infinite") == true)
        #expect(encodingError([1, .number(-.infinity)]) != nil)
    }

    @Test func escapesStringsLikeCJSON() {
        #expect(encoded("a\"b\\c/d\n\r\t\u{08}\u{0C}\u{01}\u{1F}") == #""a\"b\\c\/d\n\r\t\b\f\u0001\u001f""#)
        #expect(encoded("héllo ✓") == "\"héllo ✓\"")
        #expect(LuaJSON.encode(.string([0x61, 0xFF, 0xC3])) == .success([0x22, 0x61, 0xFF, 0xC3, 0x22]))
    }

    @Test func encodesArraysAndSortedObjects() {
        #expect(encoded([1, "two", [true, .nil]]) == #"[1,"two",[true,null]]"#)
        #expect(encoded(["b": 1, "a": ["c": 2.5], "aa": .nil]) == #"{"a":{"c":2.5},"aa":null,"b":1}"#)
    }

    @Test func emptyTablesAreObjects() {
        #expect(encoded(.array([])) == "{}")
        #expect(encoded(.map([:])) == "{}")
        #expect(encoded(["list": .array([])]) == #"{"list":{}}"#)
    }

    @Test func integerKeyedMapsAreArraysWithHolesUnlessTooSparse() {
        #expect(encoded(.map([1: "a", 3: "c"])) == #"["a",null,"c"]"#)
        #expect(encoded(.map([.number(2.0): "b", 1: "a"])) == #"["a","b"]"#)
        #expect(encoded(.map([10: "j"])) == #"[null,null,null,null,null,null,null,null,null,"j"]"#)
        #expect(encodingError(.map([1: "a", 20: "t"]))?.hasPrefix("cannot encode sparse array") == true)
    }

    @Test func mixedKeysMakeAnObjectWithNumbersAsText() {
        #expect(encoded(.map([1: "a", "name": "x", 2.5: true, -3: false])) == #"{"-3":false,"1":"a","2.5":true,"name":"x"}"#)
        #expect(encodingError(.map([true: 1]))?.contains("key of type boolean") == true)
    }

    @Test func refusesValuesThatAreNotData() {
        #expect(encodingError(.other(typeName: "function")) == "cannot encode a function")
        #expect(encodingError(["handler": .other(typeName: "userdata")]) == "cannot encode a userdata")
    }

    @Test func refusesEncodingNestingDeeperThan64() {
        #expect(encoded(nested(64)) != nil)
        #expect(encodingError(nested(65))?.contains("nested deeper than 64") == true)
        #expect(encodingError(.map(["a": nested(64)])) != nil)
    }

    // MARK: decoding

    @Test func decodesScalars() {
        #expect(decoded("null") == .nil)
        #expect(decoded(" true ") == true)
        #expect(decoded("false") == false)
        #expect(decoded("0") == 0)
        #expect(decoded("-17") == -17)
        #expect(decoded("9223372036854775807") == .integer(.max))
        #expect(decoded("-9223372036854775808") == .integer(.min))
        #expect(decoded("9223372036854775808") == .number(9223372036854775808.0))
        #expect(decoded("1.5") == 1.5)
        #expect(decoded("1e3") == .number(1000))
        #expect(decoded("-2.5E-1") == -0.25)
        #expect(decoded("\"text\"") == "text")
    }

    @Test func decodesStringEscapes() {
        #expect(decoded(#""a\"b\\c\/d\b\f\n\r\t""#) == "a\"b\\c/d\u{08}\u{0C}\n\r\t")
        #expect(decoded(#""caf\u00e9 \u2713""#) == "café ✓")
        #expect(decoded(#""\ud83d\ude00""#) == "😀")
        #expect(decoded(#""nul\u0000byte""#) == .string([0x6E, 0x75, 0x6C, 0x00, 0x62, 0x79, 0x74, 0x65]))
        #expect(LuaJSON.decode([0x22, 0xFF, 0xFE, 0x22]) == .success(.string([0xFF, 0xFE])))
    }

    @Test func refusesBadStrings() {
        #expect(decodingError(#""\ud83d""#) == "invalid JSON at byte 2: invalid \\u escape: high surrogate without a low surrogate")
        #expect(decodingError(#""\ude00""#)?.contains("low surrogate without a high surrogate") == true)
        #expect(decodingError(#""\u12G4""#)?.contains("4 hexadecimal digits") == true)
        #expect(decodingError(#""\x""#) == "invalid JSON at byte 2: invalid escape '\\x'")
        #expect(decodingError("\"tab\there\"") == "invalid JSON at byte 5: control character in string (write it as an escape)")
        #expect(decodingError("[\"open") == "invalid JSON at byte 7: unterminated string (opened at byte 2)")
    }

    @Test func decodesContainers() {
        #expect(decoded(" [1, \"a\", [], {}] ") == [1, "a", .array([]), .map([:])])
        #expect(decoded(#"{"a": {"b": [1.5, false]}, "c": "d"}"#) == ["a": ["b": [1.5, false]], "c": "d"])
        #expect(decoded(#"{"a": 1, "a": 2}"#) == ["a": 2])
    }

    @Test func nullStaysInArraysAndDropsObjectKeys() {
        #expect(decoded("[1, null, 3]") == [1, .nil, 3])
        #expect(decoded(#"{"a": null, "b": 1}"#) == ["b": 1])
        #expect(decoded(#"{"a": 1, "a": null}"#) == .map([:]))
    }

    @Test func errorsGiveTheByteOffset() {
        #expect(decodingError(#"{"a" 1}"#) == "invalid JSON at byte 6: expected ':'")
        #expect(decodingError("[1] x") == "invalid JSON at byte 5: unexpected data after the JSON value")
        #expect(decodingError("") == "invalid JSON at byte 1: unexpected end of input, expected a value")
        #expect(decodingError("[1, 2") == "invalid JSON at byte 6: unexpected end of input, expected ',' or ']'")
        #expect(decodingError("[1,]") == "invalid JSON at byte 4: expected a value")
        #expect(decodingError(#"{"a":1,}"#) == "invalid JSON at byte 8: expected a string key")
        #expect(decodingError(#"{"a":1 "b":2}"#) == "invalid JSON at byte 8: expected ',' or '}'")
        #expect(decodingError("{1:2}") == "invalid JSON at byte 2: expected a string key")
        #expect(decodingError("tru") == "invalid JSON at byte 1: expected a value")
        #expect(decodingError("nul!") == "invalid JSON at byte 1: expected a value")
        if case .failure(let error) = LuaJSON.decode(Array("[true, fals]".utf8)) {
            #expect(error.byteOffset == 8)
        } else {
            Issue.record("expected a decoding error")
        }
    }

    @Test func refusesNumbersOutsideTheGrammar() {
        #expect(decodingError("01") == "invalid JSON at byte 1: invalid number: leading zero")
        #expect(decodingError("1.") == "invalid JSON at byte 3: invalid number: expected a digit after '.'")
        #expect(decodingError("-") == "invalid JSON at byte 2: invalid number: expected a digit")
        #expect(decodingError("1e+") == "invalid JSON at byte 4: invalid number: expected a digit in the exponent")
        #expect(decodingError("+1") != nil)
        #expect(decodingError(".5") != nil)
        #expect(decodingError("NaN") != nil)
    }

    @Test func refusesDecodingNestingDeeperThan64() {
        let deepest = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(decoded(deepest) != nil)
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(decodingError(tooDeep) == "invalid JSON at byte 65: nesting deeper than 64 levels")
        let tooDeepObjects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(decodingError(tooDeepObjects) != nil)
    }

    @Test func roundTripsData() throws {
        let value: LuaValue = [
            "name": "moongate", "ratio": 0.25, "count": 3, "tags": ["a", "b"],
            "nested": ["flag": false, "bytes": "line\nbreak / \"quoted\""],
        ]
        let bytes = try LuaJSON.encode(value).get()
        #expect(try LuaJSON.decode(bytes).get() == value)
    }
}

import MoongateScripting
import Testing

@Suite struct PDKSupportBase64Tests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// RFC 4648 §10.
    private let vectors: [(plain: String, standard: String, urlSafe: String)] = [
        ("", "", ""), ("f", "Zg==", "Zg"), ("fo", "Zm8=", "Zm8"), ("foo", "Zm9v", "Zm9v"),
        ("foob", "Zm9vYg==", "Zm9vYg"), ("fooba", "Zm9vYmE=", "Zm9vYmE"), ("foobar", "Zm9vYmFy", "Zm9vYmFy"),
    ]

    @Test func encodesTheRFCVectorsInBothAlphabets() {
        for vector in vectors {
            #expect(LuaBase64.encode(bytes(vector.plain), urlSafe: false) == bytes(vector.standard))
            #expect(LuaBase64.encode(bytes(vector.plain), urlSafe: true) == bytes(vector.urlSafe))
        }
    }

    @Test func decodesWithOrWithoutPadding() {
        for vector in vectors {
            #expect(LuaBase64.decode(bytes(vector.standard), urlSafe: false) == bytes(vector.plain))
            #expect(LuaBase64.decode(bytes(vector.urlSafe), urlSafe: false) == bytes(vector.plain))
            #expect(LuaBase64.decode(bytes(vector.urlSafe), urlSafe: true) == bytes(vector.plain))
            #expect(LuaBase64.decode(bytes(vector.standard), urlSafe: true) == bytes(vector.plain))
        }
    }

    @Test func alphabetsDifferInTheLastTwoSymbols() {
        let binary: [UInt8] = [0xFB, 0xFF, 0xBF, 0xFE]
        #expect(LuaBase64.encode(binary, urlSafe: false) == bytes("+/+//g=="))
        #expect(LuaBase64.encode(binary, urlSafe: true) == bytes("-_-__g"))
        #expect(LuaBase64.decode(bytes("+/+//g=="), urlSafe: false) == binary)
        #expect(LuaBase64.decode(bytes("-_-__g"), urlSafe: true) == binary)
        #expect(LuaBase64.decode(bytes("-_-__g"), urlSafe: false) == nil)
        #expect(LuaBase64.decode(bytes("+/+//g=="), urlSafe: true) == nil)
    }

    @Test func roundTripsEveryByteValue() {
        let all = (0...255).map { UInt8($0) }
        for urlSafe in [false, true] {
            for length in [253, 254, 255, 256] {
                let input = Array(all.prefix(length))
                #expect(LuaBase64.decode(LuaBase64.encode(input, urlSafe: urlSafe), urlSafe: urlSafe) == input)
            }
        }
    }

    @Test func refusesInvalidInput() {
        for invalid in ["Z", "Zm9vY", "Zg=", "Zm8==", "Zg===", "=", "==", "Zm 9v", "Zm9v\n", "Zm=9", "Z===", "Zh==", "Zm9=", "é"] {
            #expect(LuaBase64.decode(bytes(invalid), urlSafe: false) == nil, "standard accepted '\(invalid)'")
            #expect(LuaBase64.decode(bytes(invalid), urlSafe: true) == nil, "URL-safe accepted '\(invalid)'")
        }
    }
}

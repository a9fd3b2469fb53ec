import MoongateScripting
import Testing

@Suite struct PDKSupportCryptoTests {
    private func hex(_ bytes: [UInt8]) -> String { String(decoding: PDKCrypto.toHex(bytes), as: UTF8.self) }

    @Test func sha256MatchesTheFIPSVectors() {
        #expect(hex(PDKCrypto.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(PDKCrypto.sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func hmacSHA256MatchesRFC4231() {
        let mac = PDKCrypto.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(mac.count == 32)
        #expect(hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func randomBytesHaveTheRequestedLength() {
        #expect(PDKCrypto.randomBytes(0) == [])
        #expect(PDKCrypto.randomBytes(-5) == [])
        #expect(PDKCrypto.randomBytes(1).count == 1)
        #expect(PDKCrypto.randomBytes(33).count == 33)
        #expect(PDKCrypto.randomBytes(32) != PDKCrypto.randomBytes(32))
    }

    @Test func toHexIsLowercaseTwoDigitsPerByte() {
        #expect(hex([]) == "")
        #expect(hex([0x00, 0x0F, 0xA0, 0xFF]) == "000fa0ff")
    }
}

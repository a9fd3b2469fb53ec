import MoongateCore
import Testing

@Suite("CIDR")
struct CIDRTests {
    @Test(
        "membership",
        arguments: [
            ("10.0.0.0/8", "10.1.2.3", true), ("10.0.0.0/8", "11.0.0.1", false),
            ("192.168.1.7", "192.168.1.7", true), ("192.168.1.7", "192.168.1.8", false),
            ("0.0.0.0/0", "8.8.8.8", true), ("::1/128", "::1", true), ("::1", "::2", false),
            ("2001:db8::/32", "2001:db8:1::5", true), ("2001:db8::/32", "2001:db9::5", false),
            ("fe80::/10", "fe80::1%eth0", true), ("10.0.0.0/8", "::ffff:10.0.0.1", true),
            ("10.0.0.0/8", "not-an-ip", false),
        ])
    func contains(network: String, address: String, expected: Bool) throws {
        let cidr = try #require(CIDR(network))
        #expect(cidr.contains(address) == expected)
    }

    @Test("invalid blocks are refused", arguments: ["10.0.0.0/33", "1.2.3", "::1/129", "300.1.1.1", "a::b::c", "", "10.0.0.0/x"])
    func invalid(text: String) {
        #expect(CIDR(text) == nil)
    }
}

/// A `host:port` address as written in `listen`, `admin.listen` and upstream targets:
/// an IPv4 address, a host name, or a bracketed IPv6 address (`[::1]:8000`), and a
/// port from 1 to 65535.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets ("::1", "127.0.0.1", "orders.internal").
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Brackets IPv6 hosts again, so the result parses back to the same value.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// True for `localhost`, 127.0.0.0/8 and ::1: addresses other machines cannot reach.
    public var isLoopback: Bool {
        if host.lowercased() == "localhost" { return true }
        guard let address = IPAddressBytes.parse(host) else { return false }
        if address.isIPv4 { return address.bytes[12] == 127 }
        return address.bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    public static func parse(_ text: String) -> Result<HostPort, ConfigSyntaxError> {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(ConfigSyntaxError("'\(text)' opens '[' for an IPv6 address but never closes it"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                return .failure(ConfigSyntaxError("expected '[ipv6]:port', found '\(text)' (the port is missing)"))
            }
            portText = rest.dropFirst()
            guard IPAddressBytes.parseIPv6(String(host)) != nil else {
                return .failure(ConfigSyntaxError("'\(host)' in '\(text)' is not a valid IPv6 address"))
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(ConfigSyntaxError("expected 'host:port', found '\(text)' (the port is missing)"))
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return .failure(
                    ConfigSyntaxError("IPv6 addresses need brackets: expected '[\(host)]:\(portText)', found '\(text)'"))
            }
            if let problem = HostName.problem(String(host)) {
                return .failure(ConfigSyntaxError("\(problem) (in address '\(text)')"))
            }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), portText.count <= 5,
            let port = Int(portText), (1...65535).contains(port)
        else {
            return .failure(ConfigSyntaxError("port must be a number from 1 to 65535, found '\(portText)' in '\(text)'"))
        }
        return .success(HostPort(host: String(host), port: port))
    }
}

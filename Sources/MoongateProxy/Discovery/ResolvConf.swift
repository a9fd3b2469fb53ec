#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoongateCore

/// The `nameserver` lines of resolv.conf(5), which is where the resolver asks unless
/// configured otherwise. Only nameservers are read: search domains and `ndots` do not
/// apply, since upstream names are written fully qualified.
struct ResolvConf: Equatable {
    /// `ip:53` (IPv6 in brackets), in file order.
    var nameservers: [String]

    /// Entries that are not IP addresses are skipped, and so are link-local IPv6 addresses
    /// with a zone (`fe80::1%eth0`): a socket address without the interface cannot reach them.
    init(parsing text: String) {
        nameservers = []
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver", !fields[1].contains("%"),
                let address = IPAddressBytes.parse(String(fields[1]))
            else { continue }
            let host = IPAddressBytes.text(address)
            nameservers.append(address.isIPv4 ? "\(host):53" : "[\(host)]:53")
        }
    }

    /// The parsed file, or nil when it cannot be read. Reads synchronously: called while
    /// setting up, never on an event loop.
    static func load(path: String) -> ResolvConf? {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            content += chunk[..<count]
            // resolv.conf is a few lines; a huge file is not one.
            if content.count > 1 << 20 { return nil }
        }
        return ResolvConf(parsing: String(decoding: content, as: UTF8.self))
    }
}

/// DNS host names as written in configuration: target addresses, `host_header`, route
/// hosts. Labels follow RFC 1123 (letters, digits, '-'); '_' is also accepted because
/// service-discovery names (`_http._tcp.example.org`) use it.
enum HostName {
    /// Why `name` is not a host name, or nil when it is one.
    static func problem(_ name: String) -> String? {
        guard !name.isEmpty else { return "the host name is empty" }
        guard name.utf8.count <= 253 else { return "host name '\(name)' is longer than 253 characters" }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            if label.isEmpty {
                return "host name '\(name)' has an empty label (a leading, trailing or doubled '.')"
            }
            if label.utf8.count > 63 {
                return "label '\(label)' of host name '\(name)' is longer than 63 characters"
            }
            if let bad = label.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")) }) {
                return "host name '\(name)' contains '\(bad)'; expected letters, digits, '-' and '.'"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                return "label '\(label)' of host name '\(name)' starts or ends with '-'"
            }
        }
        // A name whose last label is numeric can only be meant as an IPv4 address.
        if let last = labels.last, last.allSatisfy(\.isNumber), IPAddressBytes.parseIPv4(Substring(name)) == nil {
            return "'\(name)' is not a valid IPv4 address"
        }
        return nil
    }
}

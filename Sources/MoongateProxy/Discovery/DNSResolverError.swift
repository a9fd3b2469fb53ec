import MoongateCore

/// Why a lookup failed, naming the name, the record type and the server asked, so that
/// a log line says which DNS server to look at.
public struct DNSResolverError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// NXDOMAIN: the name does not exist. Authoritative, unlike the other reasons.
        case nameNotFound
        /// No answer to the query or its one retry.
        case timeout(Duration)
        /// The server answered with another error code (SERVFAIL, REFUSED, ...).
        case serverError(DNSResponseCode)
        case malformedResponse(String)
        /// The socket failed, e.g. nothing listens at the nameserver's port.
        case unreachable(String)
        /// The name or port cannot be asked about.
        case invalidQuery(String)
        /// The nameserver is not `ip:port`.
        case invalidNameserver(String)
    }

    public let reason: Reason
    public let name: String
    public let type: DNSRecordType
    public let server: String

    public init(_ reason: Reason, name: String, type: DNSRecordType, server: String) {
        self.reason = reason
        self.name = name
        self.type = type
        self.server = server
    }

    public var description: String {
        let lookup = "DNS lookup of '\(name)' (\(type)) at \(server)"
        switch reason {
        case .nameNotFound: return "\(lookup) failed: no such name (NXDOMAIN)"
        case .timeout(let timeout): return "\(lookup) timed out: no answer within \(timeout) to the query or its retry"
        case .serverError(let code): return "\(lookup) failed: the server answered \(code)"
        case .malformedResponse(let problem): return "\(lookup) failed: the answer is not a valid DNS message: \(problem)"
        case .unreachable(let problem): return "\(lookup) failed: \(problem)"
        case .invalidQuery(let problem): return "\(lookup) was not sent: \(problem)"
        case .invalidNameserver(let problem): return "\(lookup) was not sent: \(problem)"
        }
    }
}

import MoongateCore

/// How a name becomes targets: its A/AAAA records at a port, or its SRV records.
enum NameLookup: Sendable, Equatable {
    case addresses(port: Int)
    case service
}

/// Keeps a DNS name resolved (re-resolving as its TTL runs out) and reports each
/// changed answer as targets. The directory sees DNS only through this.
protocol NameWatcher: Sendable {
    func watch(_ name: String, _ lookup: NameLookup, onChange: @escaping @Sendable ([BalancerTarget]) -> Void) -> any NameWatch
}

protocol NameWatch: Sendable {
    func cancel()
}

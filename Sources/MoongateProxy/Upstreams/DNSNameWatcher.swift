import MoongateCore
import NIOCore

/// Host-name targets and SRV names as DNS answers them: `DNSWatcher` re-resolving on
/// TTL, its answers turned into targets (an A/AAAA answer takes the configured
/// target's weight later, in `UpstreamRuntime`; an SRV answer carries its own).
struct DNSNameWatcher: NameWatcher {
    let watcher: DNSWatcher

    /// `nameserver` "" means the first nameserver of /etc/resolv.conf.
    static func make(nameserver: String, eventLoop: EventLoop) -> any NameWatcher {
        let address = nameserver.isEmpty ? DNSResolver.systemNameserver() : nameserver
        return DNSNameWatcher(watcher: DNSWatcher(resolver: DNSResolver(nameserver: address, eventLoopGroup: eventLoop)))
    }

    func watch(_ name: String, _ lookup: NameLookup, onChange: @escaping @Sendable ([BalancerTarget]) -> Void) -> any NameWatch {
        let kind: DNSWatcher.Kind
        switch lookup {
        case .addresses(let port): kind = .addresses(port: port)
        case .service: kind = .service
        }
        return watcher.watch(name: name, kind: kind) { addresses in
            onChange(addresses.map { BalancerTarget(address: $0.address, weight: $0.weight) })
        }
    }
}

extension DNSWatch: NameWatch {}

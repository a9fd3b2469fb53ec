/// One target of an upstream: an address ("127.0.0.1:9001", "[::1]:9001",
/// "orders.internal:80") and its weight (default 100; 0 drains the target: balancers
/// never choose it).
public struct BalancerTarget: Sendable, Hashable {
    public var address: String
    public var weight: Int

    public init(address: String, weight: Int = 100) {
        self.address = address
        self.weight = weight
    }
}

/// The targets to try for one request, as indexes into the balancer's targets: the
/// balancer's choice first, then every other eligible target exactly once, which is
/// what retries need ("the next target not yet tried"). Targets with a weight of 0 are
/// drained and never yielded; with no eligible target the selection is empty.
///
/// The fallbacks come in one of two orders:
/// - cyclic: the eligible targets after the choice (choice + 1, choice + 2, …, wrapping
///   around), so that the retries of different requests spread over the remaining
///   targets instead of all landing on the first one;
/// - ring: for consistent hashing, the distinct targets met walking the hash ring
///   clockwise from the key's point, which are the targets the key would map to if the
///   ones before them were removed, so a retry keeps as much affinity as it can.
///
/// Taking the first choice allocates nothing: the cyclic order shares the balancer's
/// array of eligible targets, and the ring walk allocates its record of the targets
/// already yielded only when a fallback is asked for.
public struct BalancerSelection: IteratorProtocol, Sequence, Sendable {
    private enum Order: Sendable {
        /// `eligible[start]` first, then the following entries, wrapping around.
        case cyclic(eligible: [Int], start: Int)
        /// The owner of `ring`'s point `point` first, then the owners of the following
        /// points that were not yielded yet.
        case ring(ConsistentHashRing, point: Int)
    }

    private let order: Order
    private var yielded = 0
    /// The ring walk's position: how many points past the first it has looked at.
    private var pointsWalked = 0
    /// The ring walk's targets already yielded, indexed by target (empty until the first
    /// fallback).
    private var visited: [Bool] = []

    /// A selection that yields nothing.
    static let empty = BalancerSelection(order: .cyclic(eligible: [], start: 0))

    /// `eligible[start]`, then the rest of `eligible` in cyclic order.
    init(eligible: [Int], start: Int) {
        precondition(eligible.indices.contains(start), "first choice \(start) is not an eligible position")
        self.init(order: .cyclic(eligible: eligible, start: start))
    }

    /// The owner of `ring`'s point `point`, then the other targets in ring order.
    init(ring: ConsistentHashRing, point: Int) {
        precondition(ring.owners.indices.contains(point), "point \(point) is not on the ring")
        self.init(order: .ring(ring, point: point))
    }

    private init(order: Order) {
        self.order = order
    }

    public mutating func next() -> Int? {
        switch order {
        case .cyclic(let eligible, let start):
            guard yielded < eligible.count else { return nil }
            var position = start + yielded
            if position >= eligible.count { position -= eligible.count }
            yielded += 1
            return eligible[position]
        case .ring(let ring, let point):
            return nextOnRing(ring, from: point)
        }
    }

    private mutating func nextOnRing(_ ring: ConsistentHashRing, from point: Int) -> Int? {
        let owners = ring.owners
        guard yielded > 0 else {
            yielded = 1
            return owners[point]
        }
        guard yielded < ring.ownerCount else { return nil }
        if visited.isEmpty {
            visited = Array(repeating: false, count: ring.targetCount)
            visited[owners[point]] = true
        }
        while pointsWalked < owners.count - 1 {
            pointsWalked += 1
            var position = point + pointsWalked
            if position >= owners.count { position -= owners.count }
            let owner = owners[position]
            if !visited[owner] {
                visited[owner] = true
                yielded += 1
                return owner
            }
        }
        return nil
    }
}

import MoongateCore
import Testing

@Suite("Consistent-hash balancer")
struct BalancerConsistentHashTests {
    private static let keys = (0..<10_000).map { RequestHash.hash("user-\($0)".utf8) }

    private func ring(_ targets: [BalancerTarget]) -> ConsistentHash {
        ConsistentHash(targets: targets, previous: nil, now: 0)
    }

    /// The address each key's first choice maps to.
    private func mapping(_ balancer: ConsistentHash, keys: [UInt64] = keys) -> [String] {
        keys.map { balancer.targets[firstChoice(balancer, hashKey: $0)!].address }
    }

    private func equalTargets(_ count: Int) -> [BalancerTarget] {
        balancerTargets(Array(repeating: 100, count: count))
    }

    @Test("the same key always reaches the same target")
    func sameKeySameTarget() {
        let balancer = ring(equalTargets(10))
        let first = mapping(balancer)
        #expect(mapping(balancer) == first)
        #expect(Set(first).count == 10)
    }

    @Test("a rebuild over the same targets, in any order, maps every key the same way")
    func rebuildAgrees() {
        let targets = balancerTargets([100, 50, 200, 100, 10])
        let first = mapping(ring(targets))
        #expect(mapping(ring(targets)) == first)
        #expect(mapping(ring(targets.reversed())) == first)
        #expect(mapping(ConsistentHash(targets: targets, previous: ring(targets), now: 99)) == first)
    }

    @Test("adding 1 target to 10 equal ones moves at most 15 % of 10 000 keys, all onto the new one")
    func addingMovesFewKeys() {
        let before = mapping(ring(equalTargets(10)))
        let after = mapping(ring(equalTargets(11)))
        let moved = zip(before, after).filter { $0 != $1 }
        #expect(Double(moved.count) / Double(Self.keys.count) <= 0.15)
        #expect(moved.count > 0)
        #expect(moved.allSatisfy { $0.1 == "10.0.0.11:80" })
    }

    @Test("removing 1 target of 11 moves only the keys it had")
    func removingMovesOnlyItsKeys() {
        let before = mapping(ring(equalTargets(11)))
        let after = mapping(ring(Array(equalTargets(11).filter { $0.address != "10.0.0.4:80" })))
        for (old, new) in zip(before, after) where old != "10.0.0.4:80" {
            #expect(old == new)
        }
    }

    @Test("fallbacks are the distinct targets in ring order: each is where the key goes once those before it are gone")
    func fallbacksFollowTheRing() {
        let targets = equalTargets(6)
        let balancer = ring(targets)
        for key in Self.keys.prefix(200) {
            let order = Array(balancer.selection(hashKey: key, now: 0)).map { targets[$0].address }
            #expect(Set(order).count == 6)
            for position in 1..<order.count {
                let remaining = ring(targets.filter { !order[..<position].contains($0.address) })
                #expect(mapping(remaining, keys: [key]) == [order[position]])
            }
        }
    }

    /// Ketama's 160 points per target leave each share off by about 2.5 points on
    /// average and 5 at the 95th percentile over address sets (sampling arcs), so the
    /// tolerance is 6 points, not the 2 of the random balancer.
    @Test("10 000 keys split by weight 1:2:3, within 6 points")
    func distribution() {
        let balancer = ring(balancerTargets([1, 2, 3]))
        let picks = Self.keys.map { firstChoice(balancer, hashKey: $0)! }
        for (share, expected) in zip(shares(of: picks, targetCount: 3), [1.0 / 6, 2.0 / 6, 3.0 / 6]) {
            #expect(abs(share - expected) < 0.06)
        }
    }

    @Test("a huge weight takes nearly every key; the other targets stay on the ring")
    func hugeWeight() {
        let balancer = ring(balancerTargets([65_535, 100, 100]))
        let picks = Self.keys.map { firstChoice(balancer, hashKey: $0)! }
        let share = shares(of: picks, targetCount: 3)
        #expect(share[0] > 0.95)
        #expect(Array(balancer.selection(hashKey: Self.keys[0], now: 0)).sorted() == [0, 1, 2])
    }

    @Test("keys past the last point wrap to the first")
    func wraps() {
        let balancer = ring(equalTargets(3))
        #expect(firstChoice(balancer, hashKey: .max) == firstChoice(balancer, hashKey: 0))
    }

    @Test("the request hash is stable, spreads similar keys, and reads any byte sequence")
    func requestHash() {
        #expect(RequestHash.hash("user-1".utf8) == RequestHash.hash(Array("user-1".utf8)))
        #expect(RequestHash.hash("user-1".utf8) != RequestHash.hash("user-2".utf8))
        var buckets = Array(repeating: 0, count: 16)
        for key in Self.keys { buckets[Int(key >> 60)] += 1 }
        #expect(buckets.allSatisfy { abs($0 - 625) < 100 })
    }
}

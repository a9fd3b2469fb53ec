/// The Ketama hash ring of `ConsistentHash`: each eligible target owns points on a
/// circle of 64-bit values, and a key belongs to the owner of the first point at or
/// after it (wrapping past the top).
///
/// Points per target follow Ketama: 160 on average, shared in proportion to weight
/// (`160 × targets × weight / total weight`, at least 1), so weights 1:2:3 and
/// 100:200:300 give the same ring, and a very large weight cannot blow the ring up:
/// it holds about 160 points per target whatever the weights. A target's points are
/// the SplitMix64 sequence seeded by the hash of its address, so they depend on the
/// address alone, not on the target's position in the list: two builds over the same
/// targets agree, and adding or removing a target moves only the keys of the arcs it
/// gains or loses (about 1/(n+1) of them for one target added to n equal ones). A
/// drained target (weight 0) owns no point.
///
/// Immutable after construction, so selections can share it.
final class ConsistentHashRing: Sendable {
    /// Average points per eligible target (libketama's 40 MD5 digests × 4 points).
    static let averagePointsPerTarget = 160

    /// The points' positions, ascending.
    let positions: [UInt64]
    /// The target index owning each point of `positions`.
    let owners: [Int]
    /// How many distinct targets own points: the eligible ones (less any that repeat
    /// an earlier target's address, whose points all coincide with that target's).
    let ownerCount: Int
    /// How many targets the balancer has (owners are indexes below this).
    let targetCount: Int
    /// The lookup index: `bucketStarts[b]` is the first point whose top `bucketBits`
    /// bits are `b` or more. With about one bucket per point, a lookup reads one entry
    /// pair and scans a point or two, instead of a binary search whose dozen steps each
    /// miss the cache on a large ring (14 steps for 100 targets). At most 2^16 buckets
    /// (256 KiB), beyond which rings of thousands of targets scan a few more points.
    private let bucketStarts: [Int32]
    private let bucketBits: Int

    init(targets: [BalancerTarget]) {
        let eligible = targets.indices.filter { targets[$0].weight > 0 }
        let totalWeight = Double(eligible.reduce(0) { $0 + targets[$1].weight })
        let budget = Double(Self.averagePointsPerTarget * eligible.count)
        var points: [(position: UInt64, owner: Int)] = []
        for index in eligible {
            let count = max(1, Int((budget * Double(targets[index].weight) / totalWeight).rounded()))
            var positions = SplitMix64(seed: RequestHash.hash(targets[index].address.utf8))
            for _ in 0..<count {
                points.append((positions.next(), index))
            }
        }
        // Ties (two points at one position) go to the lower index, which is arbitrary
        // but the same on every build.
        points.sort { $0.position != $1.position ? $0.position < $1.position : $0.owner < $1.owner }
        positions = points.map(\.position)
        owners = points.map(\.owner)
        ownerCount = Set(owners).count
        targetCount = targets.count
        bucketBits = min(16, max(1, Int.bitWidth - (max(points.count, 1) - 1).leadingZeroBitCount))
        var bucketStarts = Array(repeating: Int32(points.count), count: (1 << bucketBits) + 1)
        for (index, position) in positions.enumerated().reversed() {
            bucketStarts[Int(position >> (64 - bucketBits))] = Int32(index)
        }
        for bucket in stride(from: bucketStarts.count - 2, through: 0, by: -1) {
            bucketStarts[bucket] = min(bucketStarts[bucket], bucketStarts[bucket + 1])
        }
        self.bucketStarts = bucketStarts
    }

    var isEmpty: Bool { positions.isEmpty }

    /// The point owning `key`: the first at or after it, or the first of all when `key`
    /// is past the last point. The ring must not be empty.
    func point(for key: UInt64) -> Int {
        // Points of earlier buckets are below `key` and those of later buckets above
        // it, so the answer is in the key's bucket or is the next bucket's first point.
        let bucket = Int(key >> (64 - bucketBits))
        var point = Int(bucketStarts[bucket])
        let end = Int(bucketStarts[bucket + 1])
        while point < end && positions[point] < key {
            point += 1
        }
        return point == positions.count ? 0 : point
    }
}

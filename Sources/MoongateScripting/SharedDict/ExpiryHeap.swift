/// A min-heap of expiry times, so a full stripe finds its soonest-expiring key in
/// O(log n) instead of scanning every key on every insert.
///
/// Entries are never removed when a key is deleted, overwritten or given a new TTL;
/// instead each carries the stamp its slot had when it was pushed, and an entry whose
/// stamp no longer matches is stale and skipped. The owner rebuilds the heap when stale
/// entries pile up.
struct ExpiryHeap: Sendable {
    struct Entry: Sendable {
        let expiry: Double
        let slot: Int
        let stamp: UInt64
    }

    private(set) var entries: [Entry] = []

    var count: Int { entries.count }
    var first: Entry? { entries.first }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].expiry < entries[parent].expiry else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() {
        guard !entries.isEmpty else { return }
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        siftDown(from: 0)
    }

    /// Replaces the contents with `entries`, heapified in O(n).
    mutating func rebuild(_ newEntries: [Entry]) {
        entries = newEntries
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(from: index) }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].expiry < entries[smallest].expiry { smallest = left }
            if right < entries.count, entries[right].expiry < entries[smallest].expiry { smallest = right }
            if smallest == parent { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

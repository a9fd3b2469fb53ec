/// One lock's share of a `SharedDict`: its keys with their values, expiry times and
/// least-recently-used order. Not thread-safe; `SharedDict` holds each stripe behind
/// its own lock.
///
/// Entries live in a slot array (freed slots are reused) threaded by a doubly linked
/// list of indices from newest to oldest use, so a lookup, a use and an eviction are all
/// O(1); the `ExpiryHeap` finds an expired key to evict in O(log n).
struct SharedDictStripe: Sendable {
    private struct Slot: Sendable {
        var key: String
        var value: SharedValue
        /// Monotonic seconds after which the key is gone; `.infinity` for no TTL.
        var expiry: Double
        /// The stamp of this slot's current entry in `expiries`; 0 when it has none
        /// (no TTL, or a free slot), which no heap entry carries.
        var stamp: UInt64
        /// Neighbours in use order, -1 at the ends.
        var newer: Int
        var older: Int
    }

    /// Keys held at most; inserting beyond it evicts one.
    let capacity: Int
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    private var slotByKey: [String: Int] = [:]
    private var newest = -1
    private var oldest = -1
    private var expiries = ExpiryHeap()
    private var lastStamp: UInt64 = 0

    init(capacity: Int) {
        precondition(capacity >= 1, "a shared dict stripe holds at least one key")
        self.capacity = capacity
    }

    mutating func get(_ key: String, now: Double) -> SharedValue? {
        guard let slot = liveSlot(for: key, now: now) else { return nil }
        moveToFront(slot)
        return slots[slot].value
    }

    mutating func set(_ key: String, _ value: SharedValue, expiry: Double, now: Double) {
        if let slot = slotByKey[key] {
            slots[slot].value = value
            setExpiry(expiry, of: slot)
            moveToFront(slot)
        } else {
            insert(key, value, expiry: expiry, now: now)
        }
    }

    /// Stores the value only when no live key exists; false when one does.
    mutating func add(_ key: String, _ value: SharedValue, expiry: Double, now: Double) -> Bool {
        if liveSlot(for: key, now: now) != nil { return false }
        set(key, value, expiry: expiry, now: now)
        return true
    }

    /// Adds `delta` to a live number; a missing key starts at `initial` and takes
    /// `expiry`, while an existing one keeps its own expiry (as OpenResty's `init_ttl`).
    mutating func incr(
        _ key: String, by delta: SharedNumber, initial: SharedNumber?, expiry: Double, now: Double
    ) -> Result<SharedValue, SharedDictError> {
        if let slot = liveSlot(for: key, now: now) {
            let current: SharedNumber
            switch slots[slot].value {
            case .integer(let value): current = .integer(value)
            case .number(let value): current = .number(value)
            case .string, .boolean: return .failure(.notANumber)
            }
            let result = current.adding(delta).sharedValue
            slots[slot].value = result
            moveToFront(slot)
            return .success(result)
        }
        guard let initial else { return .failure(.notFound) }
        let result = initial.adding(delta).sharedValue
        insert(key, result, expiry: expiry, now: now)
        return .success(result)
    }

    mutating func delete(_ key: String) {
        if let slot = slotByKey[key] { remove(slot) }
    }

    /// Keys not yet expired; O(n), meant for tests and diagnostics.
    func liveCount(now: Double) -> Int {
        slotByKey.values.count { slots[$0].expiry > now }
    }

    /// Removes every expired key and returns how many there were.
    mutating func flushExpired(now: Double) -> Int {
        var removed = 0
        while let slot = soonestExpiringSlot(), slots[slot].expiry <= now {
            remove(slot)
            removed += 1
        }
        return removed
    }

    /// The slot of a live `key`; an expired one is removed on the way.
    private mutating func liveSlot(for key: String, now: Double) -> Int? {
        guard let slot = slotByKey[key] else { return nil }
        guard slots[slot].expiry > now else {
            remove(slot)
            return nil
        }
        return slot
    }

    private mutating func insert(_ key: String, _ value: SharedValue, expiry: Double, now: Double) {
        if slotByKey.count >= capacity { evictOne(now: now) }
        let entry = Slot(key: key, value: value, expiry: .infinity, stamp: 0, newer: -1, older: -1)
        let slot: Int
        if let free = freeSlots.popLast() {
            slots[free] = entry
            slot = free
        } else {
            slots.append(entry)
            slot = slots.count - 1
        }
        slotByKey[key] = slot
        linkAsNewest(slot)
        setExpiry(expiry, of: slot)
    }

    /// Makes room for one key: an expired key if there is one (the soonest expired),
    /// else the least recently used.
    private mutating func evictOne(now: Double) {
        if let slot = soonestExpiringSlot(), slots[slot].expiry <= now {
            remove(slot)
        } else if oldest >= 0 {
            remove(oldest)
        }
    }

    private mutating func remove(_ slot: Int) {
        unlink(slot)
        slotByKey[slots[slot].key] = nil
        // Drop the key and value now rather than when the slot is reused.
        slots[slot].key = ""
        slots[slot].value = .boolean(false)
        slots[slot].stamp = 0
        freeSlots.append(slot)
    }

    private mutating func setExpiry(_ expiry: Double, of slot: Int) {
        slots[slot].expiry = expiry
        guard expiry.isFinite else {
            slots[slot].stamp = 0
            return
        }
        lastStamp += 1
        slots[slot].stamp = lastStamp
        expiries.push(ExpiryHeap.Entry(expiry: expiry, slot: slot, stamp: lastStamp))
        // Stale entries (keys deleted or given a new TTL) pile up; a rebuild after more
        // than `slots.count` of them keeps the heap bounded at amortised O(1) per push.
        if expiries.count > 2 * slots.count + 32 { rebuildExpiries() }
    }

    private mutating func rebuildExpiries() {
        expiries.rebuild(
            slots.indices.compactMap { slot in
                let entry = slots[slot]
                return entry.stamp == 0 ? nil : ExpiryHeap.Entry(expiry: entry.expiry, slot: slot, stamp: entry.stamp)
            }
        )
    }

    /// The slot that expires first among those with a TTL, dropping stale heap entries.
    private mutating func soonestExpiringSlot() -> Int? {
        while let top = expiries.first {
            if slots[top.slot].stamp == top.stamp { return top.slot }
            expiries.removeFirst()
        }
        return nil
    }

    private mutating func moveToFront(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        linkAsNewest(slot)
    }

    private mutating func linkAsNewest(_ slot: Int) {
        slots[slot].newer = -1
        slots[slot].older = newest
        if newest >= 0 { slots[newest].newer = slot } else { oldest = slot }
        newest = slot
    }

    private mutating func unlink(_ slot: Int) {
        let newer = slots[slot].newer
        let older = slots[slot].older
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        slots[slot].newer = -1
        slots[slot].older = -1
    }
}

import NIOConcurrencyHelpers

/// One `gate.shared.dict(name)`: a key-value store shared by every event loop, VM and
/// request of the process, for counters (rate limiting) and small caches.
///
/// Keys are spread by hash over up to 16 stripes, each with its own lock, so requests
/// on different event loops rarely wait for each other. The key cap is split evenly:
/// each stripe holds at most ceil(maxKeys / stripes) keys and evicts within itself
/// (expired keys first, then the least recently used). A dict therefore never holds
/// more than `maxKeys + stripes - 1` keys, and may start evicting in one stripe a little
/// before the whole dict is full. Dicts of at most 2047 keys have a single stripe, so
/// their cap and LRU order are exact.
///
/// TTLs are in seconds on a monotonic clock; nil or 0 means no expiry. An expired key
/// reads as absent and is dropped when next touched, evicted, or flushed.
public final class SharedDict: Sendable {
    public let name: String
    /// The cap the dict was created with (`scripts.limits.shared_keys`).
    public let maxKeys: Int
    private let stripes: [NIOLockedValueBox<SharedDictStripe>]
    private let clock: @Sendable () -> Double

    /// Stripes of at least 1024 keys each, at most 16: enough to spread 2 cores' to a
    /// large machine's event loops, few enough that uneven hashing barely matters.
    static func stripeCount(forMaxKeys maxKeys: Int) -> Int {
        min(16, max(1, maxKeys / 1024))
    }

    init(name: String, maxKeys: Int, clock: @escaping @Sendable () -> Double) {
        precondition(maxKeys >= 1, "a shared dict holds at least one key")
        self.name = name
        self.maxKeys = maxKeys
        self.clock = clock
        let stripeCount = Self.stripeCount(forMaxKeys: maxKeys)
        let keysPerStripe = (maxKeys + stripeCount - 1) / stripeCount
        stripes = (0..<stripeCount).map { _ in NIOLockedValueBox(SharedDictStripe(capacity: keysPerStripe)) }
    }

    /// The value of a live key, marking it as recently used.
    public func get(_ key: String) -> SharedValue? {
        let now = clock()
        return stripe(for: key).withLockedValue { $0.get(key, now: now) }
    }

    /// Stores a value (replacing any), or deletes the key when `value` is nil.
    public func set(_ key: String, _ value: SharedValue?, ttl: Double? = nil) {
        guard let value else { return delete(key) }
        let now = clock()
        let expiry = Self.expiry(ttl: ttl, now: now)
        stripe(for: key).withLockedValue { $0.set(key, value, expiry: expiry, now: now) }
    }

    /// Stores a value only when the key is absent or expired; false when a live key exists.
    public func add(_ key: String, _ value: SharedValue, ttl: Double? = nil) -> Bool {
        let now = clock()
        let expiry = Self.expiry(ttl: ttl, now: now)
        return stripe(for: key).withLockedValue { $0.add(key, value, expiry: expiry, now: now) }
    }

    /// Atomically adds `delta` to a number and returns the new value. Integer plus
    /// integer stays an integer (wrapping like Lua 5.4); anything with a float is a float.
    /// A missing key starts at `initial` (`.notFound` without one) and only then takes
    /// `ttl`; an existing key keeps its expiry, as OpenResty's `incr` does.
    public func incr(
        _ key: String, by delta: SharedNumber, initial: SharedNumber? = nil, ttl: Double? = nil
    ) -> Result<SharedValue, SharedDictError> {
        let now = clock()
        let expiry = Self.expiry(ttl: ttl, now: now)
        return stripe(for: key).withLockedValue { $0.incr(key, by: delta, initial: initial, expiry: expiry, now: now) }
    }

    public func delete(_ key: String) {
        stripe(for: key).withLockedValue { $0.delete(key) }
    }

    /// Live keys right now. O(n) under each stripe's lock: for tests and diagnostics.
    public var count: Int {
        let now = clock()
        return stripes.reduce(0) { total, stripe in total + stripe.withLockedValue { $0.liveCount(now: now) } }
    }

    /// Drops every expired key and returns how many there were (memory is otherwise
    /// reclaimed only when a key is touched or the stripe is full).
    @discardableResult
    public func flushExpired() -> Int {
        let now = clock()
        return stripes.reduce(0) { total, stripe in total + stripe.withLockedValue { $0.flushExpired(now: now) } }
    }

    private func stripe(for key: String) -> NIOLockedValueBox<SharedDictStripe> {
        stripes[Int(UInt(bitPattern: key.hashValue) % UInt(stripes.count))]
    }

    private static func expiry(ttl: Double?, now: Double) -> Double {
        guard let ttl, ttl > 0 else { return .infinity }
        return now + ttl
    }
}

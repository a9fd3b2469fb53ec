import Dispatch
import MoongateScripting
import NIOConcurrencyHelpers
import Testing

/// A clock the test moves by hand, so TTLs are tested without sleeping.
private final class FakeClock: Sendable {
    private let seconds = NIOLockedValueBox<Double>(1000)
    var now: Double { seconds.withLockedValue { $0 } }
    func advance(by delta: Double) { seconds.withLockedValue { $0 += delta } }
}

private func makeDict(maxKeys: Int = 100, clock: FakeClock = FakeClock()) -> SharedDict {
    SharedDictStore(maxKeysPerDict: maxKeys, clock: { clock.now }).dict("test")
}

@Test func storeCreatesEachDictOnceByName() {
    let store = SharedDictStore(maxKeysPerDict: 10)
    let first = store.dict("limits")
    first.set("k", .integer(1))
    #expect(store.dict("limits") === first)
    #expect(store.dict("limits").get("k") == .integer(1))
    #expect(store.dict("other").get("k") == nil)
}

@Test func setGetAndDeleteEveryValueKind() {
    let dict = makeDict()
    let values: [SharedValue] = [.string(Array("hi".utf8)), .integer(-3), .number(2.5), .boolean(false)]
    for (offset, value) in values.enumerated() { dict.set("k\(offset)", value) }
    #expect(values.indices.map { dict.get("k\($0)") } == values)
    dict.delete("k0")
    dict.set("k1", nil)
    #expect(dict.get("k0") == nil)
    #expect(dict.get("k1") == nil)
    #expect(dict.count == 2)
}

@Test func keysExpireAfterTheirTTL() {
    let clock = FakeClock()
    let dict = makeDict(clock: clock)
    dict.set("short", .integer(1), ttl: 10)
    dict.set("forever", .integer(2), ttl: 0)
    dict.set("unset", .integer(3))
    clock.advance(by: 9.5)
    #expect(dict.get("short") == .integer(1))
    clock.advance(by: 0.5)
    #expect(dict.get("short") == nil)
    #expect(dict.get("forever") == .integer(2))
    #expect(dict.get("unset") == .integer(3))
    #expect(dict.count == 2)
}

@Test func setReplacesTheTTL() {
    let clock = FakeClock()
    let dict = makeDict(clock: clock)
    dict.set("k", .integer(1), ttl: 5)
    dict.set("k", .integer(2))
    clock.advance(by: 100)
    #expect(dict.get("k") == .integer(2))
}

@Test func flushExpiredRemovesOnlyExpiredKeys() {
    let clock = FakeClock()
    let dict = makeDict(clock: clock)
    dict.set("a", .integer(1), ttl: 1)
    dict.set("b", .integer(1), ttl: 2)
    dict.set("c", .integer(1), ttl: 30)
    dict.set("a", .integer(1), ttl: 40)
    clock.advance(by: 5)
    #expect(dict.flushExpired() == 1)
    #expect(dict.get("a") == .integer(1))
    #expect(dict.get("c") == .integer(1))
}

@Test func addStoresOnlyWhenNoLiveKeyExists() {
    let clock = FakeClock()
    let dict = makeDict(clock: clock)
    #expect(dict.add("k", .string(Array("first".utf8)), ttl: 5))
    #expect(!dict.add("k", .string(Array("second".utf8))))
    #expect(dict.get("k") == .string(Array("first".utf8)))
    clock.advance(by: 5)
    #expect(dict.add("k", .string(Array("third".utf8))))
    #expect(dict.get("k") == .string(Array("third".utf8)))
}

@Test func incrKeepsIntegersIntegralAndMixesToFloat() {
    let dict = makeDict()
    dict.set("n", .integer(10))
    #expect(dict.incr("n", by: 5) == .success(.integer(15)))
    #expect(dict.incr("n", by: -20) == .success(.integer(-5)))
    #expect(dict.incr("n", by: 0.5) == .success(.number(-4.5)))
    dict.set("f", .number(1.25))
    #expect(dict.incr("f", by: 1) == .success(.number(2.25)))
    dict.set("max", .integer(.max))
    #expect(dict.incr("max", by: 1) == .success(.integer(.min)))
}

@Test func incrStartsMissingKeysAtTheInitialValue() {
    let dict = makeDict()
    #expect(dict.incr("missing", by: 1) == .failure(.notFound))
    #expect(dict.incr("counter", by: 1, initial: 0) == .success(.integer(1)))
    #expect(dict.incr("counter", by: 1, initial: 100) == .success(.integer(2)))
    #expect(dict.incr("float", by: 1, initial: 0.5) == .success(.number(1.5)))
}

@Test func incrRefusesValuesThatAreNotNumbers() {
    let dict = makeDict()
    dict.set("s", .string(Array("12".utf8)))
    dict.set("b", .boolean(true))
    #expect(dict.incr("s", by: 1, initial: 0) == .failure(.notANumber))
    #expect(dict.incr("b", by: 1) == .failure(.notANumber))
    #expect(SharedDictError.notANumber.description == "not a number")
    #expect(SharedDictError.notFound.description == "not found")
}

@Test func incrTTLAppliesOnlyWhenItCreatesTheKey() {
    let clock = FakeClock()
    let dict = makeDict(clock: clock)
    #expect(dict.incr("window", by: 1, initial: 0, ttl: 60) == .success(.integer(1)))
    clock.advance(by: 30)
    // A later ttl neither extends nor shortens the window.
    #expect(dict.incr("window", by: 1, initial: 0, ttl: 1) == .success(.integer(2)))
    clock.advance(by: 29)
    #expect(dict.get("window") == .integer(2))
    clock.advance(by: 1)
    #expect(dict.get("window") == nil)
    // Once expired, the next incr starts a new window with the initial value.
    #expect(dict.incr("window", by: 1, initial: 0, ttl: 60) == .success(.integer(1)))
    dict.set("plain", .integer(1))
    #expect(dict.incr("plain", by: 1, ttl: 5) == .success(.integer(2)))
    clock.advance(by: 10)
    #expect(dict.get("plain") == .integer(2))
}

@Test func fullDictEvictsTheLeastRecentlyUsedKey() {
    let dict = makeDict(maxKeys: 3)
    dict.set("a", .integer(1))
    dict.set("b", .integer(2))
    dict.set("c", .integer(3))
    #expect(dict.get("a") == .integer(1))  // a is now the most recently used; b the least
    dict.set("d", .integer(4))
    #expect(dict.get("b") == nil)
    #expect(dict.get("a") == .integer(1))
    #expect(dict.get("c") == .integer(3))
    #expect(dict.get("d") == .integer(4))
    #expect(dict.count == 3)
}

@Test func fullDictEvictsExpiredKeysBeforeLiveOnes() {
    let clock = FakeClock()
    let dict = makeDict(maxKeys: 3, clock: clock)
    dict.set("old-live", .integer(1))
    dict.set("b", .integer(2))
    dict.set("recent-expiring", .integer(3), ttl: 5)
    clock.advance(by: 10)
    dict.set("d", .integer(4))
    // The expired key went, though it was used more recently than "old-live".
    #expect(dict.get("old-live") == .integer(1))
    #expect(dict.get("b") == .integer(2))
    #expect(dict.get("d") == .integer(4))
    #expect(dict.count == 3)
    // With nothing expired, the least recently used goes.
    dict.set("e", .integer(5))
    #expect(dict.get("old-live") == nil)
    #expect(dict.count == 3)
}

@Test func evictionSkipsKeysWhoseTTLWasRemoved() {
    let clock = FakeClock()
    let dict = makeDict(maxKeys: 2, clock: clock)
    dict.set("a", .integer(1), ttl: 5)
    dict.set("a", .integer(1))  // no longer expires
    dict.set("b", .integer(2))
    clock.advance(by: 10)
    _ = dict.get("a")
    dict.set("c", .integer(3))
    #expect(dict.get("a") == .integer(1))
    #expect(dict.get("b") == nil)
}

@Test func manyKeysThroughAFullDictKeepTheCap() {
    let clock = FakeClock()
    let dict = makeDict(maxKeys: 50, clock: clock)
    for round in 0..<2_000 {
        dict.set("k\(round)", .integer(Int64(round)), ttl: round.isMultiple(of: 3) ? 1 : nil)
        if round.isMultiple(of: 7) { dict.delete("k\(round - 3)") }
        clock.advance(by: 0.25)
    }
    #expect(dict.count <= 50)
    #expect(dict.get("k1999") == .integer(1999))
}

@Test func largeDictsSpreadTheCapAcrossStripes() {
    let dict = makeDict(maxKeys: 20_000)
    for key in 0..<30_000 { dict.set("k\(key)", .integer(Int64(key))) }
    // Each of the 16 stripes holds ceil(20000 / 16) = 1250 keys.
    #expect(dict.count <= 20_000)
    #expect(dict.count > 19_000)
    #expect(dict.get("k29999") == .integer(29999))
}

@Test func concurrentIncrementsAreAtomic() {
    let dict = makeDict()
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
        for _ in 0..<10_000 { _ = dict.incr("hits", by: 1, initial: 0) }
    }
    #expect(dict.get("hits") == .integer(80_000))
}

// Router micro-benchmark: `swift run -c release router-bench`.
//
// Builds 10 000 routes shaped like a large multi-tenant gateway, then times the
// router's compile step and 100 000 lookups of a realistic request mix, reporting
// p50/p99 per kind of request. Every hit is checked against the route it was made
// for, so a fast but wrong router cannot pass for a fast one.
import MoongateCore

/// Deterministic generator (SplitMix64) so that runs are comparable.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum RequestKind: String, CaseIterable {
    case prefixHit = "prefix hit"
    case wildcardHit = "wildcard-host hit"
    case exactHit = "exact-path hit"
    case regexHit = "regex hit"
    case missUnknownHost = "miss: unknown host"
    case missUnknownPath = "miss: unknown path"
    case missRegexScan = "miss: runs regexes"
}

struct BenchRequest {
    let kind: RequestKind
    let host: String
    let path: String
    /// The route the request was made for; nil for misses.
    let expectedRoute: Int?
}

let routeCount = 10_000
let exactHostCount = 100
let wildcardDomainCount = 200
let lookupCount = 100_000

func exactHost(forRoute index: Int) -> String { "host\((index / 10) % exactHostCount).example.com" }
func wildcardDomain(forRoute index: Int) -> String { "tenant\((index / 10) % wildcardDomainCount).example.net" }

/// Per 10 routes: 6 prefixes under exact hosts, 2 prefixes under wildcard hosts, 1 exact
/// path and 1 regex under exact hosts. Each exact host gets 60 prefixes, 10 exact paths
/// and 10 regexes; each wildcard domain gets 10 prefixes.
func makeRoutes() -> [RouteSpec] {
    (0..<routeCount).map { index in
        switch index % 10 {
        case 0..<6:
            let prefixes = ["/svc\(index)", "/api/svc\(index)/orders", "/shop/svc\(index)/v2"]
            return RouteSpec(name: "prefix-\(index)", hosts: [exactHost(forRoute: index)], paths: [prefixes[index % 3]])
        case 6, 7:
            return RouteSpec(name: "wild-\(index)", hosts: ["*.\(wildcardDomain(forRoute: index))"], paths: ["/svc\(index)"])
        case 8:
            return RouteSpec(
                name: "exact-\(index)", hosts: [exactHost(forRoute: index)], paths: ["=/svc\(index)/health"], methods: ["GET"])
        default:
            return RouteSpec(
                name: "regex-\(index)", hosts: [exactHost(forRoute: index)], paths: ["~^/v[0-9]+/svc\(index)/items/[0-9]+$"])
        }
    }
}

/// 45% prefix hits, 15% wildcard-host hits, 10% exact-path hits, 10% regex hits and
/// 20% misses (unknown host, unknown path on a known host, and paths that pass every
/// regex's literal pre-check but match none, the worst case for a host's regexes).
func makeRequests(routes: [RouteSpec], using generator: inout SplitMix64) -> [BenchRequest] {
    func route(in kinds: ClosedRange<Int>) -> Int {
        while true {
            let index = Int.random(in: 0..<routeCount, using: &generator)
            if kinds.contains(index % 10) { return index }
        }
    }
    return (0..<lookupCount).map { _ in
        let roll = Int.random(in: 0..<100, using: &generator)
        switch roll {
        case 0..<45:
            let index = route(in: 0...5)
            let tail = ["", "/", "/12345", "/12345/details"][Int.random(in: 0..<4, using: &generator)]
            return BenchRequest(
                kind: .prefixHit, host: exactHost(forRoute: index), path: routes[index].paths[0] + tail, expectedRoute: index)
        case 45..<60:
            let index = route(in: 6...7)
            let label = ["app", "eu.app", "a.b.c"][Int.random(in: 0..<3, using: &generator)]
            return BenchRequest(
                kind: .wildcardHit, host: "\(label).\(wildcardDomain(forRoute: index))", path: "/svc\(index)/cart",
                expectedRoute: index)
        case 60..<70:
            let index = route(in: 8...8)
            return BenchRequest(
                kind: .exactHit, host: exactHost(forRoute: index), path: "/svc\(index)/health", expectedRoute: index)
        case 70..<80:
            let index = route(in: 9...9)
            return BenchRequest(
                kind: .regexHit, host: exactHost(forRoute: index), path: "/v2/svc\(index)/items/\(roll)", expectedRoute: index)
        case 80..<87:
            return BenchRequest(kind: .missUnknownHost, host: "unknown\(roll).example.com", path: "/svc1", expectedRoute: nil)
        case 87..<94:
            let index = route(in: 0...9)
            return BenchRequest(
                kind: .missUnknownPath, host: exactHost(forRoute: index), path: "/static/img/logo.png", expectedRoute: nil)
        default:
            let index = route(in: 9...9)
            return BenchRequest(
                kind: .missRegexScan, host: exactHost(forRoute: index), path: "/v2/svc\(index)/reviews", expectedRoute: nil)
        }
    }
}

func nanoseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
}

func percentile(_ sorted: [Int64], _ fraction: Double) -> Int64 {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func padded(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}

let clock = ContinuousClock()
let routes = makeRoutes()

var compileTimes: [Int64] = []
var router = try Router(routes: routes)
for _ in 0..<5 {
    let start = clock.now
    router = try Router(routes: routes)
    compileTimes.append(nanoseconds(clock.now - start))
}
compileTimes.sort()

var generator = SplitMix64(state: 0x5EED)
let requests = makeRequests(routes: routes, using: &generator)
let noHeaders: (String) -> String? = { _ in nil }

// One untimed pass warms caches and branch predictors, and checks every answer.
var wrong = 0
for request in requests {
    let match = router.match(host: request.host, path: request.path, method: "GET", header: noHeaders)
    if match?.routeIndex != request.expectedRoute { wrong += 1 }
}

var samples: [RequestKind: [Int64]] = [:]
var checksum = 0
for request in requests {
    let start = clock.now
    let match = router.match(host: request.host, path: request.path, method: "GET", header: noHeaders)
    let elapsed = clock.now - start
    checksum &+= match?.routeIndex ?? -1
    samples[request.kind, default: []].append(nanoseconds(elapsed))
}

var clockOverhead: [Int64] = []
for _ in 0..<10_000 {
    let start = clock.now
    clockOverhead.append(nanoseconds(clock.now - start))
}
clockOverhead.sort()

print(
    "router-bench: \(routeCount) routes (\(exactHostCount) exact hosts, \(wildcardDomainCount) wildcard domains),"
        + " \(lookupCount) lookups")
print("compile: min \(compileTimes[0] / 1_000_000) ms, median \(compileTimes[2] / 1_000_000) ms (5 builds)")
print("")
print(
    padded("request kind", 22) + padded("share", 8, right: true) + padded("p50 ns", 10, right: true)
        + padded("p99 ns", 10, right: true))
var all: [Int64] = []
for kind in RequestKind.allCases {
    let sorted = (samples[kind] ?? []).sorted()
    guard !sorted.isEmpty else { continue }
    all += sorted
    let share = "\(sorted.count * 100 / lookupCount)%"
    print(
        padded(kind.rawValue, 22) + padded(share, 8, right: true)
            + padded("\(percentile(sorted, 0.5))", 10, right: true) + padded("\(percentile(sorted, 0.99))", 10, right: true))
}
all.sort()
print(
    padded("all", 22) + padded("100%", 8, right: true) + padded("\(percentile(all, 0.5))", 10, right: true)
        + padded("\(percentile(all, 0.99))", 10, right: true))
print("")
print("timings include ContinuousClock overhead (p50 \(percentile(clockOverhead, 0.5)) ns per reading pair)")
print("wrong answers: \(wrong), checksum \(checksum)")
if wrong > 0 { fatalError("the router answered \(wrong) lookups wrongly") }

import MoongateCore
import Testing

/// Targets "10.0.0.1:80", "10.0.0.2:80", … with `weights`.
func balancerTargets(_ weights: [Int]) -> [BalancerTarget] {
    weights.enumerated().map { BalancerTarget(address: "10.0.0.\($0.offset + 1):80", weight: $0.element) }
}

/// A balancer of `algorithm` with a fixed seed where the algorithm draws at random.
func seededBalancer(
    _ algorithm: LoadBalancingAlgorithm, targets: [BalancerTarget], previous: (any LoadBalancer)? = nil, now: UInt64 = 0
) -> any LoadBalancer {
    switch algorithm {
    case .leastConnections: LeastConnections(targets: targets, previous: previous, now: now, seed: 7)
    case .peakEWMA: PeakEWMA(targets: targets, previous: previous, now: now, seed: 7)
    case .random: RandomBalancer(targets: targets, previous: previous, now: now, seed: 7)
    case .roundRobin, .consistentHash: LoadBalancers.make(algorithm, targets: targets, previous: previous, now: now)
    }
}

/// The first choice of one request.
func firstChoice(_ balancer: any LoadBalancer, hashKey: UInt64 = 0, now: UInt64 = 0) -> Int? {
    var selection = balancer.selection(hashKey: hashKey, now: now)
    return selection.next()
}

/// Each target's share of `picks`.
func shares(of picks: [Int], targetCount: Int) -> [Double] {
    var counts = Array(repeating: 0, count: targetCount)
    for pick in picks { counts[pick] += 1 }
    return counts.map { Double($0) / Double(picks.count) }
}

/// Drives a balancer as the proxy would under steady load, on a fake clock: a request
/// every `interval`, started on the first choice and finished after that target's
/// latency, reporting both to the balancer.
struct BalancerLoadSimulation {
    private(set) var now: UInt64 = 0
    private var inFlight: [(target: Int, startedAt: UInt64, finishesAt: UInt64)] = []

    init(startingAt now: UInt64 = 0) {
        self.now = now
    }

    /// Sends `requests` requests and returns the first choice of each.
    mutating func run(
        _ balancer: any LoadBalancer, requests: Int, interval: UInt64, latency: (_ target: Int, _ now: UInt64) -> UInt64
    ) -> [Int] {
        var picks: [Int] = []
        picks.reserveCapacity(requests)
        for _ in 0..<requests {
            now += interval
            finishDue(on: balancer)
            var selection = balancer.selection(hashKey: 0, now: now)
            guard let target = selection.next() else { continue }
            balancer.requestStarted(target: target, now: now)
            inFlight.append((target, now, now + latency(target, now)))
            picks.append(target)
        }
        return picks
    }

    /// Lets every request in flight finish, moving the clock to the last answer.
    mutating func finishAll(on balancer: any LoadBalancer) {
        now = inFlight.map(\.finishesAt).max() ?? now
        finishDue(on: balancer)
    }

    private mutating func finishDue(on balancer: any LoadBalancer) {
        inFlight.removeAll { request in
            guard request.finishesAt <= now else { return false }
            balancer.requestFinished(target: request.target, latencyNanos: request.finishesAt - request.startedAt, now: now)
            return true
        }
    }
}

/// A balancer from outside MoongateCore: it picks like round-robin and reports fixed
/// figures (target i: i + 2 requests in flight, (i + 1) × 10 ms).
private final class ReportingBalancer: LoadBalancer {
    private let picker: SmoothWeightedRoundRobin
    var targets: [BalancerTarget] { picker.targets }
    init(targets: [BalancerTarget], previous: (any LoadBalancer)?, now: UInt64) {
        picker = SmoothWeightedRoundRobin(targets: targets, previous: nil, now: now)
    }
    func selection(hashKey: UInt64, now: UInt64) -> BalancerSelection { picker.selection(hashKey: hashKey, now: now) }
    func requestStarted(target: Int, now: UInt64) {}
    func requestFinished(target: Int, latencyNanos: UInt64, now: UInt64) {}
    func activeRequests(target: Int) -> Int { target + 2 }
    func latencyMilliseconds(target: Int, now: UInt64) -> Double { Double(target + 1) * 10 }
}

@Suite("Balancers: rules common to every algorithm")
struct BalancerCommonTests {
    @Test("the factory builds the configured algorithm", arguments: LoadBalancingAlgorithm.allCases)
    func factory(algorithm: LoadBalancingAlgorithm) {
        let balancer = LoadBalancers.make(algorithm, targets: balancerTargets([100, 100]), previous: nil, now: 0)
        let expected: any LoadBalancer.Type = switch algorithm {
        case .roundRobin: SmoothWeightedRoundRobin.self
        case .leastConnections: LeastConnections.self
        case .consistentHash: ConsistentHash.self
        case .peakEWMA: PeakEWMA.self
        case .random: RandomBalancer.self
        }
        #expect(type(of: balancer) == expected)
        #expect(balancer.targets == balancerTargets([100, 100]))
    }

    @Test("every selection yields each eligible target exactly once", arguments: LoadBalancingAlgorithm.allCases)
    func fallbacksCoverEveryTarget(algorithm: LoadBalancingAlgorithm) {
        let balancer = seededBalancer(algorithm, targets: balancerTargets([1, 2, 3, 4, 5, 6, 7]))
        for key in 0..<200 {
            let order = Array(balancer.selection(hashKey: RequestHash.hash("key-\(key)".utf8), now: 0))
            #expect(order.sorted() == Array(0..<7))
        }
    }

    @Test("a weight-0 target is never yielded, neither first nor as a fallback", arguments: LoadBalancingAlgorithm.allCases)
    func drained(algorithm: LoadBalancingAlgorithm) {
        let balancer = seededBalancer(algorithm, targets: balancerTargets([100, 0, 300, 0, 50]))
        var simulation = BalancerLoadSimulation()
        let picks = simulation.run(balancer, requests: 2_000, interval: 1_000_000, latency: { _, _ in 5_000_000 })
        #expect(!picks.contains(1) && !picks.contains(3))
        for key in 0..<500 {
            let order = Array(balancer.selection(hashKey: RequestHash.hash("key-\(key)".utf8), now: simulation.now))
            #expect(order.sorted() == [0, 2, 4])
        }
    }

    @Test("no targets, or only drained ones, give an empty selection", arguments: LoadBalancingAlgorithm.allCases)
    func empty(algorithm: LoadBalancingAlgorithm) {
        for weights in [[], [0], [0, 0, 0]] {
            let balancer = seededBalancer(algorithm, targets: balancerTargets(weights))
            var selection = balancer.selection(hashKey: 12_345, now: 0)
            #expect(selection.next() == nil)
            #expect(selection.next() == nil)
        }
    }

    @Test("a single eligible target is the whole selection", arguments: LoadBalancingAlgorithm.allCases)
    func single(algorithm: LoadBalancingAlgorithm) {
        let balancer = seededBalancer(algorithm, targets: balancerTargets([0, 5]))
        for key: UInt64 in [0, 1, .max, 0x8000_0000_0000_0000] {
            #expect(Array(balancer.selection(hashKey: key, now: 0)) == [1])
        }
    }

    @Test("active requests and latency carry over a rebuild by address", arguments: LoadBalancingAlgorithm.allCases)
    func carryOver(algorithm: LoadBalancingAlgorithm) {
        let old = seededBalancer(algorithm, targets: balancerTargets([100, 100, 100]))
        for _ in 0..<3 { old.requestStarted(target: 1, now: 0) }
        old.requestStarted(target: 2, now: 0)
        old.requestStarted(target: 2, now: 0)
        old.requestFinished(target: 2, latencyNanos: 8_000_000, now: 1_000)
        let newTargets = [balancerTargets([100, 100, 100])[2], BalancerTarget(address: "10.0.0.9:80"), balancerTargets([100, 100])[1]]
        let rebuilt = seededBalancer(algorithm, targets: newTargets, previous: old, now: 1_000)
        #expect((0..<3).map { rebuilt.activeRequests(target: $0) } == [1, 0, 3])
        #expect(rebuilt.latencyMilliseconds(target: 0, now: 1_000) == 8)

        // A request started before the rebuild may finish through the old balancer:
        // the count both see goes down.
        old.requestFinished(target: 1, latencyNanos: 1_000_000, now: 2_000)
        #expect(rebuilt.activeRequests(target: 2) == 2)
        rebuilt.requestFinished(target: 2, latencyNanos: 1_000_000, now: 2_000)
        #expect(old.activeRequests(target: 1) == 1)
    }

    @Test("state carries over when the algorithm changes")
    func carryOverAcrossAlgorithms() {
        let old = LoadBalancers.make(.roundRobin, targets: balancerTargets([100, 100]), previous: nil, now: 0)
        old.requestStarted(target: 1, now: 0)
        old.requestFinished(target: 0, latencyNanos: 3_000_000, now: 0)
        let rebuilt = LoadBalancers.make(.peakEWMA, targets: balancerTargets([100, 100]), previous: old, now: 0)
        #expect(rebuilt.activeRequests(target: 1) == 1)
        #expect(rebuilt.latencyMilliseconds(target: 0, now: 0) == 3)
    }

    @Test("a balancer from elsewhere hands over what it reports")
    func carryOverFromAnotherImplementation() {
        let old = ReportingBalancer(targets: balancerTargets([100, 100]), previous: nil, now: 0)
        let rebuilt = LoadBalancers.make(.leastConnections, targets: balancerTargets([100, 100, 100]), previous: old, now: 5)
        #expect((0..<3).map { rebuilt.activeRequests(target: $0) } == [2, 3, 0])
        #expect(abs(rebuilt.latencyMilliseconds(target: 1, now: 5) - 20) < 1e-9)
        // The new address starts from the median of the carried estimates (10 and 20 ms).
        #expect(abs(rebuilt.latencyMilliseconds(target: 2, now: 5) - 15) < 1e-9)
    }

    @Test("a finish without a start does not drive the count negative", arguments: LoadBalancingAlgorithm.allCases)
    func unmatchedFinish(algorithm: LoadBalancingAlgorithm) {
        let balancer = seededBalancer(algorithm, targets: balancerTargets([100]))
        balancer.requestFinished(target: 0, latencyNanos: 1_000, now: 0)
        #expect(balancer.activeRequests(target: 0) == 0)
        balancer.requestStarted(target: 0, now: 0)
        #expect(balancer.activeRequests(target: 0) == 1)
    }

    @Test("every algorithm reports a peak-EWMA latency", arguments: LoadBalancingAlgorithm.allCases)
    func latency(algorithm: LoadBalancingAlgorithm) {
        let balancer = seededBalancer(algorithm, targets: balancerTargets([100, 100]))
        #expect(balancer.latencyMilliseconds(target: 0, now: 0) == 0)
        balancer.requestStarted(target: 0, now: 0)
        balancer.requestFinished(target: 0, latencyNanos: 4_000_000, now: 4_000_000)
        #expect(balancer.latencyMilliseconds(target: 0, now: 4_000_000) == 4)
        // Idle for one decay time (10 s): 1/e of it is left.
        let later = balancer.latencyMilliseconds(target: 0, now: 10_004_000_000)
        #expect(abs(later - 4 / 2.718_281_828_459_045) < 1e-9)
    }
}

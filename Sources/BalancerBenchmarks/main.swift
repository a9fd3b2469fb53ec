// Balancer pick micro-benchmark: `swift run -c release balancer-bench`.
//
// For each algorithm over 10 and over 100 targets, times:
// - pick: one selection and its first choice, the cost every request pays;
// - started+finished: the `requestStarted` / `requestFinished` pair the proxy calls
//   around each try (counts and the latency estimate), paid once per try;
// - together: the two above in one loop, as a request without retries pays them.
// Balancers are called through `any LoadBalancer`, as the proxy holds them. The
// consistent-hash keys cycle through 4096 precomputed request hashes; the cost of
// computing one (`RequestHash` of a 16-byte value) is reported on its own.
import Foundation
import MoongateCore

let iterations = 2_000_000
let clock = ContinuousClock()

func nanosecondsPerIteration(_ body: () -> Void) -> Double {
    body()
    let elapsed = clock.measure(body)
    let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    return nanoseconds / Double(iterations)
}

func format(_ nanoseconds: Double) -> String {
    String(format: "%7.1f ns", nanoseconds)
}

let hashKeys = (0..<4096).map { RequestHash.hash("user-\($0)-abcdefgh".utf8) }
var checksum: UInt64 = 0

let hashedValue = Array("203.0.113.77:443".utf8)
let hashCost = nanosecondsPerIteration {
    var value = hashedValue
    for iteration in 0..<iterations {
        value[0] = UInt8(truncatingIfNeeded: iteration)
        checksum &+= RequestHash.hash(value)
    }
}

print("algorithm            targets        pick   started+finished    together")
for targetCount in [10, 100] {
    let targets = (0..<targetCount).map { BalancerTarget(address: "10.0.\($0 / 250).\($0 % 250 + 1):8080", weight: 100) }
    for algorithm in LoadBalancingAlgorithm.allCases {
        let balancer = LoadBalancers.make(algorithm, targets: targets, previous: nil, now: 0)
        // Some requests in flight and measured latencies, so that load-aware picks
        // compare real figures.
        for target in 0..<targetCount {
            for _ in 0..<(target % 7) { balancer.requestStarted(target: target, now: 0) }
            balancer.requestFinished(target: target, latencyNanos: UInt64(1_000_000 + target * 10_000), now: 0)
        }
        var now: UInt64 = 1_000_000_000

        let pick = nanosecondsPerIteration {
            for iteration in 0..<iterations {
                now &+= 1_000
                var selection = balancer.selection(hashKey: hashKeys[iteration & 4095], now: now)
                checksum &+= UInt64(selection.next() ?? 0)
            }
        }
        let startedFinished = nanosecondsPerIteration {
            for iteration in 0..<iterations {
                now &+= 1_000
                let target = iteration % targetCount
                balancer.requestStarted(target: target, now: now)
                balancer.requestFinished(target: target, latencyNanos: 1_000_000 &+ UInt64(iteration & 1023), now: now)
            }
        }
        let together = nanosecondsPerIteration {
            for iteration in 0..<iterations {
                now &+= 1_000
                var selection = balancer.selection(hashKey: hashKeys[iteration & 4095], now: now)
                let target = selection.next() ?? 0
                balancer.requestStarted(target: target, now: now)
                balancer.requestFinished(target: target, latencyNanos: 1_000_000 &+ UInt64(iteration & 1023), now: now)
                checksum &+= UInt64(target)
            }
        }
        let name = algorithm.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)
        print("\(name) \(String(format: "%7d", targetCount))  \(format(pick))         \(format(startedFinished))  \(format(together))")
    }
}
print("request hash (16 bytes): \(format(hashCost))")
print("(checksum \(checksum))")

import MoongateCore
import NIOCore

/// Runs the active health checks (`health.active`) of every upstream that has them,
/// on one event loop: each round probes every current target of the upstream (targets
/// found later by discovery included), then waits `interval` plus a random part of
/// `jitter`. A target whose previous probe is still running is not probed twice.
final class HealthProber: @unchecked Sendable {
    // Everything below is touched on `eventLoop` only.
    private let eventLoop: EventLoop
    private var rounds: [String: ProbeRound] = [:]
    private var stopped = false

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Probes the upstreams of `runtimes` that have active checks; stops the others.
    /// An upstream whose check settings changed starts over with the new ones.
    func reconcile(_ runtimes: [UpstreamRuntime]) {
        eventLoop.execute { [self] in
            guard !stopped else { return }
            var wanted: [String: (UpstreamRuntime, ActiveHealthCheckConfig)] = [:]
            for runtime in runtimes {
                if let active = runtime.spec.health.active { wanted[runtime.name] = (runtime, active) }
            }
            for (name, round) in rounds where wanted[name].map({ $0.0 !== round.runtime || $0.1 != round.check }) ?? true {
                round.cancel()
                rounds[name] = nil
            }
            for (name, (runtime, check)) in wanted where rounds[name] == nil {
                let round = ProbeRound(runtime: runtime, check: check, eventLoop: eventLoop)
                rounds[name] = round
                round.start()
            }
        }
    }

    func stop() {
        eventLoop.execute { [self] in
            stopped = true
            for round in rounds.values { round.cancel() }
            rounds = [:]
        }
    }
}

/// The repeating probes of one upstream's targets.
private final class ProbeRound {
    let runtime: UpstreamRuntime
    let check: ActiveHealthCheckConfig
    private let eventLoop: EventLoop
    private var timer: Scheduled<Void>?
    private var inFlight = Set<String>()
    private var cancelled = false
    private var random = SystemRandomNumberGenerator()

    init(runtime: UpstreamRuntime, check: ActiveHealthCheckConfig, eventLoop: EventLoop) {
        self.runtime = runtime
        self.check = check
        self.eventLoop = eventLoop
    }

    /// The first round goes out at once: a target that is down at start-up is found
    /// within one probe timeout, not one interval.
    func start() {
        probeAll()
        scheduleNext()
    }

    func cancel() {
        cancelled = true
        timer?.cancel()
    }

    private func scheduleNext() {
        var wait = TimeAmount(check.interval)
        let jitter = TimeAmount(check.jitter).nanoseconds
        if jitter > 0 { wait = wait + .nanoseconds(Int64.random(in: 0...jitter, using: &random)) }
        timer = eventLoop.scheduleTask(in: wait) { [self] in
            guard !cancelled else { return }
            probeAll()
            scheduleNext()
        }
    }

    private func probeAll() {
        let spec = runtime.spec
        for target in runtime.members.snapshot.targets where !inFlight.contains(target.address) {
            let address = target.address
            inFlight.insert(address)
            let hostHeader = spec.hostHeader ?? runtime.hostNames[address] ?? address
            HealthProbe.run(check, address: address, hostHeader: hostHeader, on: eventLoop).assumeIsolated().whenSuccess {
                [self] passed in
                inFlight.remove(address)
                guard !cancelled else { return }
                runtime.recordProbe(address: address, passed: passed, now: MonotonicClock.now())
            }
        }
    }
}

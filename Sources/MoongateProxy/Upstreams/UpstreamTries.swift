import MoongateCore

/// The tries of one request against its upstream: which target each goes to, what
/// they cost the balancer and the circuit, and what passive health learns from them.
/// The proxy handler asks it for targets and tells it how each try ended; it keeps the
/// accounting straight (every started try is finished once, the request and retry
/// slots taken from the circuit are given back once).
final class UpstreamTries {
    let runtime: UpstreamRuntime
    let policy: RetryPolicy
    private let loopBalancer: LoopBalancer
    private var snapshot: UpstreamMembersSnapshot
    private var selection: BalancerSelection
    private let hashKey: UInt64
    /// Indexes into the snapshot's targets already tried.
    private var tried: [Int] = []
    /// A plugin chose the target: every try goes there, outside the balancer.
    private let fixedAddress: String?
    /// Passive health is on: outcomes are worth reporting (else no lock is taken).
    private let reportsOutcomes: Bool

    /// The target of the current try: an index into the snapshot's targets, or -1
    /// for a fixed address that is not one of them.
    private(set) var target = -1
    private(set) var address = ""
    private(set) var retriesDone = 0
    private var tryStartedAt: UInt64 = 0
    /// When the current try's response head came (its latency for the balancer).
    private var headArrivedAt: UInt64?
    private var tryOpen = false
    private var holdsRetrySlot = false
    private var holdsRequestSlot = true

    /// Takes over a request slot already taken from `runtime.circuit`.
    init(
        runtime: UpstreamRuntime, loopBalancer: LoopBalancer, snapshot: UpstreamMembersSnapshot, policy: RetryPolicy,
        hashKey: UInt64, fixedAddress: String?, reportsOutcomes: Bool, now: UInt64
    ) {
        self.reportsOutcomes = reportsOutcomes
        self.runtime = runtime
        self.loopBalancer = loopBalancer
        self.snapshot = snapshot
        self.policy = policy
        self.hashKey = hashKey
        self.fixedAddress = fixedAddress
        selection = loopBalancer.balancer.selection(hashKey: hashKey, now: now)
    }

    /// The Host header for the current target when the route and upstream set none.
    var defaultHostHeader: String { loopBalancer.hostNames[address] ?? address }

    /// Picks the target of the next try: the balancer's choices in order, skipping the
    /// unusable and those already tried; when every usable target was tried (one
    /// target, say), a usable one again. False when no target is usable.
    func chooseTarget(now: UInt64) -> Bool {
        // A retry sees what earlier tries taught health (an ejection, say), as long as
        // the target list is the one the balancer's indexes refer to.
        if !tried.isEmpty {
            let fresh = runtime.members.snapshot
            if fresh.targetsVersion == snapshot.targetsVersion { snapshot = fresh }
        }
        if let fixedAddress {
            address = fixedAddress
            target = snapshot.targets.firstIndex { $0.address == fixedAddress } ?? -1
            return true
        }
        while let index = selection.next() {
            if !tried.contains(index) && snapshot.isUsable(index, now: now) { return use(index) }
        }
        var again = loopBalancer.balancer.selection(hashKey: hashKey, now: now)
        while let index = again.next() {
            if snapshot.isUsable(index, now: now) { return use(index) }
        }
        return false
    }

    private func use(_ index: Int) -> Bool {
        target = index
        address = snapshot.targets[index].address
        tried.append(index)
        return true
    }

    func tryStarted(now: UInt64) {
        tryStartedAt = now
        headArrivedAt = nil
        tryOpen = true
        if target >= 0 { loopBalancer.balancer.requestStarted(target: target, now: now) }
    }

    /// The current try is over; `outcome` feeds passive health (nil: ended by the
    /// client or the gateway, which says nothing about the target).
    func tryEnded(_ outcome: TrafficOutcome?, now: UInt64) {
        releaseRetrySlot()
        guard tryOpen else { return }
        tryOpen = false
        if target >= 0 {
            let latency = (headArrivedAt ?? now) &- tryStartedAt
            loopBalancer.balancer.requestFinished(target: target, latencyNanos: latency, now: now)
        }
        if let outcome, reportsOutcomes { runtime.recordTraffic(address: address, outcome: outcome, now: now) }
    }

    /// A retry's budget slot is held from `beginRetry` until its try ends, or until the
    /// request ends without that try having started (the client left during the backoff).
    private func releaseRetrySlot() {
        if holdsRetrySlot {
            holdsRetrySlot = false
            runtime.circuit.finishRetry()
        }
    }

    /// The current try's response head arrived (and will be passed on): passive health
    /// learns its status now, the balancer its latency when the try ends.
    func responseHeadArrived(status: Int, now: UInt64) {
        guard tryOpen, headArrivedAt == nil else { return }
        headArrivedAt = now
        if reportsOutcomes { runtime.recordTraffic(address: address, outcome: .response(status: status), now: now) }
    }

    /// The current try failed with `failure` before any of its response reached the
    /// client: when the policy and the retry budget allow another try, the failed one
    /// ends (reporting `outcome`), a budget slot is held for the retry until its try
    /// ends, and the result is true. When not, nothing changes: the caller ends the
    /// try, or (a status passed on) lets its response stream first.
    func beginRetry(after failure: RetryPolicy.Failure, outcome: TrafficOutcome?, method: String, bodyReplayable: Bool, now: UInt64)
        -> Bool
    {
        guard policy.allowsRetry(after: failure, method: method, retriesDone: retriesDone, bodyReplayable: bodyReplayable),
            runtime.circuit.tryStartRetry()
        else { return false }
        tryEnded(outcome, now: now)
        holdsRetrySlot = true
        retriesDone += 1
        return true
    }

    /// The request is over: gives back whatever it still holds.
    func finish(now: UInt64) {
        tryEnded(nil, now: now)
        if holdsRequestSlot {
            holdsRequestSlot = false
            runtime.circuit.finishRequest()
        }
    }
}

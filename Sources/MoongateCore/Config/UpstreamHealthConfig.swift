/// `upstreams[].health` (SPEC §2): how targets are found unhealthy and brought back.
/// Both checks are off unless configured, so an upstream without `health:` sends to
/// every target.
public struct UpstreamHealthConfig: Sendable, Equatable {
    /// Probing each target on a timer.
    public var active: ActiveHealthCheckConfig?
    /// Ejecting targets whose live traffic fails.
    public var passive: PassiveHealthCheckConfig?
    /// Percentage of healthy targets below which all targets are used again; 0 = off
    /// (when every target is unhealthy the answer is 503).
    public var panicThreshold: Int

    public init(active: ActiveHealthCheckConfig? = nil, passive: PassiveHealthCheckConfig? = nil, panicThreshold: Int = 0) {
        self.active = active
        self.passive = passive
        self.panicThreshold = panicThreshold
    }
}

/// `health.active`. Defaults: an HTTP GET / every 5s with a 1s timeout, passing on any
/// 2xx or 3xx; healthy after 2 passes in a row, unhealthy after 3 failures in a row; no
/// jitter.
public struct ActiveHealthCheckConfig: Sendable, Equatable {
    /// An HTTP probe passes on an expected status; a TCP probe passes when it connects.
    public enum ProbeType: String, Sendable, Equatable, CaseIterable {
        case http
        case tcp
    }

    public var type: ProbeType
    public var path: String
    public var interval: Duration
    public var timeout: Duration
    public var healthyAfter: Int
    public var unhealthyAfter: Int
    /// Statuses that pass an HTTP probe; empty = any status from 200 to 399.
    public var statuses: [Int]
    /// Each probe waits `interval` plus a random part of `jitter`, so the probes of many
    /// targets (and of many gateways) do not land on an origin at the same instant.
    public var jitter: Duration

    public init(
        type: ProbeType = .http, path: String = "/", interval: Duration = .seconds(5), timeout: Duration = .seconds(1),
        healthyAfter: Int = 2, unhealthyAfter: Int = 3, statuses: [Int] = [], jitter: Duration = .zero
    ) {
        self.type = type
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.healthyAfter = healthyAfter
        self.unhealthyAfter = unhealthyAfter
        self.statuses = statuses
        self.jitter = jitter
    }

    /// Whether an HTTP probe answered with `status` passes.
    public func passes(status: Int) -> Bool {
        statuses.isEmpty ? (200...399).contains(status) : statuses.contains(status)
    }
}

/// `health.passive`. Defaults: eject after 5 failures in a row (connection errors or
/// the listed statuses) for 30s, never more than half of the targets at once.
public struct PassiveHealthCheckConfig: Sendable, Equatable {
    public var failures: Int
    public var statuses: [Int]
    public var ejection: Duration
    public var maxEjectionPercent: Int

    public init(
        failures: Int = 5, statuses: [Int] = [500, 502, 503, 504], ejection: Duration = .seconds(30), maxEjectionPercent: Int = 50
    ) {
        self.failures = failures
        self.statuses = statuses
        self.ejection = ejection
        self.maxEjectionPercent = maxEjectionPercent
    }
}

extension UpstreamHealthConfig {
    static let activeKeys = ["type", "path", "interval", "timeout", "healthy_after", "unhealthy_after", "statuses", "jitter"]
    static let passiveKeys = ["failures", "statuses", "ejection", "max_ejection_percent"]

    static func decode(_ node: ConfigNode, _ reader: ConfigReader) -> UpstreamHealthConfig? {
        guard let fields = reader.fields(node, allowed: ["active", "passive", "panic_threshold"]) else { return nil }
        var config = UpstreamHealthConfig()
        if let active = reader.fields(fields["active"], allowed: activeKeys) {
            var check = ActiveHealthCheckConfig()
            check.type = reader.choice(active["type"], of: ActiveHealthCheckConfig.ProbeType.self) ?? check.type
            if let pathNode = active["path"], let path = reader.string(pathNode) {
                if path.hasPrefix("/") {
                    check.path = path
                } else {
                    reader.report(pathNode, "health check path must start with '/', found '\(path)'")
                }
            }
            check.interval = reader.duration(active["interval"]) ?? check.interval
            check.timeout = reader.duration(active["timeout"]) ?? check.timeout
            check.healthyAfter = reader.int(active["healthy_after"], in: 1...Int.max) ?? check.healthyAfter
            check.unhealthyAfter = reader.int(active["unhealthy_after"], in: 1...Int.max) ?? check.unhealthyAfter
            check.statuses =
                reader.list(active["statuses"], uniqueBy: { String($0) }) { reader.int($0, in: 100...599) } ?? check.statuses
            check.jitter = reader.duration(active["jitter"], allowZero: true) ?? check.jitter
            if check.type == .tcp, let statusesNode = active["statuses"] ?? active["path"] {
                reader.report(statusesNode, "'path' and 'statuses' apply to HTTP probes only; remove them or set 'type: http'")
            }
            // A probe outliving its interval would overlap the next one.
            if check.timeout > check.interval {
                let timeout = active["timeout"]?.string ?? "1s"
                let interval = active["interval"]?.string ?? "5s"
                reader.report(
                    active["timeout"] ?? active["interval"] ?? active.owner,
                    "the probe timeout '\(timeout)' must not exceed the interval '\(interval)'")
            }
            config.active = check
        }
        if let passive = reader.fields(fields["passive"], allowed: passiveKeys) {
            var check = PassiveHealthCheckConfig()
            check.failures = reader.int(passive["failures"], in: 1...Int.max) ?? check.failures
            check.statuses =
                reader.list(passive["statuses"], uniqueBy: { String($0) }) { reader.int($0, in: 100...599) } ?? check.statuses
            check.ejection = reader.duration(passive["ejection"]) ?? check.ejection
            check.maxEjectionPercent = reader.int(passive["max_ejection_percent"], in: 0...100) ?? check.maxEjectionPercent
            config.passive = check
        }
        config.panicThreshold = reader.int(fields["panic_threshold"], in: 0...100) ?? config.panicThreshold
        return config
    }
}

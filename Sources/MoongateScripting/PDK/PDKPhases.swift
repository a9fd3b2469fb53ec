/// Where a `gate` function may be called: a set of phases, plus timers (a
/// `gate.timer.at` callback runs outside any request) and module load time (a
/// plugin file's top level, which runs when the scripts are compiled).
public struct PDKPhases: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let initialize = PDKPhases(rawValue: 1 << 0)
    public static let rewrite = PDKPhases(rawValue: 1 << 1)
    public static let access = PDKPhases(rawValue: 1 << 2)
    public static let balancer = PDKPhases(rawValue: 1 << 3)
    public static let headerFilter = PDKPhases(rawValue: 1 << 4)
    public static let bodyFilter = PDKPhases(rawValue: 1 << 5)
    public static let log = PDKPhases(rawValue: 1 << 6)
    public static let timer = PDKPhases(rawValue: 1 << 7)
    public static let load = PDKPhases(rawValue: 1 << 8)

    /// Every phase that has a request.
    public static let request: PDKPhases = [.rewrite, .access, .balancer, .headerFilter, .bodyFilter, .log]
    /// Before the upstream is chosen: the request can still be changed.
    public static let beforeUpstream: PDKPhases = [.rewrite, .access, .balancer]
    /// Once the upstream answered.
    public static let response: PDKPhases = [.headerFilter, .bodyFilter, .log]
    /// Where a run may wait (for I/O, a timer or the body).
    public static let waiting: PDKPhases = [.rewrite, .access, .log, .timer, .initialize]
    public static let anywhere: PDKPhases = [
        .initialize, .rewrite, .access, .balancer, .headerFilter, .bodyFilter, .log, .timer, .load,
    ]

    public init(_ phase: PluginPhase?) {
        switch phase {
        case nil: self = .timer
        case .initialize: self = .initialize
        case .rewrite: self = .rewrite
        case .access: self = .access
        case .balancer: self = .balancer
        case .headerFilter: self = .headerFilter
        case .bodyFilter: self = .bodyFilter
        case .log: self = .log
        }
    }

    /// Phase names for docs and error messages.
    public var names: [String] {
        let all: [(PDKPhases, String)] = [
            (.initialize, "init"), (.rewrite, "rewrite"), (.access, "access"), (.balancer, "balancer"),
            (.headerFilter, "header_filter"), (.bodyFilter, "body_filter"), (.log, "log"), (.timer, "timer"),
            (.load, "load"),
        ]
        return all.filter { contains($0.0) }.map(\.1)
    }
}

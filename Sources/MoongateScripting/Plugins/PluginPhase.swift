/// The phases a plugin hooks into (SPEC §3), in the order a request meets them.
public enum PluginPhase: String, CaseIterable, Sendable, Comparable {
    /// Once per VM and script generation, for every configured instance.
    case initialize = "init"
    /// Global instances only, before routing.
    case rewrite
    case access
    /// After the balancer chose a target; may pick another one.
    case balancer
    case headerFilter = "header_filter"
    case bodyFilter = "body_filter"
    /// After the response completed; cannot change it.
    case log

    /// The Lua function name a plugin table defines for this phase.
    public var functionName: String { rawValue }

    /// 0-based position in `allCases` (a switch: searching `allCases` builds the array
    /// at each call, and phases are looked up several times per request).
    public var ordinal: Int {
        switch self {
        case .initialize: return 0
        case .rewrite: return 1
        case .access: return 2
        case .balancer: return 3
        case .headerFilter: return 4
        case .bodyFilter: return 5
        case .log: return 6
        }
    }

    public static func < (lhs: PluginPhase, rhs: PluginPhase) -> Bool {
        lhs.ordinal < rhs.ordinal
    }
}

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

    public static func < (lhs: PluginPhase, rhs: PluginPhase) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

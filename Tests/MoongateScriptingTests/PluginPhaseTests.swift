import MoongateScripting
import Testing

@Test func phasesAreOrderedAsARequestMeetsThem() {
    #expect(PluginPhase.allCases.map(\.functionName) == ["init", "rewrite", "access", "balancer", "header_filter", "body_filter", "log"])
    #expect(PluginPhase.rewrite < PluginPhase.access)
}

@Test func eachPhaseOrdinalIsItsPlaceInAllCases() {
    #expect(PluginPhase.allCases.map(\.ordinal) == Array(0..<PluginPhase.allCases.count))
}

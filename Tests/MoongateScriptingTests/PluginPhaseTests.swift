import MoongateScripting
import Testing

@Test func phasesAreOrderedAsARequestMeetsThem() {
    #expect(PluginPhase.allCases.map(\.functionName) == ["init", "rewrite", "access", "balancer", "header_filter", "body_filter", "log"])
    #expect(PluginPhase.rewrite < PluginPhase.access)
}

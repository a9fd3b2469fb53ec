import Foundation
import HTTPTestSupport
import Testing

/// A response hook preempted mid-response, through the real binary.
///
/// Found by the reload-under-traffic test: the first hook runs of a new generation can
/// outlive their slice, and the response parts that arrive meanwhile queue behind the
/// hook. This pins the same situation down without a reload: a header_filter that
/// always outlives its slice.
@Suite("moongate run: preempted response hooks")
struct ScriptReloadSlowHookTests {
    @Test(
        "a header_filter preempted while the body and end wait: every response completes, and the gateway stops")
    func preemptedHeaderFilterCompletes() async throws {
        try await ScriptReloadWorkspace.with { workspace in
            try workspace.writePlugin("slow-filter", ScriptReloadPluginSources.slowFilter)
            try workspace.writeConfig(routes: [
                ScriptReloadWorkspace.route("filtered", path: "/filtered", plugins: [("slow-filter", "{}")])
            ])
            let gateway = try await workspace.startGateway()
            for attempt in 0..<5 {
                do {
                    let response = try workspace.get("/filtered/\(attempt)")
                    #expect(response.status == 200)
                    #expect(response.header("X-Filtered") == "yes")
                    #expect(response.text.contains("uri=/filtered/\(attempt)"))
                } catch {
                    Issue.record("request \(attempt) got no response: \(error)")
                    break
                }
            }
            #expect(gateway.stop() == 0, "SIGTERM did not stop the gateway within 15 s")
        }
    }
}

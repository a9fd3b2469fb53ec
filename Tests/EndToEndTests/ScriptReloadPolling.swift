/// Waiting for something that should happen soon, without asserting how soon: the
/// machine running the tests may be loaded, so a change the product makes within 2 s
/// is given generous time here.
enum ScriptReloadPolling {
    /// Checks `condition` every 100 ms until it holds (true) or `timeout` passes (false).
    /// A throwing check counts as "not yet" (the gateway may be between connections).
    static func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if (try? condition()) == true { return true }
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

import Foundation
import HTTPTestSupport
import Synchronization

/// Client threads sending GETs in a loop on keep-alive connections until stopped,
/// recording every outcome: a reload under traffic must fail none of them, and every
/// response must come from one whole generation of the plugin (its `X-Version`).
final class ScriptReloadTraffic: Sendable {
    struct Tally: Sendable {
        var succeeded = 0
        /// Non-200 answers and transport errors (reset, closed, timed out), described.
        var failures: [String] = []
        /// `X-Version` values of the 200 answers ("(none)" when absent), with counts.
        var versions: [String: Int] = [:]
    }

    private let port: Int
    private let path: String
    private let clients: Int
    private let running = Mutex(true)
    private let tally = Mutex(Tally())
    private let finished = DispatchGroup()

    init(port: Int, path: String, clients: Int) {
        self.port = port
        self.path = path
        self.clients = clients
    }

    func start() {
        for index in 0..<clients {
            finished.enter()
            let thread = Thread { [self] in
                sendUntilStopped()
                finished.leave()
            }
            thread.name = "moongate-e2e-traffic-\(index)"
            thread.start()
        }
    }

    /// The tally so far (the threads keep running).
    var current: Tally { tally.withLock { $0 } }

    /// Stops the threads, waits for their last requests, and returns the tally.
    func stop() -> Tally {
        running.withLock { $0 = false }
        finished.wait()
        return current
    }

    private func sendUntilStopped() {
        var client: RawHTTPClient?
        while running.withLock({ $0 }) {
            do {
                if client == nil { client = try RawHTTPClient(port: port, timeoutSeconds: 10) }
                let response = try client!.request("GET", path)
                tally.withLock { tally in
                    if response.status == 200 {
                        tally.succeeded += 1
                        tally.versions[response.header("X-Version") ?? "(none)", default: 0] += 1
                    } else {
                        tally.failures.append("status \(response.status): \(response.text)")
                    }
                }
            } catch {
                client = nil
                tally.withLock { $0.failures.append("\(error)") }
            }
        }
    }
}

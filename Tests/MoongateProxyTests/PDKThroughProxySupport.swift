import Foundation
import HTTPTestSupport

/// Helpers for the PDK-through-the-proxy tests. Their plugins report what the `gate`
/// functions returned in three ways: as a `gate.response.exit` JSON body, as headers
/// the test origin echoes back (`h:name=value` lines), or in a shared dict that a
/// later request reads.
extension RawHTTPClient.Response {
    /// The body as the JSON object a reporting plugin sent with `gate.response.exit`.
    func pdkReport() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw PDKReportError(description: "the body is not a JSON object: \(text)")
        }
        return object
    }

    /// Every value of a request header as the test origin received it, in order.
    func originHeader(_ name: String) -> [String] {
        let prefix = "h:\(name.lowercased())="
        return text.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// A `name=value` line of the origin's echo (`method`, `uri`, `body-bytes`).
    func originLine(_ name: String) -> String? {
        let prefix = "\(name)="
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// Every value of a response header, in order.
    func headerValues(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }
}

extension RawHTTPClient {
    /// Sends exact bytes (repeated headers, chunked bodies, HTTP/1.0) and reads the answer.
    func exchange(_ raw: String) throws -> Response {
        try send(raw)
        return try readResponse()
    }
}

struct PDKReportError: Error, CustomStringConvertible {
    let description: String
}

/// Asks `probe` again until it answers, for effects that land after a response was
/// sent (log hooks, timers). Generous on purpose: it returns as soon as the effect is
/// seen, and only a broken feature waits the whole time.
func eventually<Value>(attempts: Int = 200, _ probe: () throws -> Value?) async throws -> Value? {
    for _ in 0..<attempts {
        if let value = try probe() { return value }
        try await Task.sleep(for: .milliseconds(50))
    }
    return nil
}

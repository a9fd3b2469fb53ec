import Testing

@testable import MoongateCore

/// Loads `yaml` as `moongate.yaml` in /etc/moongate and compiles it, so tests can
/// assert on both the issues and the runtime configuration.
func compileConfig(_ yaml: String, previous: RuntimeConfig? = nil) throws -> ConfigCompileOutcome {
    let document = try ConfigLoader.parse(yaml: yaml, file: "moongate.yaml", baseDirectory: "/etc/moongate")
    return ConfigCompiler.compile(document, previous: previous)
}

/// The load error `yaml` must produce (a document that does not parse at all).
func configLoadError(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigLoadError? {
    do {
        _ = try ConfigLoader.parse(yaml: yaml, file: "moongate.yaml", baseDirectory: "/etc/moongate")
        Issue.record("expected the document to be refused as a whole", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// One validation rule: a document breaking it, and where and how the problem must be reported.
struct ConfigRuleCase: Sendable, CustomTestStringConvertible {
    let rule: String
    let yaml: String
    let path: String
    let line: Int
    let message: String
    let object: String

    var testDescription: String { rule }
}

/// Asserts that `rule.yaml` yields exactly one issue for its object, at the expected
/// path and line, with a message saying what was expected and found.
func expectRule(_ rule: ConfigRuleCase, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let outcome = try compileConfig(rule.yaml)
    let issue = try #require(
        outcome.rejected.first { $0.path == rule.path }, "no issue at \(rule.path); got \(outcome.rejected)",
        sourceLocation: sourceLocation)
    #expect(issue.line == rule.line, "\(issue)", sourceLocation: sourceLocation)
    #expect(issue.message.contains(rule.message), "\(issue)", sourceLocation: sourceLocation)
    #expect(issue.object.description == rule.object, sourceLocation: sourceLocation)
    #expect(issue.description.hasPrefix("moongate.yaml:\(rule.line): \(rule.path): "), sourceLocation: sourceLocation)
    #expect(
        outcome.rejected.filter { $0.object == issue.object }.count == 1, "\(outcome.rejected)", sourceLocation: sourceLocation)
}

/// A document with upstream `orders` on lines 1-3 and `routes:` on line 4, so the
/// route under test starts on line 5.
func documentWithRoute(_ route: String) -> String {
    """
    upstreams:
      - name: orders
        targets: [{ address: "127.0.0.1:9001" }]
    routes:
    \(route)
    """
}

/// One object of a document (a route, an upstream, the `proxy` section) after
/// decoding: either its model, or the problems that reject it. Keeping rejected
/// entries, with their names, is what lets `ConfigCompiler` keep the previous version
/// of exactly that object on reload.
public struct ConfigEntry<Model: Sendable>: Sendable {
    public let object: ConfigObject
    /// Where the entry starts (`routes[2]`).
    public let source: ConfigSource
    /// Nil exactly when `issues` is not empty.
    public let model: Model?
    public let issues: [ConfigIssue]
    /// The model as far as it decoded, even when rejected (invalid fields hold their
    /// defaults), so checks between objects, such as a route's upstream reference, can
    /// still report in the same pass. Never served.
    let draft: Model?

    init(object: ConfigObject, source: ConfigSource, draft: Model?, issues: [ConfigIssue]) {
        precondition(draft != nil || !issues.isEmpty, "an entry that did not decode says why")
        self.object = object
        self.source = source
        self.model = issues.isEmpty ? draft : nil
        self.issues = issues
        self.draft = draft
    }

    /// Where the entry's name is written, for "name already used" reports.
    var nameSource: ConfigSource {
        ConfigSource(
            file: source.file, line: source.line, path: "\(source.path).\(object.kind == .consumer ? "username" : "name")")
    }
}

/// What a document compiles to: the configuration to serve, and every object that
/// was rejected and why (SPEC §2). The caller decides what rejections mean: `moongate
/// run` refuses to start on any of them unless `--allow-partial`, and always on a
/// rejected `proxy` at start-up; a reload applies `runtime` and reports `rejected`.
public struct ConfigCompileOutcome: Sendable {
    /// Valid objects, plus the previous version of rejected objects that had one.
    public var runtime: RuntimeConfig
    /// Every problem, in document order.
    public var rejected: [ConfigIssue]
    /// Rejected objects still served in their previous version.
    public var retained: [ConfigObject]

    public init(runtime: RuntimeConfig, rejected: [ConfigIssue], retained: [ConfigObject]) {
        self.runtime = runtime
        self.rejected = rejected
        self.retained = retained
    }

    /// Each rejected object once, in document order (for counting and listing).
    public var rejectedObjects: [ConfigObject] {
        var seen: Set<ConfigObject> = []
        return rejected.map(\.object).filter { seen.insert($0).inserted }
    }

    /// True when the document applies exactly as written.
    public var isComplete: Bool { rejected.isEmpty }
}

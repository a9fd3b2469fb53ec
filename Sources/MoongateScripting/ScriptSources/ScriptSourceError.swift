/// Why a set of scripts could not be loaded or watched: every problem found, each naming
/// the file or directory at fault, so one reload reports all of them at once.
public struct ScriptSourceError: Error, CustomStringConvertible, Sendable, Equatable {
    public let problems: [String]

    public init(problems: [String]) {
        precondition(!problems.isEmpty, "a ScriptSourceError needs at least one problem")
        self.problems = problems
    }

    public var description: String {
        problems.joined(separator: "\n")
    }
}

/// The targets to try for one request, as indexes into the balancer's targets: first
/// the balancer's choice, then each other target exactly once, in ring order after the
/// choice (choice + 1, choice + 2, … wrapping around), so that retries of different
/// requests spread over the remaining targets instead of all landing on target 0.
///
/// Yields nothing when the upstream has no targets.
public struct BalancerSelection: IteratorProtocol, Sequence {
    private let first: Int
    private let targetCount: Int
    private var yielded = 0

    /// A selection starting at `first` over `targetCount` targets.
    public init(first: Int, targetCount: Int) {
        precondition(targetCount == 0 || (0..<targetCount).contains(first), "first choice \(first) is not a target index")
        self.first = first
        self.targetCount = targetCount
    }

    public mutating func next() -> Int? {
        guard yielded < targetCount else { return nil }
        defer { yielded += 1 }
        return (first + yielded) % targetCount
    }
}

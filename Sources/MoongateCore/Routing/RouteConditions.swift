/// The method and header conditions of one route (`match.methods`, `match.headers`),
/// checked only on routes whose host and path already matched.
struct RouteConditions: Sendable {
    /// Uppercase method names; empty means any method.
    let methods: [String]
    /// Lowercase header name and the exact value it must have; all must hold.
    let headers: [(name: String, value: String)]

    init(methods: [String], headers: [String: String]) {
        self.methods = methods
        // Sorted so that evaluation order, and so which header callback runs first,
        // does not depend on dictionary order.
        self.headers = headers.map { (name: $0.key.lowercased(), value: $0.value) }.sorted { $0.name < $1.name }
    }

    var isEmpty: Bool { methods.isEmpty && headers.isEmpty }

    func accept(method: String, header: (String) -> String?) -> Bool {
        if !methods.isEmpty && !methods.contains(method) { return false }
        for required in headers where header(required.name) != required.value { return false }
        return true
    }
}

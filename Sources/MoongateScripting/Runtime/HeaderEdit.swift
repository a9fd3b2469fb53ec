import MoongateCore
import NIOHTTP1

/// A change a plugin asked for on a set of headers, kept until the headers exist
/// (the upstream request is built after the access phase; the client response when
/// the upstream answers) and then applied in order.
public enum HeaderEdit: Sendable, Equatable {
    case set(String, String)
    case add(String, String)
    case clear(String)

    /// Applies `edits` in order, with one pass over `headers` whatever their number
    /// (an authentication plugin's request makes six: applied one by one, each was a
    /// scan of every header). Same result as one by one: a field a `set` or `clear`
    /// names goes; the fields set or added after its last `set` or `clear` are
    /// appended, in the order they were asked for.
    public static func apply(_ edits: [HeaderEdit], to headers: inout HTTPHeaders) {
        let count = edits.count
        guard count > 1 else {
            edits.first?.apply(to: &headers)
            return
        }
        // Only clears, of fields that are not there (a request without a consumer: the
        // consumer headers a client must not send are cleared): nothing to do.
        if edits.allSatisfy(\.isClear), !headers.contains(where: { header in edits.contains { $0.name.equalsIgnoringASCIICase(header.name) } }) {
            return
        }
        var removed: [String] = []
        removed.reserveCapacity(count)
        var added: [(String, String)] = []
        added.reserveCapacity(count)
        for edit in edits {
            switch edit {
            case .set(let name, let value):
                replace(name, removed: &removed, added: &added)
                added.append((name, value))
            case .add(let name, let value):
                added.append((name, value))
            case .clear(let name):
                replace(name, removed: &removed, added: &added)
            }
        }
        // Usually nothing the edits clear is there (they clear what a client must not
        // pass on, such as X-Consumer-Username): then the headers are only added to.
        let removes = headers.contains { header in removed.contains { $0.equalsIgnoringASCIICase(header.name) } }
        guard removes else {
            for (name, value) in added { headers.add(name: name, value: value) }
            return
        }
        var result: [(String, String)] = []
        result.reserveCapacity(headers.count + added.count)
        for (name, value) in headers where !removed.contains(where: { $0.equalsIgnoringASCIICase(name) }) {
            result.append((name, value))
        }
        result += added
        headers = HTTPHeaders(result)
    }

    /// `name`'s incoming fields go, and so do the ones edits added before.
    private static func replace(_ name: String, removed: inout [String], added: inout [(String, String)]) {
        if !removed.contains(where: { $0.equalsIgnoringASCIICase(name) }) { removed.append(name) }
        added.removeAll { $0.0.equalsIgnoringASCIICase(name) }
    }

    /// The field the edit is about.
    public var name: String {
        switch self {
        case .set(let name, _), .add(let name, _), .clear(let name): return name
        }
    }

    var isClear: Bool {
        if case .clear = self { return true }
        return false
    }

    public func apply(to headers: inout HTTPHeaders) {
        switch self {
        case .set(let name, let value): headers.replaceOrAdd(name: name, value: value)
        case .add(let name, let value): headers.add(name: name, value: value)
        case .clear(let name): headers.remove(name: name)
        }
    }
}

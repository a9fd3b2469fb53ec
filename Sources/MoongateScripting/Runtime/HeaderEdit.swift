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
    /// names goes; the values set or added after its last `set` or `clear` are
    /// appended, in the order they were asked for. The headers are rebuilt only when
    /// an incoming field goes (usually none does: the edits clear what a client must
    /// not send, such as X-Consumer-Username).
    public static func apply(_ edits: [HeaderEdit], to headers: inout HTTPHeaders) {
        guard edits.count > 1 else {
            edits.first?.apply(to: &headers)
            return
        }
        // Each edit's name, its length (compared first: most names differ in length)
        // and what it does, read out of the enum once rather than at every comparison.
        let fields = edits.map { edit in Field(name: edit.name, length: edit.name.utf8.count, isReplacing: edit.replaces, value: edit.value) }
        let removes = headers.contains { header in fields.contains { $0.replaces(header.name) } }
        if removes {
            var kept: [(String, String)] = []
            kept.reserveCapacity(headers.count + fields.count)
            for (name, value) in headers where !fields.contains(where: { $0.replaces(name) }) {
                kept.append((name, value))
            }
            headers = HTTPHeaders(kept)
        }
        for index in fields.indices {
            guard let value = fields[index].value,
                !fields[(index + 1)...].contains(where: { $0.replaces(fields[index].name) })
            else { continue }
            headers.add(name: fields[index].name, value: value)
        }
    }

    /// An edit as `apply` compares it.
    private struct Field {
        let name: String
        let length: Int
        let isReplacing: Bool
        let value: String?

        /// True when this edit is a `set` or `clear` of `other` (case-insensitive).
        func replaces(_ other: String) -> Bool {
            isReplacing && other.utf8.count == length && name.equalsIgnoringASCIICase(other)
        }
    }

    /// A `set` or `clear`: the field's earlier values go.
    var replaces: Bool {
        if case .add = self { return false }
        return true
    }

    /// The value a `set` or `add` appends; nil for a `clear`.
    var value: String? {
        switch self {
        case .set(_, let value), .add(_, let value): return value
        case .clear: return nil
        }
    }

    /// The field the edit is about.
    public var name: String {
        switch self {
        case .set(let name, _), .add(let name, _), .clear(let name): return name
        }
    }

    public func apply(to headers: inout HTTPHeaders) {
        switch self {
        case .set(let name, let value): headers.replaceOrAdd(name: name, value: value)
        case .add(let name, let value): headers.add(name: name, value: value)
        case .clear(let name): headers.remove(name: name)
        }
    }
}

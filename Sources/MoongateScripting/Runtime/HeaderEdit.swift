import NIOHTTP1

/// A change a plugin asked for on a set of headers, kept until the headers exist
/// (the upstream request is built after the access phase; the client response when
/// the upstream answers) and then applied in order.
public enum HeaderEdit: Sendable, Equatable {
    case set(String, String)
    case add(String, String)
    case clear(String)

    public static func apply(_ edits: [HeaderEdit], to headers: inout HTTPHeaders) {
        for edit in edits { edit.apply(to: &headers) }
    }

    public func apply(to headers: inout HTTPHeaders) {
        switch self {
        case .set(let name, let value): headers.replaceOrAdd(name: name, value: value)
        case .add(let name, let value): headers.add(name: name, value: value)
        case .clear(let name): headers.remove(name: name)
        }
    }
}

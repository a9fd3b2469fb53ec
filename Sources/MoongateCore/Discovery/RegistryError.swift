/// Why a registry call was refused; the admin API turns these into 404 and 422 answers.
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The service has no live instances (it is forgotten with its last one).
    case unknownService(String)
    /// The service exists but has no live instance with this id: never registered,
    /// deregistered, or expired because no heartbeat came within its TTL.
    case unknownInstance(service: String, id: String)
    /// A field of a registration is out of range; the text says which and why.
    case invalid(String)

    public var description: String {
        switch self {
        case .unknownService(let service):
            "service '\(service)' has no registered instances"
        case .unknownInstance(let service, let id):
            "service '\(service)' has no instance '\(id)' (it was deregistered, expired without a heartbeat, or never registered)"
        case .invalid(let message):
            message
        }
    }
}

import LuaKit
import MoongateCore
import NIOConcurrencyHelpers

/// Consumers by credential, for `gate.consumers.find(kind, key)`: built once per
/// configuration generation, so a lookup is one dictionary access.
public struct ConsumerIndex: Sendable {
    private static let lastGeneration = NIOLockedValueBox(0)

    /// kind -> credential key -> (consumer table, credential table)
    private let entries: [String: [String: (consumer: LuaValue, credential: LuaValue)]]
    /// Different for every index built: Lua caches lookups per index.
    public let generation: Int

    /// No consumers (made once: building an index takes a global lock).
    public static let empty = ConsumerIndex([])

    public init(_ consumers: [ConsumerConfig]) {
        generation = Self.lastGeneration.withLockedValue { value in
            value += 1
            return value
        }
        var entries: [String: [String: (consumer: LuaValue, credential: LuaValue)]] = [:]
        for consumer in consumers {
            let table = LuaValue.map([
                "username": .string(consumer.username),
                "groups": .array(consumer.groups.map { .string($0) }),
            ])
            for (kind, credentials) in consumer.credentials {
                for credential in credentials {
                    // The credential's identifying field: `key` (key-auth, jwt), else `username` (basic-auth).
                    guard case .string(let key)? = credential["key"] ?? credential["username"] else { continue }
                    let credentialTable = LuaValue.map(
                        Dictionary(uniqueKeysWithValues: credential.map { (LuaValue.string($0.key), $0.value.luaValue) }))
                    if entries[kind, default: [:]][key] == nil {
                        entries[kind, default: [:]][key] = (table, credentialTable)
                    }
                }
            }
        }
        self.entries = entries
    }

    public func find(kind: String, key: String) -> (consumer: LuaValue, credential: LuaValue)? {
        entries[kind]?[key]
    }
}

extension ConfigValue {
    /// The value as Lua sees it.
    public var luaValue: LuaValue {
        switch self {
        case .null: return .nil
        case .bool(let value): return .boolean(value)
        case .int(let value): return .integer(Int64(value))
        case .double(let value): return .number(value)
        case .string(let value): return .string(value)
        case .list(let values): return .array(values.map(\.luaValue))
        case .map(let entries): return .map(Dictionary(uniqueKeysWithValues: entries.map { (LuaValue.string($0.key), $0.value.luaValue) }))
        }
    }
}

/// The keys of a YAML map that passed the unknown-key check, by name. A key with an
/// empty value is left out, so `health:` with nothing under it means "defaults".
struct ConfigFields {
    /// The map itself, for reporting keys that are missing from it.
    let owner: ConfigNode
    private let values: [String: ConfigNode]

    init(owner: ConfigNode, values: [String: ConfigNode]) {
        self.owner = owner
        self.values = values
    }

    subscript(key: String) -> ConfigNode? { values[key] }

    /// Where a missing key would have been written.
    func sourceOfMissing(_ key: String) -> ConfigSource {
        ConfigSource(file: owner.file, line: owner.line, path: owner.path.isEmpty ? key : "\(owner.path).\(key)")
    }
}

/// Picking the records that answer a question out of a response.
extension DNSMessage {
    /// The answer records of `type` for `name` (lower-case, no trailing dot), following
    /// the CNAME chain a recursive server puts in the answer section. Each record's TTL
    /// is lowered to the smallest along its chain: an alias expiring first changes the
    /// answer as much as the address does. Records of other names are ignored, so a
    /// server cannot slip in addresses for a name nobody asked about.
    public func answers(for name: String, type: DNSRecordType) -> [DNSRecord] {
        var owner = name
        var chainTTL = UInt32.max
        var visited: Set<String> = [name]
        while type != .cname,
            let alias = answers.first(where: { $0.name == owner && $0.type == .cname && $0.recordClass == DNSRecord.internetClass }),
            case .cname(let canonical) = alias.data,
            visited.insert(canonical).inserted
        {
            chainTTL = min(chainTTL, alias.ttl)
            owner = canonical
        }
        return answers.compactMap { record in
            guard record.name == owner, record.type == type, record.recordClass == DNSRecord.internetClass else {
                return nil
            }
            var answer = record
            answer.ttl = min(record.ttl, chainTTL)
            return answer
        }
    }

    /// The A and AAAA records the additional section carries for `name` (glue for SRV
    /// targets, RFC 2782), which save a follow-up query per target.
    public func additionalAddresses(for name: String) -> [DNSRecord] {
        additional.filter { record in
            record.name == name && (record.type == .a || record.type == .aaaa) && record.recordClass == DNSRecord.internetClass
        }
    }
}

/// One entry of a message's question section: the name and type asked about (class IN
/// is the only one used here, but the class is kept for checking answers).
public struct DNSQuestion: Sendable, Hashable {
    /// Lower-cased, without the trailing dot ("" is the root).
    public var name: String
    public var type: DNSRecordType
    public var recordClass: UInt16

    public init(name: String, type: DNSRecordType, recordClass: UInt16 = DNSRecord.internetClass) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

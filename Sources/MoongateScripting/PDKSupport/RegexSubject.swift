/// A byte string prepared for Swift Regex, which matches `String`s: the text, and the
/// way back from positions in the text to byte offsets in the original bytes.
///
/// Valid UTF-8 (the usual case) decodes to a string with the same bytes, so offsets are
/// the same. Invalid sequences become U+FFFD (three bytes in the text, one to three in
/// the original); then a table maps each text offset back. Captured text is always cut
/// from the original bytes, so invalid bytes survive a match or a `gsub` unchanged.
struct RegexSubject {
    let bytes: [UInt8]
    let text: String
    /// Original byte offset for each UTF-8 offset of `text` (0...text.utf8.count), or
    /// nil when the two coincide.
    private let originalOffsets: [Int]?

    private static let replacementCharacter: Unicode.Scalar = "\u{FFFD}"

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        if let text = String(validating: bytes, as: UTF8.self) {
            self.text = text
            self.originalOffsets = nil
            return
        }
        var scalars = String.UnicodeScalarView()
        var offsets: [Int] = []
        offsets.reserveCapacity(bytes.count + 16)
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var originalOffset = 0
        decoding: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                scalars.append(Unicode.UTF8.decode(encoded))
                for index in 0..<encoded.count { offsets.append(originalOffset + index) }
                originalOffset += encoded.count
            case .error(let length):
                scalars.append(Self.replacementCharacter)
                // Only the start of U+FFFD is ever a match boundary (matches end on
                // scalar boundaries), so its three text bytes all map to the sequence.
                offsets.append(contentsOf: repeatElement(originalOffset, count: 3))
                originalOffset += length
            case .emptyInput:
                break decoding
            }
        }
        offsets.append(originalOffset)
        self.text = String(scalars)
        self.originalOffsets = offsets
    }

    /// The offset in `bytes` of a scalar-aligned index of `text`.
    func byteOffset(of index: String.Index) -> Int {
        let textOffset = text.utf8.distance(from: text.startIndex, to: index)
        return originalOffsets?[textOffset] ?? textOffset
    }

    /// The bytes of `range` (a range of `text`) as they were in the original.
    func bytes(in range: Range<String.Index>) -> [UInt8] {
        Array(bytes[byteRange(of: range)])
    }

    func byteRange(of range: Range<String.Index>) -> Range<Int> {
        byteOffset(of: range.lowerBound)..<byteOffset(of: range.upperBound)
    }
}

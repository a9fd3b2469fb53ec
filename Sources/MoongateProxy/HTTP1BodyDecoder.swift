import NIOCore
import NIOHTTP1

/// What the client request parser and the upstream response parser hand on, one at
/// a time: a head, body bytes (slices of the received buffers), the end with trailers.
enum HTTP1Event<Head> {
    case head(Head)
    case body(ByteBuffer)
    case end(HTTPHeaders?)
}

/// Reads the body that follows a message head (RFC 9112 §6-7): a fixed length,
/// chunked (with trailers), or everything until the connection closes. Body bytes are
/// handed on as slices of the received buffers (no copy). Shared by the client
/// request parser and the upstream response parser.
struct HTTP1BodyDecoder {
    enum Framing {
        /// More than zero bytes (a zero length has no body to read).
        case length(Int)
        case chunked
        /// Responses only: the body ends when the connection does.
        case untilClose
    }

    enum Step {
        /// Body bytes; `isLast` when the body ends with them (a fixed length reached).
        case body(ByteBuffer, isLast: Bool)
        /// A chunked body ended, with its trailers if it had any.
        case end(HTTPHeaders?)
        /// Framing bytes were consumed; nothing to hand on.
        case progressed
        /// The bytes there do not complete the next piece of framing.
        case needsMore
    }

    private enum State {
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    private var state: State
    private var trailers: HTTPHeaders?
    /// Bytes of trailer fields so far (limited like a head).
    private var trailerBytes = 0

    init(_ framing: Framing) {
        switch framing {
        case .length(let length): state = .fixed(remaining: length)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
    }

    var isCloseDelimited: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// One step of the body `reading` reads, as a parser's event (nil when the step
    /// only consumed framing, or needs more bytes: then `progressed` is false). A body
    /// that ended sets `reading` to nil; one that ended with the bytes handed on sets
    /// `endQueued` (its `.end` follows).
    static func next<Head>(
        _ reading: inout HTTP1BodyDecoder?, _ bytes: inout ByteBuffer, endQueued: inout Bool
    ) throws(HTTPParserError) -> (event: HTTP1Event<Head>?, progressed: Bool) {
        switch try reading!.step(&bytes) {
        case .body(let slice, let isLast):
            if isLast {
                reading = nil
                endQueued = true
            }
            return (.body(slice), true)
        case .end(let trailers):
            reading = nil
            return (.end(trailers), true)
        case .progressed:
            return (nil, true)
        case .needsMore:
            return (nil, false)
        }
    }

    /// One step over `bytes` (which hold at least one byte).
    mutating func step(_ bytes: inout ByteBuffer) throws(HTTPParserError) -> Step {
        switch state {
        case .fixed(let remaining):
            let slice = bytes.readSlice(length: min(remaining, bytes.readableBytes))!
            let left = remaining - slice.readableBytes
            state = .fixed(remaining: left)
            return .body(slice, isLast: left == 0)
        case .chunkSize:
            guard let line = try HTTP1Syntax.readLine(&bytes, limit: 4096) else { return .needsMore }
            let size = try HTTP1Syntax.chunkSize(line)
            state = size == 0 ? .trailers : .chunkData(remaining: size)
            return .progressed
        case .chunkData(let remaining):
            let slice = bytes.readSlice(length: min(remaining, bytes.readableBytes))!
            let left = remaining - slice.readableBytes
            state = left == 0 ? .chunkDataEnd : .chunkData(remaining: left)
            return .body(slice, isLast: false)
        case .chunkDataEnd:
            guard let line = try HTTP1Syntax.readLine(&bytes, limit: 2) else { return .needsMore }
            guard line.readableBytes == 0 else { throw HTTPParserError.invalidChunkSize }
            state = .chunkSize
            return .progressed
        case .trailers:
            guard let line = try HTTP1Syntax.readLine(&bytes, limit: HTTP1Syntax.maxHeadBytes) else { return .needsMore }
            if line.readableBytes == 0 { return .end(trailers) }
            trailerBytes += line.readableBytes + 2
            guard trailerBytes <= HTTP1Syntax.maxHeadBytes else { throw HTTPParserError.headerOverflow }
            guard let (name, value) = line.withUnsafeReadableBytes({ HTTP1Syntax.field($0) }) else {
                throw HTTPParserError.invalidHeaderToken
            }
            var fields = trailers ?? HTTPHeaders()
            fields.add(name: name, value: value)
            trailers = fields
            return .progressed
        case .untilClose:
            let all = bytes.readSlice(length: bytes.readableBytes)!
            return .body(all, isLast: false)
        }
    }
}

import NIOHTTP1
import Testing

@testable import MoongateScripting

@Suite("Header edits")
struct HeaderEditTests {
    /// The edits applied one at a time with NIO's own operations: the reference.
    static func oneByOne(_ edits: [HeaderEdit], to headers: HTTPHeaders) -> HTTPHeaders {
        var headers = headers
        for edit in edits { edit.apply(to: &headers) }
        return headers
    }

    static func pairs(_ headers: HTTPHeaders) -> [String] { headers.map { "\($0.name)=\($0.value)" } }

    @Test("an authentication plugin's edits: the client's consumer headers go, the gateway's are appended")
    func authentication() {
        let incoming = HTTPHeaders([("Host", "a"), ("x-consumer-username", "forged"), ("Accept", "*/*"), ("X-Anonymous-Consumer", "true")])
        let edits: [HeaderEdit] = [
            .clear("X-Consumer-Username"), .clear("X-Consumer-Groups"), .set("X-Consumer-Username", "alice"),
            .clear("X-Consumer-Groups"), .set("X-Credential-Identifier", "key-1"), .clear("X-Anonymous-Consumer"),
        ]
        var headers = incoming
        HeaderEdit.apply(edits, to: &headers)
        #expect(Self.pairs(headers) == ["Host=a", "Accept=*/*", "X-Consumer-Username=alice", "X-Credential-Identifier=key-1"])
        #expect(Self.pairs(headers) == Self.pairs(Self.oneByOne(edits, to: incoming)))
    }

    @Test("any sequence of edits gives what applying them one by one gives")
    func sameAsOneByOne() {
        var random = SystemRandomNumberGenerator()
        let names = ["A", "a", "B", "c-d", "C-D"]
        for _ in 0..<2000 {
            let incoming = HTTPHeaders((0..<Int.random(in: 0...5, using: &random)).map { index in
                (names.randomElement(using: &random)!, "in\(index)")
            })
            let edits: [HeaderEdit] = (0..<Int.random(in: 0...6, using: &random)).map { index in
                let name = names.randomElement(using: &random)!
                switch Int.random(in: 0..<3, using: &random) {
                case 0: return .set(name, "s\(index)")
                case 1: return .add(name, "a\(index)")
                default: return .clear(name)
                }
            }
            var folded = incoming
            HeaderEdit.apply(edits, to: &folded)
            #expect(Self.pairs(folded) == Self.pairs(Self.oneByOne(edits, to: incoming)), "\(edits) on \(Self.pairs(incoming))")
        }
    }
}

import Testing

@testable import MoongateProxy

@Suite("Exchange state machine")
struct ExchangeStateMachineTests {
    @Test("a keep-alive exchange goes idle -> connecting -> forwarding -> responding -> idle and reuses the upstream")
    func happyPath() {
        var machine = ExchangeStateMachine()
        do {
            let requestHeadResult = machine.requestHead(keepAlive: true)
            #expect(requestHeadResult == .process)
        }
        machine.connecting()
        do {
            let requestBodyResult = machine.requestBody(bytes: 10, maxBodyBytes: 100)
            #expect(requestBodyResult == .buffer)
        }
        do {
            let requestEndResult = machine.requestEnd()
            #expect(requestEndResult == .buffer)
        }
        do {
            let upstreamConnectedResult = machine.upstreamConnected() == .sendBuffered(armReadTimer: true)
            #expect(upstreamConnectedResult)
        }
        do {
            let responseHeadResult = machine.responseHead(upstreamKeepAlive: true, needsCloseToDelimit: false) == .send(close: false)
            #expect(responseHeadResult)
        }
        #expect(machine.responseBodyAccepted())
        do {
            let responseEndResult = machine.responseEnd() == .finish(reuseUpstream: true, close: false)
            #expect(responseEndResult)
        }
        #expect(machine.state == .idle)
    }

    @Test("the body streams up once connected; the end arms the read timer only before a response")
    func streaming() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(keepAlive: true)
        machine.connecting()
        do {
            let upstreamConnectedResult = machine.upstreamConnected() == .sendBuffered(armReadTimer: false)
            #expect(upstreamConnectedResult)
        }
        do {
            let requestBodyResult = machine.requestBody(bytes: 10, maxBodyBytes: 100)
            #expect(requestBodyResult == .forward)
        }
        do {
            let requestEndResult = machine.requestEnd() == .forward(armReadTimer: true)
            #expect(requestEndResult)
        }
    }

    @Test("an early response closes the client connection and does not reuse the upstream")
    func earlyResponse() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(keepAlive: true)
        machine.connecting()
        _ = machine.upstreamConnected()
        do {
            let responseHeadResult = machine.responseHead(upstreamKeepAlive: true, needsCloseToDelimit: false) == .send(close: true)
            #expect(responseHeadResult)
        }
        do {
            let responseEndResult = machine.responseEnd() == .finish(reuseUpstream: false, close: true)
            #expect(responseEndResult)
        }
        #expect(machine.state == .closed)
    }

    @Test("Connection: close from the client, an HTTP/1.0 response without length, and an upstream close")
    func closing() {
        var client = ExchangeStateMachine()
        _ = client.requestHead(keepAlive: false)
        client.connecting()
        _ = client.requestEnd()
        _ = client.upstreamConnected()
        do {
            let responseHeadResult = client.responseHead(upstreamKeepAlive: true, needsCloseToDelimit: false) == .send(close: true)
            #expect(responseHeadResult)
        }
        do {
            let responseEndResult = client.responseEnd() == .finish(reuseUpstream: true, close: true)
            #expect(responseEndResult)
        }

        var delimited = ExchangeStateMachine()
        _ = delimited.requestHead(keepAlive: true)
        delimited.connecting()
        _ = delimited.requestEnd()
        _ = delimited.upstreamConnected()
        do {
            let responseHeadResult = delimited.responseHead(upstreamKeepAlive: false, needsCloseToDelimit: true) == .send(close: true)
            #expect(responseHeadResult)
        }
        do {
            let responseEndResult = delimited.responseEnd() == .finish(reuseUpstream: false, close: true)
            #expect(responseEndResult)
        }
    }

    @Test("a rejection before the body ended discards the rest, then goes idle")
    func rejectionDiscardsBody() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(keepAlive: true)
        do {
            let rejectResult = machine.reject(.noRoute, close: false) == .send(.noRoute, close: false, nowIdle: false)
            #expect(rejectResult)
        }
        #expect(machine.state == .rejecting)
        do {
            let requestBodyResult = machine.requestBody(bytes: 5, maxBodyBytes: 100)
            #expect(requestBodyResult == .discard)
        }
        do {
            let requestEndResult = machine.requestEnd() == .finishRejected(close: false)
            #expect(requestEndResult)
        }
        #expect(machine.state == .idle)
    }

    @Test("a rejection after the whole request was read is over at once")
    func rejectionAfterEnd() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(keepAlive: true)
        machine.connecting()
        _ = machine.requestEnd()
        do {
            let upstreamFailedResult = machine.upstreamFailed(.upstreamUnavailable) == .send(.upstreamUnavailable, close: false, nowIdle: true)
            #expect(upstreamFailedResult)
        }
        #expect(machine.state == .idle)
    }

    @Test("an upstream failure before the request ended closes the client connection")
    func failureMidBody() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(keepAlive: true)
        machine.connecting()
        do {
            let upstreamFailedResult = machine.upstreamFailed(.upstreamTimeout) == .send(.upstreamTimeout, close: true, nowIdle: false)
            #expect(upstreamFailedResult)
        }
        do {
            let upstreamConnectedResult = machine.upstreamConnected()
            #expect(upstreamConnectedResult == .releaseUnused)
        }
    }

    @Test("a failure after the response started closes; a late failure is ignored")
    func failureWhileResponding() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(keepAlive: true)
        machine.connecting()
        _ = machine.requestEnd()
        _ = machine.upstreamConnected()
        _ = machine.responseHead(upstreamKeepAlive: true, needsCloseToDelimit: false)
        do {
            let upstreamFailedResult = machine.upstreamFailed(.upstreamBroken)
            #expect(upstreamFailedResult == nil)
        }
        do {
            let upstreamLostResult = machine.upstreamLost()
            #expect(upstreamLostResult)
        }
        #expect(machine.state == .closed)
    }

    @Test("a body over the limit: 413 before a response, close while responding")
    func bodyLimit() {
        var before = ExchangeStateMachine()
        _ = before.requestHead(keepAlive: true)
        before.connecting()
        do {
            let requestBodyResult = before.requestBody(bytes: 101, maxBodyBytes: 100) == .reject(.send(.bodyTooLarge, close: true, nowIdle: false))
            #expect(requestBodyResult)
        }

        var during = ExchangeStateMachine()
        _ = during.requestHead(keepAlive: true)
        during.connecting()
        _ = during.upstreamConnected()
        _ = during.responseHead(upstreamKeepAlive: true, needsCloseToDelimit: false)
        do {
            let requestBodyResult = during.requestBody(bytes: 101, maxBodyBytes: 100)
            #expect(requestBodyResult == .closeAll)
        }
    }

    @Test("parse errors are answered only before a response")
    func parseErrors() {
        var idle = ExchangeStateMachine()
        do {
            let parseErrorResult = idle.parseError(headerOverflow: true) == .send(.headersTooLarge)
            #expect(parseErrorResult)
        }
        var responding = ExchangeStateMachine()
        _ = responding.requestHead(keepAlive: true)
        responding.connecting()
        _ = responding.upstreamConnected()
        _ = responding.responseHead(upstreamKeepAlive: true, needsCloseToDelimit: false)
        do {
            let parseErrorResult = responding.parseError(headerOverflow: false)
            #expect(parseErrorResult == .close)
        }
    }

    @Test("drain: idle closes now, busy closes after its response; heads are ignored once closed")
    func drain() {
        var idle = ExchangeStateMachine()
        do {
            let drainResult = idle.drain()
            #expect(drainResult)
        }
        do {
            let requestHeadResult = idle.requestHead(keepAlive: true)
            #expect(requestHeadResult == .ignore)
        }

        var busy = ExchangeStateMachine()
        _ = busy.requestHead(keepAlive: true)
        busy.connecting()
        _ = busy.requestEnd()
        do {
            let drainResult = busy.drain()
            #expect(!drainResult)
        }
        _ = busy.upstreamConnected()
        do {
            let responseHeadResult = busy.responseHead(upstreamKeepAlive: true, needsCloseToDelimit: false) == .send(close: true)
            #expect(responseHeadResult)
        }
        do {
            let responseEndResult = busy.responseEnd() == .finish(reuseUpstream: true, close: true)
            #expect(responseEndResult)
        }
    }

    @Test("the header timeout fires only while no head was decoded")
    func headerTimeout() {
        var idle = ExchangeStateMachine()
        do {
            let headerTimedOutResult = idle.headerTimedOut()
            #expect(headerTimedOutResult)
        }
        var busy = ExchangeStateMachine()
        _ = busy.requestHead(keepAlive: true)
        busy.connecting()
        do {
            let headerTimedOutResult = busy.headerTimedOut()
            #expect(!headerTimedOutResult)
        }
    }

    @Test("a request is replayed on a fresh connection at most once, and only before a response")
    func replay() {
        var machine = ExchangeStateMachine()
        _ = machine.requestHead(keepAlive: true)
        machine.connecting()
        _ = machine.requestEnd()
        _ = machine.upstreamConnected()
        do {
            let first = machine.replayOnFreshConnection()
            #expect(first)
        }
        #expect(machine.state == .connecting)
        _ = machine.upstreamConnected()
        do {
            let second = machine.replayOnFreshConnection()
            #expect(!second)
        }
        _ = machine.responseHead(upstreamKeepAlive: true, needsCloseToDelimit: false)
        do {
            let afterResponse = machine.replayOnFreshConnection()
            #expect(!afterResponse)
        }
    }
}

import NIOCore
import NIOPosix
import Testing

@testable import LuaKit

@Suite("Coroutines")
struct CoroutineTests {
    /// Runs `body` on a fresh event loop and waits for the value it reports.
    func onEventLoop<T: Sendable>(
        _ body: @escaping @Sendable (NIOIsolatedEventLoop, EventLoopPromise<T>) throws -> Void
    ) throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let promise = loop.makePromise(of: T.self)
        loop.execute {
            do {
                try body(loop.assumeIsolated(), promise)
            } catch {
                promise.fail(error)
            }
        }
        return try promise.futureResult.wait()
    }

    /// A host function `wait(value, ms)` that parks the run and resumes it with
    /// `value` from a task scheduled on the event loop.
    static func registerWait(on vm: LuaVM, loop: NIOIsolatedEventLoop) {
        vm.register("wait") { call in
            guard let handle = call.suspend() else { return .error("wait: cannot wait here") }
            let value = (try? call.argument(1)) ?? .nil
            let milliseconds = call.integer(2) ?? 0
            loop.scheduleTask(in: .milliseconds(milliseconds)) { handle.resume(with: [value]) }
            return .yield
        }
    }

    @Test("a host function yields and Swift resumes it from an event loop with a value")
    func resumeFromEventLoop() throws {
        let result: [LuaValue] = try onEventLoop { loop, promise in
            let vm = try LuaVM()
            Self.registerWait(on: vm, loop: loop)
            let function = try vm.load("local v = wait(41, 20) return v + 1, 'after'", name: "wait.lua")
            vm.start(function, requeue: { loop.execute($0) }) { outcome in
                promise.completeWith(outcome.mapError { $0 as any Error })
                _ = vm
            }
        }
        #expect(result == [42, "after"])
    }

    @Test("a host wait inside a script's own coroutine reaches the host and returns inside")
    func waitInsideScriptCoroutine() throws {
        let result: [LuaValue] = try onEventLoop { loop, promise in
            let vm = try LuaVM()
            Self.registerWait(on: vm, loop: loop)
            let function = try vm.load(
                """
                local co = coroutine.wrap(function(a)
                  local b = wait(a * 2, 5)
                  local c = coroutine.yield(b + 1)
                  return c .. '!'
                end)
                local first = co(10)
                local second = co('done')
                return first, second
                """, name: "nested.lua")
            vm.start(function, requeue: { loop.execute($0) }) { outcome in
                promise.completeWith(outcome.mapError { $0 as any Error })
                _ = vm
            }
        }
        #expect(result == [21, "done!"])
    }

    @Test("time parked in a host wait does not count against the deadline")
    func parkedTimeIsFree() throws {
        let result: [LuaValue] = try onEventLoop { loop, promise in
            let vm = try LuaVM(limits: LuaLimits(deadline: .milliseconds(30)))
            Self.registerWait(on: vm, loop: loop)
            let function = try vm.load("wait(0, 60) wait(0, 60) return 'ok'", name: "parked.lua")
            vm.start(function, requeue: { loop.execute($0) }) { outcome in
                promise.completeWith(outcome.mapError { $0 as any Error })
                _ = vm
            }
        }
        #expect(result == ["ok"])
    }

    @Test("10 000 interleaved coroutines on one VM all complete")
    func interleaved() throws {
        let count = 10_000
        let sum: Int64 = try onEventLoop { loop, promise in
            let vm = try LuaVM()
            var parked: [LuaResumeHandle] = []
            vm.register("park") { call in
                guard let handle = call.suspend() else { return .error("cannot park") }
                parked.append(handle)
                return .yield
            }
            let function = try vm.load("local n = ... local v = park() return n + v", name: "park.lua")
            var total: Int64 = 0
            var finished = 0
            for index in 0..<count {
                vm.start(function, [.integer(Int64(index))], requeue: { loop.execute($0) }) { outcome in
                    if case .success(let values) = outcome, let value = values.first?.integerValue {
                        total += value
                    }
                    finished += 1
                    if finished == count { promise.succeed(total) }
                }
            }
            // Resume in an order unrelated to the start order, each with its own value.
            let handles = parked
            parked = []
            for (offset, handle) in handles.enumerated().reversed() {
                loop.execute { handle.resume(with: [.integer(Int64(offset))]) }
            }
            _ = vm
        }
        let expected = Int64(count * (count - 1))  // sum of indexes + sum of offsets
        #expect(sum == expected)
    }

    @Test("a runaway is preempted slice by slice while a short run started after it completes")
    func slicing() throws {
        struct Outcome: Sendable {
            var shortFinishedWhileRunawayPending = false
            var preemptions = 0
            var runawayKind = ""
            var healthy: [LuaValue] = []
        }
        let outcome: Outcome = try onEventLoop { loop, promise in
            let vm = try LuaVM(limits: LuaLimits(slice: .milliseconds(2), deadline: .milliseconds(300)))
            let runaway = try vm.load("while true do end", name: "runaway.lua")
            let short = try vm.load("return 'short'", name: "short.lua")
            var result = Outcome()
            var runawayDone = false
            vm.start(runaway, requeue: { step in
                result.preemptions += 1
                loop.execute(step)
            }) { runawayOutcome in
                runawayDone = true
                if case .failure(let error) = runawayOutcome { result.runawayKind = error.kind }
                result.healthy = (try? vm.run(short)) ?? []
                promise.succeed(result)
            }
            vm.start(short, requeue: { loop.execute($0) }) { shortOutcome in
                if case .success(["short"]) = shortOutcome, !runawayDone {
                    result.shortFinishedWhileRunawayPending = true
                }
            }
        }
        #expect(outcome.shortFinishedWhileRunawayPending)
        #expect(outcome.preemptions >= 10)
        #expect(outcome.runawayKind == "timeout")
        #expect(outcome.healthy == ["short"])
    }
}

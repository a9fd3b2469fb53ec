// Micro-benchmarks of the Swift <-> Lua boundary. Run in release mode:
//
//     swift run -c release luakit-bench
//
// Each figure is the median of 7 rounds; a round times a batch of operations with
// ContinuousClock and divides. Figures go to docs/luakit.md.
import LuaKit

#if canImport(Glibc)
import Glibc
#endif

/// LUAKIT_BENCH=text runs only the measurements whose name contains `text`, and
/// LUAKIT_BENCH_ROUNDS sets the rounds (for profiling under callgrind).
let only = getenv("LUAKIT_BENCH").map { String(cString: $0) }
let roundCount = getenv("LUAKIT_BENCH_ROUNDS").flatMap { Int(String(cString: $0)) } ?? 7

func measure(_ name: String, operations: Int, rounds: Int = roundCount, _ body: () throws -> Void) rethrows -> Double {
    if let only, !name.contains(only) { return 1 }
    var samples: [Double] = []
    try body()  // warm-up
    for _ in 0..<rounds {
        let clock = ContinuousClock()
        let elapsed = try clock.measure { try body() }
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        samples.append(nanoseconds / Double(operations))
    }
    samples.sort()
    let median = samples[samples.count / 2]
    let padded = name.count >= 52 ? name : name + String(repeating: " ", count: 52 - name.count)
    print("\(padded) \(formatted(median)) ns/op   (min \(formatted(samples.first!)), max \(formatted(samples.last!)))")
    return median
}

func formatted(_ value: Double) -> String {
    let text = String(Int((value * 10).rounded()))
    let whole = text.dropLast().isEmpty ? "0" : String(text.dropLast())
    return "\(whole).\(text.last!)".leftPadded(to: 8)
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

let limits = LuaLimits()  // the defaults: 64 MiB, 2 ms slice, 1 s deadline, no budget
let vm = try LuaVM(limits: limits)

// 1. Swift -> Lua: protected call of an empty function on the main thread.
let emptyFunction = try vm.load("", name: "empty")
let calls = 1_000_000
_ = try measure("Swift->Lua call (vm.call, no args/results)", operations: calls) {
    for _ in 0..<calls { _ = try vm.call(emptyFunction) }
}

// 2. Lua -> Swift: a host function called in a Lua loop (loop overhead subtracted).
vm.register("noop") { _ in .results(0) }
let hostLoop = try vm.load("local noop = noop for i = 1, 10000000 do noop() end", name: "host-loop")
let luaLoop = try vm.load(
    "local function f() end for i = 1, 10000000 do f() end", name: "lua-loop")
let hostCall = try measure("  Lua loop calling a host function", operations: 10_000_000) {
    _ = try vm.call(hostLoop)
}
let luaCall = try measure("  Lua loop calling an empty Lua function", operations: 10_000_000) {
    _ = try vm.call(luaLoop)
}
print("Lua->Swift host call (minus a Lua->Lua call)          \(formatted(hostCall - luaCall)) ns/op   (total \(formatted(hostCall)))")

// 3. A run on a pooled (reused) coroutine.
let runs = 1_000_000
_ = try measure("reused-coroutine run (vm.run, no args/results)", operations: runs) {
    for _ in 0..<runs { _ = try vm.run(emptyFunction) }
}
let noRequeue: LuaRequeue = { $0() }
_ = measure("reused-coroutine run (vm.start with a requeue)", operations: runs) {
    for _ in 0..<runs { vm.start(emptyFunction, requeue: noRequeue) { _ in } }
}

// 4. A run that yields once to Swift and is resumed.
var parked: LuaResumeHandle?
vm.register("park") { call in
    parked = call.suspend()
    return .yield
}
let parking = try vm.load("park()", name: "park")
let runWithYield = measure("run with one host yield + resume", operations: runs) {
    for _ in 0..<runs {
        vm.start(parking, requeue: noRequeue) { _ in }
        parked!.resume()
    }
}

// 5. VM creation (sandboxed libraries, require, print) and destruction.
let creations = 2_000
_ = try measure("VM creation + close (LuaVM())", operations: creations) {
    for _ in 0..<creations { _ = try LuaVM(limits: limits) }
}
let fresh = try LuaVM(limits: limits)
print("memory of a fresh VM: \(fresh.memoryInUse / 1024) KiB")

// 6. The cost of an instruction budget (a count hook on every run) on a tight loop.
let spin = "local x = 0 for i = 1, 20000000 do x = x + i end return x"
let plainVM = try LuaVM(limits: limits)
let plainSpin = try plainVM.load(spin, name: "spin")
var budgetLimits = limits
budgetLimits.instructions = 1_000_000_000
let budgetVM = try LuaVM(limits: budgetLimits)
let budgetSpin = try budgetVM.load(spin, name: "spin")
let plain = try measure("tight loop iteration, no hook (watchdog only)", operations: 20_000_000) {
    _ = try plainVM.run(plainSpin)
}
let budget = try measure("tight loop iteration, instruction budget hook", operations: 20_000_000) {
    _ = try budgetVM.run(budgetSpin)
}
print("instruction budget overhead: x\(formatted(budget / plain).trimmingCharacters())")
_ = runWithYield

extension String {
    func trimmingCharacters() -> String { String(drop(while: { $0 == " " })) }
}

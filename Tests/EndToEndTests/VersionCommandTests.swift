import Testing

@Suite("moongate version")
struct VersionCommandTests {
    @Test("prints the version, the Lua runtime and build information")
    func version() throws {
        let result = try MoongateBinary.locate().run(["version"])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("moongate 0."))
        #expect(result.standardOutput.contains("Lua 5.4"))
        #expect(result.standardOutput.contains("build: "))
    }

    @Test("an unknown command is a usage error (exit 2)")
    func usageError() throws {
        let result = try MoongateBinary.locate().run(["frobnicate"])
        #expect(result.status == 2)
        #expect(!result.standardError.isEmpty)
    }
}

import Foundation
import HTTPTestSupport
import Testing

/// SPEC §3 Safety on real sockets: a plugin tries every way out of the sandbox, each
/// inside pcall, during a real request. Every attempt must be refused while the
/// request itself is served normally.
@Suite struct SandboxThroughProxyTests {
    static let config = """
        upstreams:
          - name: origin
            targets: [{ address: "ORIGIN" }]
        routes:
          - { name: escape, match: { paths: ["/escape"] }, upstream: origin, plugins: [{ name: escape }] }
        """

    /// The plugin gets the path of a Lua file outside every scripts path in its config.
    static func scripts(outsideModuleDirectory: String) -> [String: String] {
        [
            "escape.lua": #"""
            local outside_dir = "\#(outsideModuleDirectory)"

            -- Each attempt: a function that succeeds only if the sandbox let it through.
            local attempts = {
              os_execute = function() return os.execute("true") end,
              os_exit = function() return os.exit(0) end,
              os_remove = function() return os.remove("/tmp/moongate-sandbox-probe") end,
              os_rename = function() return os.rename("/tmp/a", "/tmp/b") end,
              os_getenv = function() return os.getenv("PATH") end,
              io_open = function() return io.open("/etc/passwd") end,
              debug_getinfo = function() return debug.getinfo(1) end,
              package_loadlib = function() return package.loadlib("libc.so.6", "system") end,
              bytecode_load = function()
                local bytecode = string.dump(function() return 1 end)
                return assert(load(bytecode))
              end,
              binary_mode_load = function() return assert(load(string.dump(function() return 1 end), "chunk", "b")) end,
              binary_or_text_mode_load = function() return assert(load(string.dump(function() return 1 end), "chunk", "bt")) end,
              require_absolute = function() return require("/etc/passwd") end,
              require_parent = function() return require("../x") end,
              require_outside = function() return require("outside_module") end,
              require_after_package_path = function()
                package.path = outside_dir .. "/?.lua;" .. (package.path or "")
                return require("outside_module")
              end,
              dofile = function() return dofile("/etc/passwd") end,
              loadfile = function() return loadfile("/etc/passwd") end,
              collectgarbage_collect = function() return collectgarbage("collect") end,
              collectgarbage_default = function() return collectgarbage() end,
              gc_metamethod = function() return setmetatable({}, { __gc = function() end }) end,
            }

            return {
              priority = 1000,
              access = function(conf)
                local escaped = {}
                for name, attempt in pairs(attempts) do
                  local ok, result = pcall(attempt)
                  if ok then escaped[#escaped + 1] = name .. "=" .. tostring(result) end
                end
                table.sort(escaped)
                local text_load = load("return 40 + 2")
                gate.service.request.set_header("X-Escaped", #escaped == 0 and "none" or table.concat(escaped, ","))
                gate.service.request.set_header("X-Os-Kept",
                  type(os.time()) .. "," .. type(os.clock()) .. "," .. type(os.date("%Y")))
                gate.service.request.set_header("X-Text-Load", tostring(text_load and text_load()))
                gate.service.request.set_header("X-Gc-Count", type(collectgarbage("count")))
                gate.service.request.set_header("X-Plain-Metatable", tostring(getmetatable(setmetatable({}, { __index = {} })) ~= nil))
              end,
            }
            """#
        ]
    }

    @Test func everyEscapeIsRefusedAndTheRequestIsServed() async throws {
        let outside = NSTemporaryDirectory() + "moongate-sandbox-outside-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try "return { escaped = true }".write(toFile: "\(outside)/outside_module.lua", atomically: true, encoding: .utf8)

        try await PluginGateway.with(yaml: Self.config, scripts: Self.scripts(outsideModuleDirectory: outside)) { gateway in
            let client = try gateway.client()
            for _ in 0..<2 {
                let response = try client.request("GET", "/escape")
                #expect(response.status == 200)
                #expect(response.originHeader("x-escaped") == ["none"])
                // What the sandbox keeps still works.
                #expect(response.originHeader("x-os-kept") == ["number,number,string"])
                #expect(response.originHeader("x-text-load") == ["42"])
                #expect(response.originHeader("x-gc-count") == ["number"])
                #expect(response.originHeader("x-plain-metatable") == ["true"])
            }
            #expect(gateway.services.errors.count(plugin: "escape") == 0)
        }
    }
}

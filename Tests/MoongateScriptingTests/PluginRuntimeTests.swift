import MoongateCore
import MoongateScripting
import Testing

@Suite struct PluginRuntimeTests {
    @Test func accessHookChangesTheUpstreamRequestAndAuthenticates() throws {
        let scripts = try TemporaryScripts([
            "demo.lua": """
            local plugin = { version = "1.0.0", priority = 1000,
              schema = { fields = { greeting = { type = "string", default = "hi" } } } }
            function plugin.access(conf)
              local key = gate.request.get_header("apikey")
              if not key then return gate.response.exit(401, { message = "no key" }) end
              local consumer, credential = gate.consumers.find("key-auth", key)
              if not consumer then return gate.response.exit(401, { message = "bad key" }) end
              gate.client.authenticate(consumer, credential)
              gate.service.request.set_header("X-Greeting", conf.greeting .. " " .. gate.request.get_path())
              gate.service.request.clear_header("apikey")
              gate.service.request.set_path("/rewritten")
              gate.ctx.shared.seen = true
            end
            function plugin.header_filter(conf)
              gate.response.set_header("X-Seen", tostring(gate.ctx.shared.seen))
            end
            return plugin
            """
        ])
        let consumers = [ConsumerConfig(username: "alice", groups: ["gold"], credentials: ["key-auth": [["key": .string("k1")]]])]
        let runner = try PluginTestRunner(
            plugin: "demo", scripts: try scripts.scriptSet(), config: ["greeting": .string("hello")], consumers: consumers)

        let missing = runner.run(request("GET", "/x"))
        #expect(missing.shortCircuited)
        #expect(missing.response?.status == 401)
        #expect(missing.response?.bodyText == #"{"message":"no key"}"#)

        let ok = runner.run(
            request("GET", "/x?a=1", headers: [("apikey", "k1")], upstreamResponse: .init(status: 200, headers: [], body: [])))
        #expect(!ok.shortCircuited)
        #expect(ok.failure == nil)
        #expect(ok.upstreamRequest?.path == "/rewritten")
        #expect(ok.upstreamRequest?.header("x-greeting") == "hello /x")
        #expect(ok.upstreamRequest?.header("x-consumer-username") == "alice")
        #expect(ok.upstreamRequest?.header("x-consumer-groups") == "gold")
        #expect(ok.upstreamRequest?.header("apikey") == nil)
        #expect(ok.response?.header("x-seen") == "true")
    }

    @Test func runtimeErrorFailsTheRequestWithChunkAndLine() throws {
        let scripts = try TemporaryScripts([
            "broken.lua": """
            local plugin = { priority = 1 }
            function plugin.access(conf)
              local t = nil
              return t.field
            end
            return plugin
            """
        ])
        let runner = try PluginTestRunner(plugin: "broken", scripts: try scripts.scriptSet(), config: [:])
        let outcome = runner.run(request())
        #expect(outcome.response?.status == 500)
        let failure = try #require(outcome.failure)
        #expect(failure.plugin == "broken")
        #expect(failure.phase == .access)
        #expect("\(failure.error)".contains("broken.lua:4:"))
    }
}

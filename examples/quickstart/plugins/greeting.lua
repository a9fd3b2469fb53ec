-- A first plugin: answers 400 without an X-Name header, tells the upstream who
-- called, and adds a greeting to the response. Edit it while the gateway runs:
-- the change is live within 2 seconds.
local plugin = {
  version = "1.0.0",
  priority = 1000,
  schema = { fields = {
    greeting = { type = "string", default = "Hello" },
  } },
}

function plugin.access(conf)
  local name = gate.request.get_header("X-Name")
  if not name then
    return gate.response.exit(400, { message = "say who you are: send an X-Name header" })
  end
  gate.ctx.plugin.name = name
  gate.service.request.set_header("X-Greeted", name)
end

function plugin.header_filter(conf)
  gate.response.set_header("X-Greeting", conf.greeting .. ", " .. gate.ctx.plugin.name)
end

return plugin

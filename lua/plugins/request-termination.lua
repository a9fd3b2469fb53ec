--- request-termination: answers every request (or only those carrying a trigger
-- header or query argument) with a fixed response, as Kong's request-termination
-- plugin does; with `echo`, the response describes the request (for debugging).
local config = require("moongate.config")

local plugin = {
  version = "1.0.0",
  priority = 2,
  schema = { fields = {
    status_code = { type = "integer", required = true, default = 503, between = { 100, 599 } },
    message = { type = "string" },
    body = { type = "string" },
    content_type = { type = "string" },
    echo = { type = "boolean", required = true, default = false },
    trigger = { type = "string" },
  } },
}

local DEFAULT_MESSAGES = {
  [401] = "Unauthorized",
  [404] = "Not found",
  [405] = "Method not allowed",
  [500] = "An unexpected error occurred",
  [502] = "Bad Gateway",
  [503] = "Service unavailable",
}

local function present(value)
  return type(value) == "string" and value ~= ""
end

local checked = config.checker("request-termination", function(conf)
  if present(conf.message) and (present(conf.content_type) or present(conf.body)) then
    return "message: cannot be used with content_type or body"
  end
  if present(conf.content_type) and not present(conf.body) then
    return "content_type: requires a body"
  end
  if conf.echo and (present(conf.content_type) or present(conf.body)) then
    return "echo: cannot be used with content_type or body"
  end
end)

local function echo_body(conf, headers, query)
  return {
    message = conf.message or DEFAULT_MESSAGES[conf.status_code],
    moongate = { node_id = gate.node.get_id() },
    request = {
      scheme = gate.request.get_scheme(),
      host = gate.request.get_host(),
      port = gate.request.get_port(),
      method = gate.request.get_method(),
      path = gate.request.get_path(),
      headers = headers,
      query = query,
      raw_body = gate.request.get_body(),
    },
    matched_route = gate.router.get_route(),
    matched_upstream = gate.router.get_upstream(),
  }
end

function plugin.init(conf)
  checked(conf)
end

function plugin.access(conf)
  checked(conf)
  local headers, query
  if conf.trigger or conf.echo then
    headers = gate.request.get_headers()
    query = gate.request.get_query()
    if conf.trigger and headers[conf.trigger:lower()] == nil and query[conf.trigger] == nil then
      return
    end
  end

  local status = conf.status_code
  if conf.echo then
    return gate.response.exit(status, echo_body(conf, headers, query))
  end
  if conf.body then
    return gate.response.exit(status, conf.body, { ["Content-Type"] = conf.content_type })
  end
  local message = conf.message or DEFAULT_MESSAGES[status]
  return gate.response.exit(status, message and { message = message } or nil)
end

return plugin

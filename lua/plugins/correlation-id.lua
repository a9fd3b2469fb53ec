--- correlation-id: gives every request an ID header (kept when the client sent one),
-- forwarded upstream and optionally echoed to the client, as Kong's correlation-id
-- plugin does. The default header is Moongate-Request-ID (Kong's is Kong-Request-ID).
local plugin = {
  version = "1.0.0",
  priority = 100001,
  schema = { fields = {
    header_name = { type = "string", default = "Moongate-Request-ID" },
    generator = { type = "string", required = true, default = "uuid#counter",
                  one_of = { "uuid", "uuid#counter", "tracker" } },
    echo_downstream = { type = "boolean", required = true, default = false },
  } },
}

-- Per VM (one per event loop): a random prefix and a counter, so "uuid#counter" IDs
-- are unique without drawing a random UUID for every request.
local vm_uuid
local vm_counter = 0

local function next_count()
  vm_uuid = vm_uuid or gate.uuid()
  vm_counter = vm_counter + 1
  return vm_counter
end

local GENERATORS = {
  ["uuid"] = function()
    return gate.uuid()
  end,
  ["uuid#counter"] = function()
    local n = next_count()
    return vm_uuid .. "#" .. n
  end,
  -- Kong's tracker is server address, port, worker pid, connection serial, request
  -- number and time; ours: node id, listener port, client address and port, a
  -- per-VM counter and the time with milliseconds.
  ["tracker"] = function()
    return string.format("%s-%d-%s-%d-%d-%.3f", gate.node.get_id(), gate.request.get_port(),
      gate.client.get_ip(), gate.client.get_port(), next_count(), gate.now())
  end,
}

function plugin.init()
  vm_uuid = vm_uuid or gate.uuid()
end

function plugin.access(conf)
  local id = gate.request.get_header(conf.header_name)
  if not id or id == "" then
    id = GENERATORS[conf.generator]()
    gate.service.request.set_header(conf.header_name, id)
  end
  gate.ctx.plugin.correlation_id = id
  gate.ctx.shared.correlation_id = id
end

function plugin.header_filter(conf)
  if not conf.echo_downstream then
    return
  end
  -- A request short-circuited before this plugin's access phase has no ID yet.
  local id = gate.ctx.plugin.correlation_id or gate.request.get_header(conf.header_name)
  if not id or id == "" then
    id = GENERATORS[conf.generator]()
  end
  gate.response.set_header(conf.header_name, id)
end

return plugin

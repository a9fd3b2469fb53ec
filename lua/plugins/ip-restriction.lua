--- ip-restriction: allows or denies requests by client address (IPv4/IPv6 addresses
-- and CIDR blocks), as Kong's ip-restriction plugin does. The client address is
-- gate.client.get_forwarded_ip(): the peer, or the first untrusted X-Forwarded-For hop
-- when the peer is one of proxy.trusted_proxies.
local ip = require("moongate.ip")
local config = require("moongate.config")

local plugin = {
  version = "1.0.0",
  priority = 990,
  schema = { fields = {
    allow = { type = "array", elements = "string" },
    deny = { type = "array", elements = "string" },
    status = { type = "integer", default = 403, between = { 100, 599 } },
    message = { type = "string", default = "Your IP address is not allowed" },
  } },
}

-- Compiled allow/deny matchers per conf table (a bad entry fails the config check).
local matchers = setmetatable({}, { __mode = "k" })

local function compile(conf)
  local compiled = {}
  for _, field in ipairs({ "deny", "allow" }) do
    local list = conf[field]
    if list and #list > 0 then
      local matcher, err = ip.matcher(list)
      if not matcher then
        return nil, field .. err
      end
      compiled[field] = matcher
    end
  end
  return compiled
end

local checked = config.checker("ip-restriction", function(conf)
  if (conf.allow == nil or #conf.allow == 0) and (conf.deny == nil or #conf.deny == 0) then
    return "allow: at least one of 'allow' and 'deny' must be set"
  end
  local compiled, err = compile(conf)
  if not compiled then
    return err
  end
  matchers[conf] = compiled
end)

function plugin.init(conf)
  checked(conf)
end

function plugin.access(conf)
  checked(conf)
  local compiled = matchers[conf]
  local function reject()
    gate.log.warn("client address not allowed:", gate.client.get_forwarded_ip())
    return gate.response.exit(conf.status, { message = conf.message })
  end

  local address = ip.parse(gate.client.get_forwarded_ip())
  if not address then
    return reject()
  end
  if compiled.deny and compiled.deny(address) then
    return reject()
  end
  if compiled.allow and not compiled.allow(address) then
    return reject()
  end
end

return plugin

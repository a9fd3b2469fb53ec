--- acl: lets a request through only when its authenticated consumer is (allow) or is
-- not (deny) in one of the listed groups, as Kong's acl plugin does. It runs after the
-- authentication plugins (lower priority), which set the consumer.
local config = require("moongate.config")

local plugin = {
  version = "1.0.0",
  priority = 950,
  schema = { fields = {
    allow = { type = "array", elements = "string" },
    deny = { type = "array", elements = "string" },
    hide_groups_header = { type = "boolean", required = true, default = false },
  } },
}

local GROUPS_HEADER = "X-Consumer-Groups"

local checked = config.checker("acl", function(conf)
  local has_allow = conf.allow ~= nil and #conf.allow > 0
  local has_deny = conf.deny ~= nil and #conf.deny > 0
  if has_allow == has_deny then
    return "allow: exactly one of 'allow' and 'deny' must be set (non-empty)"
  end
end)

local function in_any(groups, names)
  for _, group in ipairs(groups) do
    for _, name in ipairs(names) do
      if group == name then
        return true
      end
    end
  end
  return false
end

function plugin.init(conf)
  checked(conf)
end

function plugin.access(conf)
  checked(conf)
  local consumer = gate.client.get_consumer()
  if not consumer then
    return gate.response.exit(401, { message = "Unauthorized" })
  end
  local groups = consumer.groups or {}
  local deny_mode = conf.deny ~= nil and #conf.deny > 0
  if not deny_mode and #groups == 0 then
    -- Kong: a consumer without any group fails an allow list; 401 when it is the
    -- anonymous consumer (no credential was presented), 403 otherwise.
    if gate.client.get_credential() then
      return gate.response.exit(403, { message = "You cannot consume this service" })
    end
    return gate.response.exit(401, { message = "Unauthorized" })
  end

  local blocked
  if deny_mode then
    blocked = in_any(groups, conf.deny)
  else
    blocked = not in_any(groups, conf.allow)
  end
  if blocked then
    return gate.response.exit(403, { message = "You cannot consume this service" })
  end

  if conf.hide_groups_header then
    gate.service.request.clear_header(GROUPS_HEADER)
  elseif #groups > 0 then
    gate.service.request.set_header(GROUPS_HEADER, table.concat(groups, ", "))
  end
end

return plugin

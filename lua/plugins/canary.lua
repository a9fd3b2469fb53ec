--- canary: sends part of a route's traffic to a canary upstream. A request goes to
-- the canary when its header or cookie matches the configured value, or when it falls
-- in the first `percentage` percent of buckets. Buckets are random per request
-- (hash "none"), or stable per consumer, client IP or header value, so one client
-- keeps seeing the same version. (Kong OSS has no canary plugin; priority 13 is Kong
-- Enterprise's.)
local cookie = require("moongate.cookie")

local plugin = {
  version = "1.0.0",
  priority = 13,
  schema = { fields = {
    upstream = { type = "string", required = true },
    percentage = { type = "number", default = 0, between = { 0, 100 } },
    hash = { type = "string", default = "none", one_of = { "none", "consumer", "ip", "header" } },
    header_name = { type = "string" },
    header_value = { type = "string" },
    cookie_name = { type = "string" },
    cookie_value = { type = "string" },
  } },
}

local BUCKETS = 10000 -- 0.01% granularity

-- A stable bucket in [0, BUCKETS) from the first four bytes of the key's SHA-256.
local function bucket_of(key)
  local digest = gate.crypto.sha256(key)
  local a, b, c, d = digest:byte(1, 4)
  return ((a << 24) | (b << 16) | (c << 8) | d) % BUCKETS
end

-- The value clients are hashed on; consumer and header fall back to the client IP
-- when the request has no consumer or no such header.
local function hash_key(conf)
  if conf.hash == "consumer" then
    local consumer = gate.client.get_consumer()
    if consumer then
      return "consumer:" .. consumer.username
    end
  elseif conf.hash == "header" and conf.header_name then
    local value = gate.request.get_header(conf.header_name)
    if value and value ~= "" then
      return "header:" .. value
    end
  end
  return "ip:" .. gate.client.get_forwarded_ip()
end

local function selected(conf)
  if conf.header_name and conf.header_value
     and gate.request.get_header(conf.header_name) == conf.header_value then
    return true
  end
  if conf.cookie_name and conf.cookie_value and cookie.get(conf.cookie_name) == conf.cookie_value then
    return true
  end
  local percentage = conf.percentage or 0
  if percentage <= 0 then
    return false
  end
  local bucket
  if conf.hash == "none" then
    bucket = math.random(0, BUCKETS - 1)
  else
    bucket = bucket_of(hash_key(conf))
  end
  return bucket < percentage * (BUCKETS / 100)
end

function plugin.access(conf)
  if not selected(conf) then
    return
  end
  local ok, err = gate.service.set_upstream(conf.upstream)
  if not ok then
    -- A missing canary upstream must not take the route down: the request stays on
    -- the route's own upstream, and the log says why.
    gate.log.err("canary upstream", conf.upstream, "not used:", err)
  end
end

return plugin

--- rate-limiting: limits how many requests a client makes per second, minute, hour,
-- day, month and year, with Kong's config fields, headers and status codes.
--
-- Counting is a sliding window over gate.shared.dict("rate-limiting"), shared by every
-- event loop of the process: each period keeps a counter for the current fixed window
-- and reads the previous window's; the estimate for "the last period" is
-- previous * (1 - elapsed fraction of the current window) + current. This avoids the
-- double burst a fixed window allows at its boundary. Counters are kept per route and
-- per identifier (consumer, credential, IP, header value, path or upstream).
local config = require("moongate.config")

local plugin = {
  version = "1.0.0",
  priority = 910,
  schema = { fields = {
    second = { type = "number" },
    minute = { type = "number" },
    hour = { type = "number" },
    day = { type = "number" },
    month = { type = "number" },
    year = { type = "number" },
    limit_by = { type = "string", default = "consumer",
                 one_of = { "consumer", "credential", "ip", "service", "header", "path" } },
    header_name = { type = "string" },
    path = { type = "string" },
    policy = { type = "string", default = "local", one_of = { "local" } },
    fault_tolerant = { type = "boolean", required = true, default = true },
    hide_client_headers = { type = "boolean", required = true, default = false },
    error_code = { type = "number", default = 429 },
    error_message = { type = "string", default = "API rate limit exceeded" },
  } },
}

-- Periods from shortest to longest, with their window length in seconds. Months are
-- 30 days and years 365 days, with windows aligned to the Unix epoch (so a day window
-- starts at 00:00 UTC).
local PERIODS = {
  { name = "second", header = "Second", size = 1 },
  { name = "minute", header = "Minute", size = 60 },
  { name = "hour", header = "Hour", size = 3600 },
  { name = "day", header = "Day", size = 86400 },
  { name = "month", header = "Month", size = 2592000 },
  { name = "year", header = "Year", size = 31536000 },
}

local checked = config.checker("rate-limiting", function(conf)
  local previous
  for _, period in ipairs(PERIODS) do
    local limit = conf[period.name]
    if limit ~= nil then
      if limit < 0 then
        return period.name .. ": must be 0 or more"
      end
      if previous and limit < conf[previous] then
        return string.format("%s: the limit for %s (%g) cannot be lower than the limit for %s (%g)",
          period.name, period.name, limit, previous, conf[previous])
      end
      previous = period.name
    end
  end
  if not previous then
    return "second: at least one of second, minute, hour, day, month or year must be set"
  end
  if conf.limit_by == "header" and not conf.header_name then
    return "header_name: required when limit_by is 'header'"
  end
  if conf.limit_by == "path" and not conf.path then
    return "path: required when limit_by is 'path'"
  end
end)

local function integer_text(n)
  return string.format("%d", math.floor(n))
end

-- Who is counted; Kong falls back to the client IP when the chosen identity is absent.
local function identifier(conf)
  local by = conf.limit_by
  local id
  if by == "consumer" then
    local consumer = gate.client.get_consumer()
    id = consumer and consumer.username
  elseif by == "credential" then
    local credential = gate.client.get_credential()
    id = credential and (credential.key or credential.username)
  elseif by == "service" then
    id = gate.router.get_upstream()
  elseif by == "header" then
    id = gate.request.get_header(conf.header_name)
  elseif by == "path" then
    local path = gate.request.get_path()
    if path == conf.path then
      id = path
    end
  end
  if id == nil or id == "" then
    return "ip", gate.client.get_forwarded_ip()
  end
  return by, id
end

-- Seconds until the sliding estimate leaves room for one more request.
local function seconds_until_allowed(limit, previous, current, window_start, size, now)
  local wait
  if current + 1 > limit then
    -- Not before the next window, where `current` becomes the decaying previous count.
    local decay_needed = current > 0 and math.max(0, 1 - (limit - 1) / current) or 0
    wait = (window_start + size - now) + size * decay_needed
  else
    -- previous * (1 - f) + current + 1 <= limit once f >= 1 - (limit - current - 1) / previous.
    local fraction = 1 - (limit - current - 1) / previous
    wait = window_start + size * fraction - now
  end
  return math.max(1, math.ceil(wait))
end

-- Counts this request in every configured period. Returns the per-period usage, the
-- period that refused the request (or nil), or nil and an error from the store.
local function count(conf, dict, scope, now)
  local usage, stop, counted = {}, nil, {}
  for _, period in ipairs(PERIODS) do
    local limit = conf[period.name]
    if limit ~= nil then
      local size = period.size
      local window = now // size
      local window_start = window * size
      local prefix = scope .. "|" .. period.name .. "|"
      local key = prefix .. integer_text(window)
      local previous = dict:get(prefix .. integer_text(window - 1))
      previous = tonumber(previous) or 0
      local after, err = dict:incr(key, 1, 0, 2 * size)
      if not after then
        for _, done in ipairs(counted) do
          dict:incr(done, -1)
        end
        return nil, nil, err
      end
      counted[#counted + 1] = key
      local current = after - 1
      local estimate = previous * (1 - (now - window_start) / size) + current
      local entry = {
        period = period, limit = limit,
        reset = math.max(1, math.ceil(window_start + size - now)),
      }
      if estimate + 1 > limit then
        entry.remaining = 0
        entry.retry_after = seconds_until_allowed(limit, previous, current, window_start, size, now)
        stop = stop or entry
      else
        entry.remaining = math.max(0, limit - estimate - 1)
        entry.remaining_if_refused = math.max(0, limit - estimate)
      end
      usage[#usage + 1] = entry
    end
  end
  if stop then
    -- A refused request does not count against any period.
    for _, key in ipairs(counted) do
      dict:incr(key, -1)
    end
    for _, entry in ipairs(usage) do
      if entry ~= stop and entry.remaining_if_refused then
        entry.remaining = entry.remaining_if_refused
      end
    end
  end
  return usage, stop
end

-- Kong's headers: per period X-RateLimit-Limit/Remaining-<Period>, and the
-- RateLimit-* triple for the most constrained period (fewest remaining; on a tie, the
-- longer window).
local function client_headers(usage, stop)
  local headers = {}
  local chosen
  for _, entry in ipairs(usage) do
    headers["X-RateLimit-Limit-" .. entry.period.header] = integer_text(entry.limit)
    headers["X-RateLimit-Remaining-" .. entry.period.header] = integer_text(entry.remaining)
    if not chosen or entry.remaining < chosen.remaining
       or (entry.remaining == chosen.remaining and entry.period.size > chosen.period.size) then
      chosen = entry
    end
  end
  if stop then
    chosen = stop
  end
  headers["RateLimit-Limit"] = integer_text(chosen.limit)
  headers["RateLimit-Remaining"] = integer_text(chosen.remaining)
  headers["RateLimit-Reset"] = integer_text(chosen.reset)
  if stop then
    headers["Retry-After"] = integer_text(stop.retry_after)
  end
  return headers
end

function plugin.init(conf)
  checked(conf)
end

function plugin.access(conf)
  checked(conf)
  local route = gate.router.get_route()
  local kind, id = identifier(conf)
  local scope = table.concat({ "rl", route and route.name or "", kind, tostring(id) }, "|")
  local usage, stop, err = count(conf, gate.shared.dict("rate-limiting"), scope, gate.now())
  if not usage then
    if not conf.fault_tolerant then
      error("rate-limiting: counter store failed: " .. tostring(err), 0)
    end
    gate.log.err("counter store failed, request let through:", err)
    return
  end

  local headers = not conf.hide_client_headers and client_headers(usage, stop) or nil
  if stop then
    return gate.response.exit(conf.error_code, { message = conf.error_message }, headers)
  end
  for name, value in pairs(headers or {}) do
    gate.response.set_header(name, value)
  end
end

return plugin

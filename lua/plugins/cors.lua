--- cors: Cross-Origin Resource Sharing, as Kong's cors plugin does. Preflight
-- requests (OPTIONS with Origin and Access-Control-Request-Method) are answered by the
-- gateway with 200 unless preflight_continue; other responses get the
-- Access-Control-* headers in header_filter.
local config = require("moongate.config")

local plugin = {
  version = "1.0.0",
  priority = 2000,
  schema = { fields = {
    origins = { type = "array", elements = "string" },
    headers = { type = "array", elements = "string" },
    exposed_headers = { type = "array", elements = "string" },
    methods = {
      type = "array",
      elements = { type = "string",
                   one_of = { "GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT" } },
      default = { "GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT" },
    },
    max_age = { type = "number" },
    credentials = { type = "boolean", required = true, default = false },
    private_network = { type = "boolean", required = true, default = false },
    preflight_continue = { type = "boolean", required = true, default = false },
    allow_origin_absent = { type = "boolean", required = true, default = true },
  } },
}

local ALL_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT"
local DEFAULT_PORTS = { http = "80", https = "443" }

-- An origin as compared: scheme://host[:port] without a default port, plus its host.
local function normalize(origin)
  local scheme, host, port = origin:match("^(%a[%w+.-]*)://([^/:?#]+):?(%d*)")
  if not scheme then
    return { domain = origin, host = origin }
  end
  scheme, host = scheme:lower(), host:lower()
  if port == "" or DEFAULT_PORTS[scheme] == port then
    port = nil
  end
  return { domain = scheme .. "://" .. host .. (port and (":" .. port) or ""), host = host }
end

local function looks_like_regex(entry)
  return entry:find("[^%w%.:/%-]") ~= nil
end

-- An origin entry that is not "*" and holds characters other than letters, digits,
-- '.', ':', '/' and '-' is a regex, as in Kong.
local checked = config.checker("cors", function(conf)
  for i, entry in ipairs(conf.origins or {}) do
    if entry ~= "*" and looks_like_regex(entry) then
      local ok, from, err = pcall(gate.re.find, "", entry)
      if not ok or (from == nil and err ~= nil) then
        return string.format("origins[%d]: '%s' is not a valid regex", i, entry)
      end
    end
  end
end)

-- Configured origins compiled once per conf table: literal origins normalised,
-- regexes anchored as Kong anchors them (a `$` is added, a leading `^` is implied).
local compiled = setmetatable({}, { __mode = "k" })

local function allowed_origins(conf)
  local list = compiled[conf]
  if list then
    return list
  end
  list = {}
  for _, entry in ipairs(conf.origins) do
    if entry == "*" then
      list = { any = true }
      break
    end
    local item
    if looks_like_regex(entry) then
      local pattern = entry
      if pattern:sub(-1) ~= "$" then
        pattern = pattern .. "$"
      end
      if pattern:sub(1, 1) == "^" then
        pattern = pattern:sub(2)
      end
      item = { regex = "^(?:" .. pattern .. ")" }
    else
      item = normalize(entry)
    end
    -- Entries without a colon (no scheme, no port) are matched against the host only.
    item.by_host = not entry:find(":", 1, true)
    list[#list + 1] = item
  end
  compiled[conf] = list
  return list
end

-- Decides Access-Control-Allow-Origin. Returns the value (nil: send none), whether it
-- is the wildcard, and whether Vary: Origin is due.
local function allow_origin(conf, request_origin)
  local origins = conf.origins or {}
  if #origins == 0 or (#origins == 1 and origins[1] == "*") then
    return "*", true, false
  end
  if #origins == 1 and not looks_like_regex(origins[1]) then
    return origins[1], false, true
  end
  if request_origin and request_origin ~= "" then
    local list = allowed_origins(conf)
    if list.any then
      return "*", true, false
    end
    local requested = normalize(request_origin)
    for _, item in ipairs(list) do
      local found
      if item.regex then
        found = gate.re.find(item.by_host and requested.host or requested.domain, item.regex) ~= nil
      else
        found = requested.domain == item.domain
      end
      if found then
        return requested.domain, false, true
      end
    end
  end
  return nil, false, true
end

-- The Access-Control-Allow-Origin/-Credentials and Vary headers for this request.
local function origin_headers(conf, request_origin)
  local headers = {}
  local origin, wildcard, vary = allow_origin(conf, request_origin)
  headers["Access-Control-Allow-Origin"] = origin
  if conf.credentials then
    if not wildcard then
      headers["Access-Control-Allow-Credentials"] = "true"
    elseif request_origin and request_origin ~= "" then
      -- A credentialed response may not use "*": echo the origin instead.
      headers["Access-Control-Allow-Origin"] = request_origin
      headers["Access-Control-Allow-Credentials"] = "true"
      vary = true
    end
  end
  if vary then
    headers["Vary"] = "Origin"
  end
  return headers
end

function plugin.init(conf)
  checked(conf)
end

function plugin.access(conf)
  checked(conf)
  local origin = gate.request.get_header("origin")
  if gate.request.get_method() ~= "OPTIONS" or not origin or origin == ""
     or not gate.request.get_header("access-control-request-method") then
    return
  end
  -- A preflight: its headers are set here, or left to the upstream.
  gate.ctx.plugin.preflight = true
  if conf.preflight_continue then
    return
  end

  local headers = origin_headers(conf, origin)
  if conf.headers and #conf.headers > 0 then
    headers["Access-Control-Allow-Headers"] = table.concat(conf.headers, ",")
  else
    headers["Access-Control-Allow-Headers"] = gate.request.get_header("access-control-request-headers")
  end
  headers["Access-Control-Allow-Methods"] = conf.methods and table.concat(conf.methods, ",") or ALL_METHODS
  if conf.max_age then
    headers["Access-Control-Max-Age"] = string.format("%d", math.floor(conf.max_age))
  end
  if conf.private_network and gate.request.get_header("access-control-request-private-network") == "true" then
    headers["Access-Control-Allow-Private-Network"] = "true"
  end
  return gate.response.exit(200, nil, headers)
end

function plugin.header_filter(conf)
  if gate.ctx.plugin.preflight then
    return
  end
  local origin = gate.request.get_header("origin")
  if (not origin or origin == "") and not conf.allow_origin_absent then
    return
  end
  local headers = origin_headers(conf, origin)
  for name, value in pairs(headers) do
    if name == "Vary" then
      gate.response.add_header(name, value)
    else
      gate.response.set_header(name, value)
    end
  end
  if not headers["Access-Control-Allow-Origin"] then
    gate.response.clear_header("Access-Control-Allow-Origin")
  end
  if conf.exposed_headers and #conf.exposed_headers > 0 then
    gate.response.set_header("Access-Control-Expose-Headers", table.concat(conf.exposed_headers, ","))
  end
end

return plugin

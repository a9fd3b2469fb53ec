--- key-auth: authenticates a request by an API key found in a header, the query
-- string or the body, as Kong's key-auth plugin does.
local auth = require("moongate.auth")
local urlencoded = require("moongate.urlencoded")
local content_type = require("moongate.content_type")

-- The hot path's gate functions, looked up once per VM rather than through three
-- tables at every call.
local get_header, get_header_count = gate.request.get_header, gate.request.get_header_count
local find_consumer = gate.consumers.find

local plugin = {
  version = "1.0.0",
  priority = 1250,
  schema = { fields = {
    key_names = { type = "array", elements = "string", required = true, default = { "apikey" } },
    hide_credentials = { type = "boolean", required = true, default = false },
    anonymous = { type = "string" },
    key_in_header = { type = "boolean", required = true, default = true },
    key_in_query = { type = "boolean", required = true, default = true },
    key_in_body = { type = "boolean", required = true, default = false },
    run_on_preflight = { type = "boolean", required = true, default = true },
    realm = { type = "string" },
  } },
}

-- The request body as a name -> value table plus a way to write it back without
-- some fields; nil when the body is neither JSON nor form-encoded.
local function read_body()
  local kind = content_type.kind(gate.request.get_header("content-type"))
  local raw = gate.request.get_body()
  if kind == "json" then
    local decoded = gate.json.decode(raw)
    if type(decoded) ~= "table" then
      return nil
    end
    return {
      get = function(name) return decoded[name] end,
      remove = function(name)
        decoded[name] = nil
        gate.service.request.set_body(gate.json.encode(decoded))
      end,
    }
  elseif kind == "form" then
    local list = urlencoded.parse(raw)
    return {
      get = function(name) return urlencoded.get(list, name) end,
      remove = function(name)
        urlencoded.remove(list, name)
        gate.service.request.set_body(urlencoded.encode(list))
      end,
    }
  end
  return nil
end

local function hide_key(conf, name, body)
  gate.service.request.clear_header(name)
  local query = urlencoded.parse(gate.request.get_raw_query())
  if urlencoded.remove(query, name) > 0 then
    gate.service.request.set_raw_query(urlencoded.encode(query))
  end
  if conf.key_in_body and body and body.get(name) ~= nil then
    body.remove(name)
  end
end

local function unauthorized(conf, message)
  local challenge = conf.realm and string.format('Key realm="%s"', conf.realm) or "Key"
  return nil, { status = 401, body = { message = message }, headers = { ["WWW-Authenticate"] = challenge } }
end

local function authenticate(conf)
  -- The query and body tables are read only when a source is needed: the hot path
  -- finds the key in a header with two host calls and builds no table.
  local query
  local body
  local key
  for _, name in ipairs(conf.key_names) do
    local value
    if conf.key_in_header then
      value = get_header(name)
      if value ~= nil and get_header_count(name) > 1 then
        return unauthorized(conf, "Duplicate API key found")
      end
    end
    if value == nil and conf.key_in_query then
      query = query or gate.request.get_query()
      value = query[name]
    end
    if value == nil and conf.key_in_body then
      body = body or read_body()
      value = body and body.get(name)
    end
    if type(value) == "string" then
      key = value
      if conf.hide_credentials then
        hide_key(conf, name, body)
      end
      break
    elseif type(value) == "table" then
      return unauthorized(conf, "Duplicate API key found")
    end
  end

  if not key or key == "" then
    return unauthorized(conf, "No API key found in request")
  end
  local consumer, credential = find_consumer("key-auth", key)
  if not consumer then
    return unauthorized(conf, "Invalid authentication credentials")
  end
  return consumer, credential, credential.key
end

function plugin.access(conf)
  if auth.skips_preflight(conf) then
    return
  end
  return auth.run(conf, authenticate)
end

return plugin

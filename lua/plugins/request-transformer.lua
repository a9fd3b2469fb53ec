--- request-transformer: rewrites the request before it goes upstream (headers, query
-- string, JSON or form-encoded body fields, method, path), with Kong's
-- request-transformer config: each of remove, rename, replace, add and append lists
-- "name:value" entries (remove lists names), applied in that order.
--
-- Values are literal text: Kong's `$(...)` templates, which run Lua from the config,
-- are not evaluated. Query strings and form bodies keep the order of the arguments
-- they do not touch.
local name_value = require("moongate.name_value")
local urlencoded = require("moongate.urlencoded")
local content_type = require("moongate.content_type")

local function section(extra)
  local fields = {
    headers = { type = "array", elements = "string", default = {} },
    querystring = { type = "array", elements = "string", default = {} },
    body = { type = "array", elements = "string", default = {} },
  }
  for name, spec in pairs(extra or {}) do
    fields[name] = spec
  end
  return { type = "record", fields = fields, default = {} }
end

local plugin = {
  version = "1.0.0",
  priority = 801,
  schema = { fields = {
    http_method = { type = "string" },
    remove = section(),
    rename = section(),
    replace = section({ uri = { type = "string" } }),
    add = section(),
    append = section(),
  } },
}

local EMPTY = {}

local function ops(conf, field)
  return {
    remove = (conf.remove or EMPTY)[field],
    rename = (conf.rename or EMPTY)[field],
    replace = (conf.replace or EMPTY)[field],
    add = (conf.add or EMPTY)[field],
    append = (conf.append or EMPTY)[field],
  }
end

local function any_op(o)
  return name_value.any(o.remove) or name_value.any(o.rename) or name_value.any(o.replace)
      or name_value.any(o.add) or name_value.any(o.append)
end

-- Headers: applied one by one through gate.service.request, tracking what the
-- upstream request will hold (lowercase name -> string or array of strings).
local function transform_headers(conf)
  local o = ops(conf, "headers")
  if not any_op(o) then
    return
  end
  local upstream = gate.service.request
  local current = gate.request.get_headers()
  local function put(name, value)
    if type(value) == "table" then
      upstream.set_header(name, value[1])
      for i = 2, #value do
        upstream.add_header(name, value[i])
      end
    else
      upstream.set_header(name, value)
    end
  end

  for _, name in name_value.each(o.remove) do
    -- Cleared even when the client did not send it: a header set by an earlier
    -- plugin is removed too.
    upstream.clear_header(name)
    current[name:lower()] = nil
  end
  for _, old, new in name_value.each(o.rename) do
    local value = current[old:lower()]
    if new and value ~= nil and old:lower() ~= new:lower() then
      upstream.clear_header(old)
      current[old:lower()] = nil
      put(new, value)
      current[new:lower()] = value
    end
  end
  for _, name, value in name_value.each(o.replace) do
    local lower = name:lower()
    if value and (current[lower] ~= nil or lower == "host") then
      upstream.set_header(name, value)
      current[lower] = value
    end
  end
  for _, name, value in name_value.each(o.add) do
    local lower = name:lower()
    if value and current[lower] == nil and lower ~= "host" then
      upstream.set_header(name, value)
      current[lower] = value
    end
  end
  for _, name, value in name_value.each(o.append) do
    if value then
      upstream.add_header(name, value)
    end
  end
end

-- The same five operations on an ordered urlencoded list (query string, form body).
local function transform_list(list, o)
  local changed = false
  for _, name in name_value.each(o.remove) do
    changed = urlencoded.remove(list, name) > 0 or changed
  end
  for _, old, new in name_value.each(o.rename) do
    if new and old ~= new and urlencoded.get(list, old) ~= nil then
      urlencoded.remove(list, new)
      for _, entry in ipairs(list) do
        if entry.name == old then
          entry.name, entry.raw = new, nil
        end
      end
      changed = true
    end
  end
  for _, name, value in name_value.each(o.replace) do
    if value then
      for i, entry in ipairs(list) do
        if entry.name == name then
          urlencoded.remove(list, name)
          table.insert(list, i, { name = name, value = value })
          changed = true
          break
        end
      end
    end
  end
  for _, name, value in name_value.each(o.add) do
    if value and urlencoded.get(list, name) == nil then
      list[#list + 1] = { name = name, value = value }
      changed = true
    end
  end
  for _, name, value in name_value.each(o.append) do
    if value then
      list[#list + 1] = { name = name, value = value }
      changed = true
    end
  end
  return changed
end

-- JSON bodies: top-level fields of an object. Remove, rename and replace need a
-- non-empty body; add and append also turn an empty body into an object.
local function transform_json(raw, o)
  local fields
  if raw == "" then
    fields = {}
  else
    fields = gate.json.decode(raw)
    if type(fields) ~= "table" or fields[1] ~= nil then
      return nil -- not JSON, or an array: there are no named fields to change
    end
  end
  local changed = false
  for _, name in name_value.each(o.remove) do
    if fields[name] ~= nil then
      fields[name] = nil
      changed = true
    end
  end
  for _, old, new in name_value.each(o.rename) do
    if new and old ~= new and fields[old] ~= nil then
      fields[new], fields[old] = fields[old], nil
      changed = true
    end
  end
  for _, name, value in name_value.each(o.replace) do
    if value and fields[name] ~= nil then
      fields[name] = value
      changed = true
    end
  end
  for _, name, value in name_value.each(o.add) do
    if value and fields[name] == nil then
      fields[name] = value
      changed = true
    end
  end
  for _, name, value in name_value.each(o.append) do
    if value then
      fields[name] = name_value.append(fields[name], value)
      changed = true
    end
  end
  return changed and gate.json.encode(fields) or nil
end

local function transform_body(conf, kind, raw)
  local o = ops(conf, "body")
  if not kind or not any_op(o) then
    return
  end
  local new_body
  if kind == "json" then
    new_body = transform_json(raw, o)
  elseif kind == "form" then
    local list = urlencoded.parse(raw)
    if transform_list(list, o) then
      new_body = urlencoded.encode(list)
    end
  end
  if new_body then
    gate.service.request.set_body(new_body)
  end
end

function plugin.access(conf)
  local replace_uri = (conf.replace or EMPTY).uri
  if replace_uri then
    gate.service.request.set_path(replace_uri)
  end

  local kind = content_type.kind(gate.request.get_header("content-type"))
  local query = urlencoded.parse(gate.request.get_raw_query())
  local query_changed = false
  if conf.http_method then
    local method = conf.http_method:upper()
    gate.service.request.set_method(method)
    -- As Kong: a form body sent as GET/HEAD/TRACE also goes into the query string.
    if (method == "GET" or method == "HEAD" or method == "TRACE") and kind == "form" then
      for _, entry in ipairs(urlencoded.parse(gate.request.get_body())) do
        query[#query + 1] = entry
        query_changed = true
      end
    end
  end

  transform_headers(conf)
  if kind == "json" or kind == "form" then
    transform_body(conf, kind, gate.request.get_body())
  end
  if transform_list(query, ops(conf, "querystring")) or query_changed then
    gate.service.request.set_raw_query(urlencoded.encode(query))
  end
end

return plugin

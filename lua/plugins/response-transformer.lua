--- response-transformer: rewrites the response on its way to the client (headers,
-- and top-level fields of a JSON body), with Kong's response-transformer config:
-- remove, rename, replace, add and append, each with `headers` and `json` lists of
-- "name:value" entries (remove lists names); replace, add and append also take
-- `json_types` (string | number | boolean per json entry).
--
-- The JSON body is buffered: body_filter holds back every chunk until the last one,
-- then sends the transformed document (or the original bytes if they do not parse).
local name_value = require("moongate.name_value")
local content_type = require("moongate.content_type")

local function json_types()
  return { type = "array", default = {},
           elements = { type = "string", one_of = { "boolean", "number", "string" } } }
end

local function section(with_types)
  local fields = {
    headers = { type = "array", elements = "string", default = {} },
    json = { type = "array", elements = "string", default = {} },
  }
  if with_types then
    fields.json_types = json_types()
  end
  return { type = "record", fields = fields, default = {} }
end

local plugin = {
  version = "1.0.0",
  priority = 800,
  schema = { fields = {
    remove = section(false),
    rename = section(false),
    replace = section(true),
    add = section(true),
    append = section(true),
  } },
}

local EMPTY = {}

local function list(conf, op, field)
  return (conf[op] or EMPTY)[field]
end

local function transforms_json(conf)
  for _, op in ipairs({ "remove", "rename", "replace", "add", "append" }) do
    if name_value.any(list(conf, op, "json")) then
      return true
    end
  end
  return false
end

function plugin.header_filter(conf)
  local response = gate.response
  for _, name in name_value.each(list(conf, "remove", "headers")) do
    response.clear_header(name)
  end
  for _, old, new in name_value.each(list(conf, "rename", "headers")) do
    local value = response.get_header(old)
    if new and value ~= nil then
      response.set_header(new, value)
      response.clear_header(old)
    end
  end
  for _, name, value in name_value.each(list(conf, "replace", "headers")) do
    if value and response.get_header(name) ~= nil then
      response.set_header(name, value)
    end
  end
  for _, name, value in name_value.each(list(conf, "add", "headers")) do
    if value and response.get_header(name) == nil then
      response.set_header(name, value)
    end
  end
  for _, name, value in name_value.each(list(conf, "append", "headers")) do
    if value then
      response.add_header(name, value)
    end
  end
end

local function typed(value, type_name)
  if type_name == "number" then
    return tonumber(value)
  elseif type_name == "boolean" then
    return value == "true"
  end
  return value
end

local function transform(conf, body)
  local document = gate.json.decode(body)
  if type(document) ~= "table" or document[1] ~= nil then
    return nil -- not JSON, or an array: there are no named fields to change
  end
  for _, name in name_value.each(list(conf, "remove", "json")) do
    document[name] = nil
  end
  for _, old, new in name_value.each(list(conf, "rename", "json")) do
    if new and document[old] ~= nil then
      document[new], document[old] = document[old], nil
    end
  end
  local types = list(conf, "replace", "json_types") or EMPTY
  for i, name, value in name_value.each(list(conf, "replace", "json")) do
    local v = value and typed(value, types[i])
    if v ~= nil and document[name] ~= nil then
      document[name] = v
    end
  end
  types = list(conf, "add", "json_types") or EMPTY
  for i, name, value in name_value.each(list(conf, "add", "json")) do
    local v = value and typed(value, types[i])
    if v ~= nil and document[name] == nil then
      document[name] = v
    end
  end
  types = list(conf, "append", "json_types") or EMPTY
  for i, name, value in name_value.each(list(conf, "append", "json")) do
    local v = value and typed(value, types[i])
    if v ~= nil then
      document[name] = name_value.append(document[name], v)
    end
  end
  return gate.json.encode(document)
end

function plugin.body_filter(conf, chunk, eof)
  local state = gate.ctx.plugin
  if state.passthrough then
    return nil
  end
  if not state.chunks then
    if not transforms_json(conf) or content_type.kind(gate.response.get_header("content-type")) ~= "json" then
      state.passthrough = true
      return nil
    end
    state.chunks = {}
  end
  if chunk and chunk ~= "" then
    state.chunks[#state.chunks + 1] = chunk
  end
  if not eof then
    return ""
  end
  local body = table.concat(state.chunks)
  state.chunks = {}
  local transformed = transform(conf, body)
  if not transformed then
    gate.log.warn("response body is not a JSON object; sent unchanged")
    return body
  end
  return transformed
end

return plugin

--- Query strings and application/x-www-form-urlencoded bodies as ordered lists.
--
-- A list keeps the order and repetition of the arguments, which a Lua table keyed by
-- name cannot: plugins that remove or add one argument must not shuffle the others
-- (an upstream that signs or caches on the query string would see a different
-- request). Each entry is { name = "a", value = "b" | true }; `true` stands for a bare
-- `?flag`. Entries read from text keep their original spelling in `raw`, and
-- `encode` writes that spelling back unchanged.
local urlencoded = {}

--- Decodes one component: `+` is a space, `%XX` a byte (malformed escapes stay as is).
function urlencoded.decode_component(text)
  text = text:gsub("+", " ")
  return (text:gsub("%%(%x%x)", function(hex)
    return string.char(tonumber(hex, 16))
  end))
end

--- Encodes one component, keeping only RFC 3986 unreserved characters literal.
function urlencoded.encode_component(text)
  return (tostring(text):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

--- Parses "a=1&b&c=x%20y" into { {name="a", value="1"}, {name="b", value=true}, ... }.
function urlencoded.parse(text)
  local list = {}
  for segment in (text or ""):gmatch("[^&]+") do
    local name, value = segment:match("^([^=]*)=(.*)$")
    local entry
    if name then
      entry = { name = urlencoded.decode_component(name), value = urlencoded.decode_component(value) }
    else
      entry = { name = urlencoded.decode_component(segment), value = true }
    end
    entry.raw = segment
    list[#list + 1] = entry
  end
  return list
end

--- Writes a list back to text; untouched entries keep their original spelling.
function urlencoded.encode(list)
  local out = {}
  for i, entry in ipairs(list) do
    if entry.raw then
      out[i] = entry.raw
    elseif entry.value == true then
      out[i] = urlencoded.encode_component(entry.name)
    else
      out[i] = urlencoded.encode_component(entry.name) .. "=" .. urlencoded.encode_component(entry.value)
    end
  end
  return table.concat(out, "&")
end

--- The first value of `name`, or nil.
function urlencoded.get(list, name)
  for _, entry in ipairs(list) do
    if entry.name == name then
      return entry.value
    end
  end
  return nil
end

--- Removes every entry named `name`; returns how many there were.
function urlencoded.remove(list, name)
  local kept, removed = 1, 0
  for i = 1, #list do
    local entry = list[i]
    list[i] = nil
    if entry.name == name then
      removed = removed + 1
    else
      list[kept] = entry
      kept = kept + 1
    end
  end
  return removed
end

return urlencoded

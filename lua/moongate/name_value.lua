--- Kong's "name:value" configuration entries (request- and response-transformer).
--
-- The name runs to the first colon, further colons directly after it are skipped,
-- and the value is the rest: "x-forwarded:a:b" is name "x-forwarded", value "a:b".
local name_value = {}

--- Splits one entry; the value is nil when the entry has none ("x-debug" or "x-debug:").
function name_value.split(entry)
  local name, value = entry:match("^([^:]+):*(.-)$")
  if value == "" then
    value = nil
  end
  return name, value
end

--- Iterates a list of entries: for i, name, value in name_value.each(list).
-- A nil list iterates nothing, so absent config sections need no special case.
function name_value.each(list)
  local i = 0
  return function()
    i = i + 1
    local entry = list and list[i]
    if entry == nil then
      return nil
    end
    return i, name_value.split(entry)
  end
end

--- True when the list has at least one entry.
function name_value.any(list)
  return list ~= nil and list[1] ~= nil
end

--- Kong's "append" for a field: a missing field becomes `{ value }`, a single value
-- becomes a list of both, and a list grows.
function name_value.append(current, value)
  if type(current) == "table" then
    current[#current + 1] = value
    return current
  elseif current == nil then
    return { value }
  end
  return { current, value }
end

return name_value

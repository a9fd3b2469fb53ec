--- Request cookies (RFC 6265 `Cookie` header), for plugins that read a token or a
-- routing flag from a cookie.
local cookie = {}

--- Parses one or more Cookie header values (a string, or an array of strings when the
-- header was repeated, as HTTP/2 clients do) into a table name -> value. The first
-- occurrence of a name wins, as browsers send the most specific cookie first.
function cookie.parse(header)
  local jar = {}
  if header == nil then
    return jar
  end
  if type(header) == "table" then
    header = table.concat(header, "; ")
  end
  for pair in header:gmatch("[^;]+") do
    local name, value = pair:match("^%s*([^=]-)%s*=%s*(.-)%s*$")
    if name and name ~= "" and jar[name] == nil then
      jar[name] = value:match('^"(.*)"$') or value
    end
  end
  return jar
end

--- The value of cookie `name` in this request, or nil.
function cookie.get(name)
  return cookie.parse(gate.request.get_headers()["cookie"])[name]
end

return cookie

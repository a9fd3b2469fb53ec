--- Classifies a Content-Type header value into the body formats plugins transform.
local content_type = {}

--- "json" for application/json and any `+json` media type, "form" for
-- application/x-www-form-urlencoded, "multipart" for multipart/form-data, else nil.
function content_type.kind(value)
  if type(value) ~= "string" then
    return nil
  end
  local media = value:match("^%s*([^;%s]+)")
  if not media then
    return nil
  end
  media = media:lower()
  if media == "application/json" or media:match("^[%w%.%-]+/[%w%.%-]+%+json$") then
    return "json"
  elseif media == "application/x-www-form-urlencoded" then
    return "form"
  elseif media == "multipart/form-data" then
    return "multipart"
  end
  return nil
end

return content_type

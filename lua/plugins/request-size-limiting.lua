--- request-size-limiting: refuses request bodies larger than allowed_payload_size, as
-- Kong's request-size-limiting plugin does. Content-Length is trusted when present;
-- otherwise the body is read and measured (proxy.limits.max_body_bytes still bounds
-- what the gateway buffers).
local plugin = {
  version = "1.0.0",
  priority = 951,
  schema = { fields = {
    allowed_payload_size = { type = "integer", default = 128 },
    size_unit = { type = "string", required = true, default = "megabytes",
                  one_of = { "megabytes", "kilobytes", "bytes" } },
    require_content_length = { type = "boolean", required = true, default = false },
  } },
}

local UNIT_BYTES = { bytes = 1, kilobytes = 1024, megabytes = 1048576 }

local function check_size(conf, length)
  if length <= conf.allowed_payload_size * UNIT_BYTES[conf.size_unit] then
    return
  end
  local expect = gate.request.get_header("expect")
  -- A client waiting for 100-continue has not sent the body: 417 tells it not to.
  if expect and expect:lower():match("^%s*(.-)%s*$") == "100-continue" then
    return gate.response.exit(417, { message = "Request size limit exceeded" })
  end
  return gate.response.exit(413, { message = "Request size limit exceeded" })
end

function plugin.access(conf)
  local declared = gate.request.get_header("content-length")
  local length = declared and declared:match("^%s*%d+%s*$") and tonumber(declared)
  if length then
    return check_size(conf, length)
  end
  local transfer_encoding = gate.request.get_header("transfer-encoding")
  local chunked = transfer_encoding and transfer_encoding:lower():find("chunked", 1, true)
  if conf.require_content_length and not chunked then
    return gate.response.exit(411, { message = "A valid Content-Length header is required" })
  end
  return check_size(conf, #gate.request.get_body())
end

return plugin

--- basic-auth: HTTP Basic authentication against consumers' basic-auth credentials,
-- as Kong's basic-auth plugin does. Passwords are stored as their SHA-256 (lowercase
-- hex) and compared in constant time.
local auth = require("moongate.auth")

local plugin = {
  version = "1.0.0",
  priority = 1100,
  schema = { fields = {
    anonymous = { type = "string" },
    hide_credentials = { type = "boolean", required = true, default = false },
    realm = { type = "string", required = true, default = "service" },
  } },
}

-- Compares every byte of both strings, so the time taken does not tell an attacker
-- how long a prefix of the digest they guessed right.
local function constant_time_equals(a, b)
  local length = math.max(#a, #b)
  local difference = #a ~ #b
  for i = 1, length do
    difference = difference | ((a:byte(i) or 0) ~ (b:byte(i) or 0))
  end
  return difference == 0
end

-- username, password from "Basic base64(user:pass)", or nil.
local function parse_basic(header)
  if type(header) ~= "string" then
    return nil
  end
  local encoded = header:match("^%s*[Bb]asic%s+(%S+)%s*$")
  local decoded = encoded and gate.base64.decode(encoded)
  if not decoded then
    return nil
  end
  return decoded:match("^([^:]+):(.*)$")
end

local function authenticate(conf)
  local challenge = { ["WWW-Authenticate"] = string.format('Basic realm="%s"', conf.realm) }
  local proxy_authorization = gate.request.get_header("proxy-authorization")
  local authorization = gate.request.get_header("authorization")
  if conf.hide_credentials then
    gate.service.request.clear_header("proxy-authorization")
    gate.service.request.clear_header("authorization")
  end
  if not (authorization or proxy_authorization) then
    return nil, { status = 401, body = { message = "Unauthorized" }, headers = challenge }
  end

  -- Proxy-Authorization first, then Authorization, as Kong tries them.
  local candidates = { proxy_authorization or false, authorization or false }
  for i = 1, 2 do
    local username, password = parse_basic(candidates[i])
    if username then
      local consumer, credential = gate.consumers.find("basic-auth", username)
      local expected = credential and credential.password_sha256 or ""
      local given = gate.crypto.to_hex(gate.crypto.sha256(password))
      if constant_time_equals(given, expected:lower()) and consumer then
        return consumer, credential, credential.username
      end
    end
  end
  return nil, { status = 401, body = { message = "Invalid authentication credentials" }, headers = challenge }
end

function plugin.access(conf)
  return auth.run(conf, authenticate)
end

return plugin

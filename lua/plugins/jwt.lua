--- jwt: verifies a JSON Web Token signed with a consumer's jwt credential, as Kong's
-- jwt plugin does. The credential is the one whose `key` equals the token's
-- `key_claim_name` claim (`iss` by default); HS256/384/512 use its `secret`, RS256
-- and ES256 its `rsa_public_key` (PEM).
local auth = require("moongate.auth")
local cookie = require("moongate.cookie")
local config = require("moongate.config")

local plugin = {
  version = "1.0.0",
  priority = 1450,
  schema = { fields = {
    uri_param_names = { type = "array", elements = "string", default = { "jwt" } },
    cookie_names = { type = "array", elements = "string", default = {} },
    header_names = { type = "array", elements = "string", default = { "authorization" } },
    claims_to_verify = { type = "array", elements = { type = "string", one_of = { "exp", "nbf" } } },
    key_claim_name = { type = "string", default = "iss" },
    secret_is_base64 = { type = "boolean", required = true, default = false },
    anonymous = { type = "string" },
    run_on_preflight = { type = "boolean", required = true, default = true },
    maximum_expiration = { type = "number", default = 0, between = { 0, 31536000 } },
    realm = { type = "string" },
  } },
}

local function claims_include(conf, name)
  for _, claim in ipairs(conf.claims_to_verify or {}) do
    if claim == name then
      return true
    end
  end
  return false
end

local checked = config.checker("jwt", function(conf)
  if (conf.maximum_expiration or 0) > 0 and not claims_include(conf, "exp") then
    return "claims_to_verify: must contain 'exp' when maximum_expiration is set"
  end
end)

-- Every distinct token the request carries, from query parameters, cookies and
-- headers (in that order, as Kong looks).
local function find_tokens(conf)
  local seen, tokens = {}, {}
  local function add(token)
    if type(token) == "string" and token ~= "" and not seen[token] then
      seen[token] = true
      tokens[#tokens + 1] = token
    end
  end

  local query = gate.request.get_query()
  for _, name in ipairs(conf.uri_param_names) do
    local value = query[name]
    if type(value) == "table" then
      for _, v in ipairs(value) do
        add(v)
      end
    else
      add(value)
    end
  end

  local headers = gate.request.get_headers()
  if #conf.cookie_names > 0 then
    local jar = cookie.parse(headers["cookie"])
    for _, name in ipairs(conf.cookie_names) do
      add(jar[name])
    end
  end

  for _, name in ipairs(conf.header_names) do
    local value = headers[name:lower()]
    if type(value) == "table" then
      value = value[1]
    end
    if type(value) == "string" then
      add(value:match("^%s*[Bb]earer%s+(.-)%s*$"))
    end
  end
  return tokens
end

local function signing_key(conf, credential, algorithm)
  if algorithm:sub(1, 2) ~= "HS" then
    return credential.rsa_public_key
  end
  local secret = credential.secret
  if secret and conf.secret_is_base64 then
    return gate.base64.decode(secret) or gate.base64.decode(secret, true)
  end
  return secret
end

-- Kong's registered-claim checks: a table claim -> error, or nil when all pass.
local function claim_errors(conf, claims)
  local errors
  local now = gate.now()
  for _, name in ipairs(conf.claims_to_verify or {}) do
    local value = claims[name]
    local problem
    if type(value) ~= "number" then
      problem = "must be a number"
    elseif name == "exp" and value <= now then
      problem = "token expired"
    elseif name == "nbf" and value > now then
      problem = "token not valid yet"
    end
    if problem then
      errors = errors or {}
      errors[name] = problem
    end
  end
  if not errors and (conf.maximum_expiration or 0) > 0 then
    local exp = claims.exp
    if type(exp) ~= "number" or exp - now > conf.maximum_expiration then
      errors = { exp = "exceeds maximum allowed expiration" }
    end
  end
  return errors
end

local function authenticate(conf)
  local base = conf.realm and string.format('Bearer realm="%s"', conf.realm) or "Bearer"
  local invalid = conf.realm and (base .. ', error="invalid_token"') or 'Bearer error="invalid_token"'
  local function unauthorized(body, challenge)
    if type(body) == "string" then
      body = { message = body }
    end
    return nil, { status = 401, body = body, headers = { ["WWW-Authenticate"] = challenge or invalid } }
  end

  local tokens = find_tokens(conf)
  if #tokens == 0 then
    return unauthorized("Unauthorized", base)
  elseif #tokens > 1 then
    return unauthorized("Multiple tokens provided")
  end
  local token = tokens[1]

  local header, claims = gate.jwt.decode(token)
  if not header then
    return unauthorized("Bad token; " .. tostring(claims))
  end
  local claim_name = conf.key_claim_name
  local key = claims[claim_name]
  if key == nil then
    key = header[claim_name]
  end
  if key == nil then
    return unauthorized("No mandatory '" .. claim_name .. "' in claims")
  elseif key == "" then
    return unauthorized("Invalid '" .. claim_name .. "' in claims")
  end

  local consumer, credential = gate.consumers.find("jwt", tostring(key))
  if not consumer then
    return unauthorized("No credentials found for given '" .. claim_name .. "'")
  end
  local algorithm = credential.algorithm or "HS256"
  if header.alg ~= algorithm then
    return unauthorized("Invalid algorithm")
  end
  local verification_key = signing_key(conf, credential, algorithm)
  if not verification_key then
    return unauthorized("Invalid key/secret")
  end
  local verified_claims = gate.jwt.verify(token, verification_key, { algorithm })
  if not verified_claims then
    return unauthorized("Invalid signature")
  end

  local errors = claim_errors(conf, verified_claims)
  if errors then
    return unauthorized(errors)
  end
  gate.ctx.shared.authenticated_jwt_token = token
  return consumer, credential, credential.key
end

function plugin.init(conf)
  checked(conf)
end

function plugin.access(conf)
  checked(conf)
  if auth.skips_preflight(conf) then
    return
  end
  return auth.run(conf, authenticate)
end

return plugin

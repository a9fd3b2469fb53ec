--- What the bundled authentication plugins (key-auth, basic-auth, jwt) share:
-- Kong's "logical AND / logical OR" flow around `anonymous`, and the headers that tell
-- the upstream who the caller is.
--
-- `gate.client.authenticate` already sends X-Consumer-Username (and X-Consumer-Groups).
-- This module adds Kong's X-Credential-Identifier and X-Anonymous-Consumer, and always
-- sets or clears both, so a client cannot smuggle its own values to the upstream.
local auth = {}

local CREDENTIAL_IDENTIFIER = "X-Credential-Identifier"
local ANONYMOUS = "X-Anonymous-Consumer"

-- Looked up once per VM rather than through three tables at every request.
local authenticate = gate.client.authenticate
local set_header, clear_header = gate.service.request.set_header, gate.service.request.clear_header

--- Marks the request as made by `consumer`; `credential_id` names the credential used
-- (nil for the anonymous consumer).
function auth.set_consumer(consumer, credential, credential_id)
  authenticate(consumer, credential)
  if credential_id then
    set_header(CREDENTIAL_IDENTIFIER, credential_id)
  else
    clear_header(CREDENTIAL_IDENTIFIER)
  end
  if credential then
    clear_header(ANONYMOUS)
  else
    set_header(ANONYMOUS, "true")
  end
end

--- True when the plugin must let a CORS preflight through without credentials.
function auth.skips_preflight(conf)
  return conf.run_on_preflight == false and gate.request.get_method() == "OPTIONS"
end

--- Runs `authenticate(conf)` with Kong's semantics and applies the outcome.
--
-- `authenticate` returns `consumer, credential, credential_id` on success, or
-- `nil, failure` where failure = { status = 401, body = {...}, headers = {...} }.
-- Without `conf.anonymous` a failure ends the request ("logical AND" between several
-- auth plugins: each must pass). With it, a request that another auth plugin already
-- authenticated is left alone, and a failure continues as the anonymous consumer
-- ("logical OR"). The anonymous consumer carries only its username: `gate.consumers`
-- finds consumers by credential, so its configured groups are not known here.
function auth.run(conf, authenticate)
  if conf.anonymous then
    if gate.client.get_credential() then
      return
    end
    local consumer, credential, credential_id = authenticate(conf)
    if consumer then
      auth.set_consumer(consumer, credential, credential_id)
    else
      auth.set_consumer({ username = conf.anonymous, groups = {} }, nil, nil)
    end
    return
  end
  local consumer, credential_or_failure, credential_id = authenticate(conf)
  if not consumer then
    local failure = credential_or_failure
    return gate.response.exit(failure.status, failure.body, failure.headers)
  end
  auth.set_consumer(consumer, credential_or_failure, credential_id)
end

return auth

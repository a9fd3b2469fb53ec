--- Config rules a schema cannot express (two fields that exclude each other, a
-- list whose entries must parse), checked by the plugin itself.
--
-- A plugin calls the checker from `init` (so a bad config is reported as soon as it
-- loads) and again at the top of its request hooks: a config that failed its check
-- must never serve in a weakened form, so each request with it fails (500) with the
-- same message. Each conf table is checked once; the result is remembered in a
-- weak-keyed table, so a new config generation is checked afresh.
local config = {}

--- Returns a function(conf) that raises "<plugin>.<message>" when `check(conf)`
-- returns a message, and returns conf otherwise.
function config.checker(plugin_name, check)
  local verdicts = setmetatable({}, { __mode = "k" })
  return function(conf)
    local verdict = verdicts[conf]
    if verdict == nil then
      verdict = check(conf) or true
      verdicts[conf] = verdict
    end
    if verdict ~= true then
      error(plugin_name .. "." .. verdict, 0)
    end
    return conf
  end
end

return config

/// The Lua half of the plugin runtime, run once in every plugin VM after the `gate`
/// functions are registered. It keeps what must stay inside Lua: the plugin tables
/// and instance configs (installed per plan; `PluginVM` holds each instance's config
/// and phase functions, so a hook call looks nothing up here), the `gate.ctx` tables,
/// the functions of pending timers and the `gate.shared.dict` objects.
enum PluginPrelude {
    static let source = #"""
        local host = __moongate_host
        __moongate_host = nil
        local require, setmetatable, type, error, select = require, setmetatable, type, error, select
        local pack, unpack = table.pack, table.unpack

        local phases = { "init", "rewrite", "access", "balancer", "header_filter", "body_filter", "log" }
        local plans = {}      -- plan id -> array of { plugin = table, conf = table }
        local contexts = {}   -- request context id -> { shared = {}, plugin = { [name] = {} } }
        local timers, last_timer = {}, 0
        local runtime = {}

        function runtime.install(plan, instances)
          local resolved = {}
          for index, instance in ipairs(instances) do
            resolved[index] = { plugin = require(instance.name), conf = instance.conf }
          end
          plans[plan] = resolved
        end

        function runtime.uninstall(plan)
          plans[plan] = nil
        end

        -- An installed instance's config and phase functions (in PluginPhase order):
        -- Swift keeps them and calls a hook with no lookup in Lua.
        function runtime.hooks(plan, index)
          local instance = plans[plan][index]
          local plugin = instance.plugin
          local hooks = { n = #phases }
          for i, name in ipairs(phases) do hooks[i] = plugin[name] end
          return instance.conf, unpack(hooks, 1, hooks.n)
        end

        -- A request's consumer and credential (gate.client.authenticate), by context id:
        -- kept in two tables rather than in a context table made per request.
        local consumers_of, credentials_of = {}, {}

        function runtime.drop_contexts(ids)
          for i = 1, #ids do
            local id = ids[i]
            contexts[id], consumers_of[id], credentials_of[id] = nil, nil, nil
          end
        end

        function runtime.run_timer(id)
          local timer = timers[id]
          timers[id] = nil
          if timer then return timer[1](unpack(timer, 2, timer.n)) end
        end

        local ctx_ids = host.ctx_ids

        -- The request's context, made on first use; `peek` does not make one.
        local function context(peek)
          local id, plugin = ctx_ids(peek)
          if id == nil then return nil end
          local found = contexts[id]
          if not found then
            found = {}
            contexts[id] = found
          end
          return found, plugin
        end

        -- gate.request.get_query from a flat name, value list.
        local function assemble(flat)
          local result = {}
          for i = 1, #flat, 2 do
            local name, value = flat[i], flat[i + 1]
            local previous = result[name]
            if previous == nil then
              result[name] = value
            elseif type(previous) == "table" then
              previous[#previous + 1] = value
            else
              result[name] = { previous, value }
            end
          end
          return result
        end
        local query_pairs = host.query_pairs
        function gate.request.get_query() return assemble(query_pairs()) end

        -- gate.consumers.find, cached per consumer index (one per configuration).
        local consumers_find, consumers_generation = host.consumers_find, host.consumers_generation
        local consumer_cache, cached_generation = {}, nil
        function gate.consumers.find(kind, key)
          local generation = consumers_generation()
          if generation ~= cached_generation then
            consumer_cache, cached_generation = {}, generation
          end
          if type(kind) ~= "string" or (type(key) ~= "string" and type(key) ~= "number") then
            return consumers_find(kind, key)
          end
          local by_kind = consumer_cache[kind]
          if not by_kind then
            by_kind = {}
            consumer_cache[kind] = by_kind
          end
          local hit = by_kind[key]
          if hit == nil then
            local consumer, credential = consumers_find(kind, key)
            hit = consumer and { consumer, credential } or false
            by_kind[key] = hit
          end
          if hit then return hit[1], hit[2] end
          return nil
        end

        -- gate.client.authenticate: the tables stay in the request's context; Swift gets
        -- what goes upstream (X-Consumer-Username, X-Consumer-Groups).
        local set_consumer, concat = host.set_consumer, table.concat
        function gate.client.authenticate(consumer, credential)
          local username, groups
          if consumer ~= nil then
            if type(consumer) ~= "table" or type(consumer.username) ~= "string" then
              error("gate.client.authenticate: the consumer must be a table with a username (from gate.consumers.find)", 2)
            end
            username = consumer.username
            if type(consumer.groups) == "table" and #consumer.groups > 0 then groups = concat(consumer.groups, ", ") end
          end
          -- set_consumer answers with the request's context id.
          local id = set_consumer(username, groups)
          consumers_of[id], credentials_of[id] = consumer, credential
        end
        function gate.client.get_consumer()
          local id = ctx_ids(true)
          return id and consumers_of[id]
        end
        function gate.client.get_credential()
          local id = ctx_ids(true)
          return id and credentials_of[id]
        end

        setmetatable(gate.ctx, {
          __index = function(_, key)
            if key ~= "shared" and key ~= "plugin" then return nil end
            local found, plugin = context()
            if key == "shared" then
              local shared = found.shared
              if not shared then
                shared = {}
                found.shared = shared
              end
              return shared
            end
            local plugins = found.plugin
            if not plugins then
              plugins = {}
              found.plugin = plugins
            end
            local own = plugins[plugin]
            if not own then
              own = {}
              plugins[plugin] = own
            end
            return own
          end,
          __newindex = function()
            error("gate.ctx is read-only: store values in gate.ctx.shared or gate.ctx.plugin", 2)
          end,
        })

        local timer_schedule = host.timer_schedule
        function gate.timer.at(delay, fn, ...)
          if type(delay) ~= "number" or delay < 0 then
            error("bad argument #1 to 'gate.timer.at' (non-negative number of seconds expected)", 2)
          end
          if type(fn) ~= "function" then
            error("bad argument #2 to 'gate.timer.at' (function expected, got " .. type(fn) .. ")", 2)
          end
          last_timer = last_timer + 1
          timers[last_timer] = pack(fn, ...)
          timer_schedule(last_timer, delay)
          return true
        end

        local dict_get, dict_set, dict_add, dict_incr, dict_delete =
          host.dict_get, host.dict_set, host.dict_add, host.dict_incr, host.dict_delete
        local dict_methods = {
          get = function(self, key) return dict_get(self.name, key) end,
          set = function(self, key, value, ttl) return dict_set(self.name, key, value, ttl) end,
          add = function(self, key, value, ttl) return dict_add(self.name, key, value, ttl) end,
          incr = function(self, key, delta, init, ttl) return dict_incr(self.name, key, delta, init, ttl) end,
          delete = function(self, key) return dict_delete(self.name, key) end,
        }
        local dict_meta = { __index = dict_methods }
        local dicts = {}
        function gate.shared.dict(name)
          if type(name) ~= "string" or name == "" then
            error("bad argument #1 to 'gate.shared.dict' (non-empty string expected)", 2)
          end
          local dict = dicts[name]
          if not dict then
            dict = setmetatable({ name = name }, dict_meta)
            dicts[name] = dict
          end
          return dict
        end

        __moongate_runtime = runtime
        """#
}

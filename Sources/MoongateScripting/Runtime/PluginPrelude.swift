/// The Lua half of the plugin runtime, run once in every plugin VM after the `gate`
/// functions are registered. It keeps what must stay inside Lua: the plugin tables
/// and instance configs (installed per plan, so a request's hook call pushes only
/// integers), the `gate.ctx` tables, the functions of pending timers and the
/// `gate.shared.dict` objects.
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

        function runtime.dispatch(plan, index, phase, ...)
          local instance = plans[plan][index]
          return instance.plugin[phases[phase]](instance.conf, ...)
        end

        function runtime.drop_context(id)
          contexts[id] = nil
        end

        function runtime.run_timer(id)
          local timer = timers[id]
          timers[id] = nil
          if timer then return timer[1](unpack(timer, 2, timer.n)) end
        end

        local ctx_ids = host.ctx_ids
        setmetatable(gate.ctx, {
          __index = function(_, key)
            if key ~= "shared" and key ~= "plugin" then return nil end
            local id, plugin = ctx_ids()
            local context = contexts[id]
            if not context then
              context = { shared = {}, plugin = {} }
              contexts[id] = context
            end
            if key == "shared" then return context.shared end
            local own = context.plugin[plugin]
            if not own then
              own = {}
              context.plugin[plugin] = own
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

/// Lua plugin files for the reload and CLI tests. Each says which version of its code
/// is serving, so a test can tell generations apart from the responses alone.
enum ScriptReloadPluginSources {
    /// `ver.lua`: every response carries `X-Version: VERSION` (set in header_filter).
    /// Its schema takes an optional string `label`, so a route may configure it.
    static func versionHeader(_ version: String) -> String {
        """
        local plugin = {
          version = "\(version).0.0",
          priority = 1000,
          schema = { fields = {
            label = { type = "string", default = "none" },
          } },
        }

        function plugin.header_filter(conf)
          gate.response.set_header("X-Version", "\(version)")
        end

        return plugin
        """
    }

    /// `ver.lua` with a syntax error on line `brokenVersionLine` (a missing `,` in the
    /// plugin table).
    static let brokenVersion = """
        local plugin = {
          priority = 1000
          schema = { fields = {} },
        }
        return plugin
        """
    static let brokenVersionLine = 3

    /// `ver.lua` that compiles, but whose schema no longer accepts a string `label`:
    /// a route configured with `label: some-text` does not validate against it.
    static let versionWithIntegerLabel = """
        local plugin = {
          priority = 1000,
          schema = { fields = {
            label = { type = "integer" },
          } },
        }

        function plugin.header_filter(conf)
          gate.response.set_header("X-Version", "integer-label")
        end

        return plugin
        """

    /// `stamp.lua`: the upstream request gets `X-Stamp: STAMP` and the response
    /// `X-Stamped: yes`.
    static func stamp(_ stamp: String) -> String {
        """
        local plugin = { priority = 900, schema = { fields = {} } }

        function plugin.access(conf)
          gate.service.request.set_header("X-Stamp", "\(stamp)")
        end

        function plugin.header_filter(conf)
          gate.response.set_header("X-Stamped", "yes")
        end

        return plugin
        """
    }

    /// `slow-filter.lua`: a header_filter that computes for `milliseconds` (default 20)
    /// without yielding, so it outlives its 2 ms slice and is preempted (requeued) while
    /// the rest of the upstream response arrives; then it sets `X-Filtered: yes`.
    static let slowFilter = """
        local plugin = {
          priority = 1000,
          schema = { fields = {
            milliseconds = { type = "integer", default = 20 },
          } },
        }

        function plugin.header_filter(conf)
          local started = gate.now()
          while gate.now() - started < conf.milliseconds / 1000 do end
          gate.response.set_header("X-Filtered", "yes")
        end

        return plugin
        """

    /// `key-auth-ish.lua`, a ConfigMap key: answers 401 unless `apikey` matches the key
    /// in the `keyring` module (another key of the same ConfigMap), and tags responses
    /// with the keyring's version.
    static let keyAuthIsh = """
        local keyring = require("keyring")

        local plugin = { priority = 1250, schema = { fields = {} } }

        function plugin.access(conf)
          if gate.request.get_header("apikey") ~= keyring.key then
            return gate.response.exit(401, { message = "invalid API key" })
          end
        end

        function plugin.header_filter(conf)
          gate.response.set_header("X-Version", keyring.version)
        end

        return plugin
        """

    /// `keyring.lua`, the helper module `key-auth-ish` requires.
    static func keyring(key: String, version: String) -> String {
        """
        return { key = "\(key)", version = "\(version)" }
        """
    }
}

/// One Lua module as a script generation sees it: its name, where it came from, and the
/// bytes read when the set was loaded.
///
/// The source is captured at load time so a generation compiles and `require`s exactly
/// what was read, even when the file changes or a ConfigMap version is removed later.
public struct ScriptFile: Sendable, Equatable {
    /// The `require` name: the file name without `.lua` (`mylib.util.lua` is `mylib.util`;
    /// bundled `lua/moongate/X.lua` is `moongate.X`).
    public let module: String
    /// The path shown in error messages, as the user sees it (`/etc/scripts/key-auth.lua`),
    /// never the resolved `..data/...` target of a ConfigMap mount.
    public let path: String
    public let source: [UInt8]

    public init(module: String, path: String, source: [UInt8]) {
        self.module = module
        self.path = path
        self.source = source
    }
}

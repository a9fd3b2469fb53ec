import CLua
import CLuaShim

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves `require(name)` inside configured root directories only.
///
/// `a.b` is looked up as `ROOT/a.b.lua` (flat: fits a ConfigMap, whose keys cannot
/// contain `/`) and then `ROOT/a/b.lua`, in root order. Names are dotted identifiers
/// (letters, digits, `_`, `-`): `..`, `/` and absolute names are refused, so nothing
/// outside the roots can be reached.
struct LuaModuleLoader {
    let roots: [String]
    /// Modules given as source (a script generation's snapshot): looked up before the
    /// roots, so a generation never reads files that changed after it was compiled.
    var modules: [String: LuaModuleFile] = [:]

    enum Resolution: Equatable {
        case found(path: String, source: [UInt8])
        case invalidName(String)
        case notFound(tried: [String])
    }

    static func isValidName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 200 else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x5F || byte == 0x2D
            }
        }
    }

    func resolve(_ name: String) -> Resolution {
        guard Self.isValidName(name) else {
            return .invalidName(
                "invalid module name '\(name)' (use dotted names of letters, digits, '_' and '-'; "
                    + "paths, '..' and absolute names are not allowed)")
        }
        if let module = modules[name] {
            return .found(path: module.chunkName, source: module.source)
        }
        var tried: [String] = []
        for root in roots {
            let base = root.hasSuffix("/") ? String(root.dropLast()) : root
            for candidate in [
                "\(base)/\(name).lua", "\(base)/\(name.split(separator: ".").joined(separator: "/")).lua",
            ] where !tried.contains(candidate) {
                tried.append(candidate)
                if let source = Self.readRegularFile(candidate) {
                    return .found(path: candidate, source: source)
                }
            }
        }
        return .notFound(tried: tried)
    }

    /// The file's bytes when it is a regular file (symlinks followed, as in a
    /// ConfigMap volume), else nil.
    static func readRegularFile(_ path: String) -> [UInt8]? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if count < chunk.count { break }
        }
        return bytes
    }
}

/// A module's source held in memory, and the name its errors report (its file path).
public struct LuaModuleFile: Sendable, Equatable {
    public var chunkName: String
    public var source: [UInt8]

    public init(chunkName: String, source: [UInt8]) {
        self.chunkName = chunkName
        self.source = source
    }
}

extension LuaVM {
    /// `require` and `package.loaded`, written in Lua over one host function that
    /// finds and compiles a module. Module errors keep the module's own chunk:line.
    func installRequire() throws(LuaError) {
        register("__moongate_find_module") { call in
            guard let name = call.string(1) else {
                return call.return(.nil, .string("bad argument #1 to 'require' (string expected, got \(call.typeName(1)))"))
            }
            switch call.vm.moduleLoader.resolve(name) {
            case .invalidName(let message):
                return call.return(.nil, .string(message))
            case .notFound(let tried):
                let list = tried.isEmpty ? " (no module roots are configured)" : tried.map { "\n\tno file '\($0)'" }.joined()
                return call.return(.nil, .string("module '\(name)' not found:\(list)"))
            case .found(let path, let source):
                let status = source.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { chars in
                        mg_load(call.vm.raw, chars.baseAddress, chars.count, "@" + path)
                    }
                }
                if status != LUA_OK {
                    // The compiler's message stays on the stack: hand it to Lua as is.
                    lua_pushnil(call.state)
                    mg_insert(call.state, -2)
                    return .results(2)
                }
                lua_pushstring(call.state, path)
                return .results(2)
            }
        }
        let bootstrap = """
            local find = __moongate_find_module
            __moongate_find_module = nil
            local loaded = {}
            package = { loaded = loaded }
            function require(name)
              local value = loaded[name]
              if value ~= nil then return value end
              local chunk, path = find(name)
              if not chunk then error(path, 2) end
              value = chunk(name, path)
              if value == nil then value = loaded[name] end
              if value == nil then value = true end
              loaded[name] = value
              return value
            end
            """
        _ = try call(try load(bootstrap, name: "moongate/require"))
    }
}

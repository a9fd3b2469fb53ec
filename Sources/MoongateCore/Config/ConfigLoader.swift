import Foundation
import Yams

/// Reads `moongate.yaml` (or a document posted to the admin API) into a
/// `ConfigDocument`. Only a document that cannot be read at all throws; problems in
/// individual objects are kept in the document for `ConfigCompiler` to isolate.
public enum ConfigLoader {
    /// Reads and decodes the file at `path`. Relative paths inside it resolve against
    /// the file's directory, made absolute so they survive a change of working directory.
    public static func load(path: String) throws(ConfigLoadError) -> ConfigDocument {
        let source = ConfigSource(file: path, line: nil, path: "")
        // Foundation's own reasons read poorly on Linux ("The operation could not be
        // completed"), so the common cases are told apart first.
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigLoadError(source, "no such file; expected a YAML configuration file")
        }
        guard !isDirectory.boolValue else {
            throw ConfigLoadError(source, "is a directory; expected a YAML configuration file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigLoadError(source, "cannot read the file (check its permissions): \(error.localizedDescription)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ConfigLoadError(source, "the file is not valid UTF-8 text")
        }
        var directory = directory(of: path)
        if !path.hasPrefix("/") {
            let workingDirectory = FileManager.default.currentDirectoryPath
            directory = directory.isEmpty ? workingDirectory : workingDirectory + "/" + directory
        }
        return try parse(yaml: text, file: path, baseDirectory: directory)
    }

    /// Decodes a document held in memory. `file` names it in messages; relative paths
    /// resolve against `baseDirectory`, by default the directory part of `file`.
    public static func parse(yaml: String, file: String, baseDirectory: String? = nil) throws(ConfigLoadError) -> ConfigDocument {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw syntaxError(error, yaml: yaml, file: file)
        }
        return try ConfigDocument.decode(root: root, file: file, baseDirectory: baseDirectory ?? directory(of: file))
    }

    /// "conf/moongate.yaml" -> "conf"; "moongate.yaml" -> "" (the working directory).
    static func directory(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "" }
        return slash == file.startIndex ? "/" : String(file[..<slash])
    }

    /// Rewords libyaml's errors into the `FILE:LINE: MESSAGE` shape of every other
    /// configuration problem (Yams' own text spans several lines with a snippet).
    private static func syntaxError(_ error: any Error, yaml: String, file: String) -> ConfigLoadError {
        func located(_ line: Int?, _ message: String) -> ConfigLoadError {
            ConfigLoadError(ConfigSource(file: file, line: line, path: ""), message)
        }
        guard let error = error as? YamlError else { return located(nil, "invalid YAML: \(error)") }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text), from line \($0.mark.line))" } ?? ""
            return located(mark.line, "invalid YAML: \(problem)\(during)")
        case .reader(let problem, let offset, _, _):
            let line = offset.map { offset in yaml.prefix(offset).reduce(1) { $1 == "\n" ? $0 + 1 : $0 } }
            return located(line, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return located(context.mark.line, "invalid YAML: key \(keys) appears more than once in the same map")
        default:
            return located(nil, "invalid YAML: \(error)")
        }
    }
}

import ArgumentParser
import MoongateCore

#if canImport(Glibc)
import Glibc
#endif

/// Where `run` and `check` read their configuration from (SPEC §1): `-c FILE`, else
/// `moongate.yaml` in the working directory, else the built-in quickstart.
enum ConfigChoice {
    case file(String)
    case quickstart

    static func resolve(_ option: String?) -> ConfigChoice {
        if let option { return .file(option) }
        if access("moongate.yaml", F_OK) == 0 { return .file("moongate.yaml") }
        return .quickstart
    }

    /// The quickstart: `/hello` answered by the built-in echo upstream, with the
    /// bundled correlation-id plugin (each answer carries an X-Request-ID).
    static func quickstartYAML(echoAddress: String) -> String {
        """
        # Moongate's built-in quickstart: curl -i http://127.0.0.1:8000/hello
        proxy:
          listen: ["0.0.0.0:8000"]
        plugins:
          - name: correlation-id
            config: { header_name: X-Request-ID, echo_downstream: true }
        upstreams:
          - name: echo
            targets: [{ address: "\(echoAddress)" }]
        routes:
          - name: hello
            match: { paths: ["/hello"] }
            upstream: echo
        """
    }
}

/// `-c FILE` and `--scripts DIR`, shared by `run` and `check` (SPEC §1).
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Configuration file (default: ./moongate.yaml, else the built-in quickstart).")
    var config: String?

    @Option(name: .customLong("scripts"), help: "Additional scripts directory (used once plugins land).")
    var scripts: [String] = []
}

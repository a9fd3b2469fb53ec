// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "moongate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "moongate", targets: ["moongate"]),
        .library(name: "LuaKit", targets: ["LuaKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // Debian's liblua5.4 (headers in /usr/include/lua5.4), found through pkg-config.
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        // The C side of the Swift <-> Lua boundary: macro wrappers, the trampoline that
        // raises errors and yields for Swift, the allocator, the hook and the watchdog.
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        .target(
            name: "LuaKit",
            dependencies: ["CLuaShim", "CLua"],
            // Dynamic exclusivity checks were the largest cost of a coroutine run
            // (about a third of its instructions under callgrind); LuaKit's state is
            // confined to one thread and accessed without overlapping inout borrows.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // Pure logic, no sockets: config model and validation, router, balancing.
        .target(
            name: "MoongateCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // Lua plugins: script sources and generations, schemas, the plugin chain and the
        // `gate` PDK. Sits between the proxy and the core; uses LuaKit.
        .target(
            name: "MoongateScripting",
            dependencies: [
                "LuaKit",
                "MoongateCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // The NIO data plane.
        .target(
            name: "MoongateProxy",
            dependencies: [
                "MoongateCore",
                "MoongateScripting",
                "LuaKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Exclusivity checks showed in the request-path profile (swift_beginAccess,
            // AccessSet::insert, __tls_get_addr); handlers are event-loop confined.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "moongate",
            dependencies: [
                "LuaKit",
                "MoongateCore",
                "MoongateProxy",
                "MoongateScripting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Release-mode micro-benchmarks of the Lua boundary: `swift run -c release luakit-bench`.
        .executableTarget(name: "luakit-bench", dependencies: ["LuaKit"], path: "Sources/LuaKitBenchmarks"),
        .testTarget(
            name: "LuaKitTests",
            dependencies: [
                "LuaKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Release-mode plugin runtime benchmarks: `swift run -c release plugin-bench`.
        .executableTarget(
            name: "plugin-bench",
            dependencies: [
                "MoongateScripting", "MoongateCore", "LuaKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/PluginBenchmarks"
        ),
        // Release-mode balancer pick benchmark: `swift run -c release balancer-bench`.
        .executableTarget(name: "balancer-bench", dependencies: ["MoongateCore"], path: "Sources/BalancerBenchmarks"),
        // Release-mode router benchmark: `swift run -c release router-bench`.
        .executableTarget(name: "router-bench", dependencies: ["MoongateCore"], path: "Sources/RouterBenchmarks"),
        // Shared by the integration and end-to-end tests: a raw HTTP client and a test origin.
        .target(
            name: "HTTPTestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(name: "MoongateCoreTests", dependencies: ["MoongateCore"]),
        .testTarget(
            name: "MoongateScriptingTests",
            dependencies: [
                "MoongateScripting",
                "MoongateCore",
                "LuaKit",
                "HTTPTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "MoongateProxyTests",
            dependencies: [
                "MoongateProxy",
                "MoongateCore",
                "MoongateScripting",
                "HTTPTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "moongate", "HTTPTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)

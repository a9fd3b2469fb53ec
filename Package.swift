// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "moongate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "moongate", targets: ["moongate"]),
        .library(name: "LuaKit", targets: ["LuaKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
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
        .executableTarget(
            name: "moongate",
            dependencies: [
                "LuaKit",
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
        .testTarget(name: "EndToEndTests", dependencies: ["moongate"]),
    ]
)

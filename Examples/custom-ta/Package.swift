// swift-tools-version:6.1
// A TA developer's own package on rproc-tee: a TA, its embedded unit tests, its own
// secure-world daemon (serving C and Swift clients like `rproc-tee secure-world`) and a client.
import PackageDescription

let package = Package(
    name: "custom-ta",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "rproc-tee", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The TA: written against the GP Internal API only, like any rproc-tee TA.
        .target(name: "CounterTA", dependencies: [.product(name: "TEEInternalAPI", package: "rproc-tee")]),
        // Its daemon: TEEDaemon with the TA registered.
        .executableTarget(name: "counter-daemon", dependencies: [
            "CounterTA",
            .product(name: "TEEDaemon", package: "rproc-tee"),
            .product(name: "SecureWorld", package: "rproc-tee"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // A client in another process, through the daemon's socket.
        .executableTarget(name: "counter-client", dependencies: [
            "CounterTA",
            .product(name: "TEEClient", package: "rproc-tee"),
        ]),
        // Unit tests with the secure world embedded in the test process.
        .testTarget(name: "CounterTATests", dependencies: ["CounterTA", .product(name: "TEEEmbedded", package: "rproc-tee")]),
    ]
)

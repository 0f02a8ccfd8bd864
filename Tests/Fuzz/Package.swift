// swift-tools-version:6.1
// libFuzzer harnesses for every parser of untrusted bytes (OSS-Fuzz style). Build one at a time:
//   swift build -c release --product FuzzContainer --sanitize=fuzzer
// or run them all through `make fuzz` at the repository root.
import PackageDescription

let package = Package(
    name: "rproc-tee-fuzz",
    dependencies: [.package(name: "rproc-tee", path: "../..")],
    targets: [
        .executableTarget(name: "FuzzContainer", dependencies: [.product(name: "FirmwareImage", package: "rproc-tee"), .product(name: "TEECrypto", package: "rproc-tee")]),
        .executableTarget(name: "FuzzELF", dependencies: [.product(name: "FirmwareImage", package: "rproc-tee")]),
        .executableTarget(name: "FuzzSignedTA", dependencies: [.product(name: "FirmwareImage", package: "rproc-tee"), .product(name: "TEECrypto", package: "rproc-tee")]),
        .executableTarget(name: "FuzzResourceTable", dependencies: [.product(name: "FirmwareImage", package: "rproc-tee")]),
        .executableTarget(name: "FuzzWire", dependencies: [.product(name: "TEEWire", package: "rproc-tee")]),
        .executableTarget(name: "FuzzHostFrame", dependencies: [.product(name: "TEEWire", package: "rproc-tee")]),
        .executableTarget(name: "FuzzResigned", dependencies: [.product(name: "FuzzHarnesses", package: "rproc-tee")]),
        .executableTarget(name: "FuzzDaemon", dependencies: [.product(name: "FuzzHarnesses", package: "rproc-tee")]),
        .executableTarget(name: "FuzzRemoteProcTA", dependencies: [.product(name: "FuzzHarnesses", package: "rproc-tee")]),
        .executableTarget(name: "FuzzPlatform", dependencies: [.product(name: "SecureWorld", package: "rproc-tee")]),
        .executableTarget(name: "FuzzSanitizerLine", dependencies: [.product(name: "SecureWorld", package: "rproc-tee")]),
        .executableTarget(name: "FuzzStorageDirectory", dependencies: [.product(name: "SecureWorld", package: "rproc-tee")]),
        .executableTarget(name: "FuzzCoreDump", dependencies: [.product(name: "RemoteProc", package: "rproc-tee")]),
        .executableTarget(name: "FuzzCryptAttributes", dependencies: [.product(name: "OPTEETestTAs", package: "rproc-tee")]),
        .executableTarget(name: "FuzzArithmetic", dependencies: [.product(name: "FuzzHarnesses", package: "rproc-tee")]),
        .executableTarget(name: "FuzzStoredObject", dependencies: [.product(name: "FuzzHarnesses", package: "rproc-tee")]),
        .executableTarget(name: "FuzzStorageObject", dependencies: [.product(name: "FuzzHarnesses", package: "rproc-tee")]),
    ]
)

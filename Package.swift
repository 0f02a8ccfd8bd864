// swift-tools-version:6.1
// rproc-tee: a simulated TrustZone secure world and remoteproc trusted application.
// Layout and dependency rules: see README.md and DESIGN (shared/DESIGN.md).
import PackageDescription

let package = Package(
    name: "rproc-tee",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TEECore", targets: ["TEECore"]),
        .library(name: "TEECrypto", targets: ["TEECrypto"]),
        .library(name: "FirmwareImage", targets: ["FirmwareImage"]),
        .library(name: "TEEWire", targets: ["TEEWire"]),
        .library(name: "TEEInternalAPI", targets: ["TEEInternalAPI"]),
        .library(name: "SecureWorld", targets: ["SecureWorld"]),
        .library(name: "Platform", targets: ["Platform"]),
        .library(name: "TEEClient", targets: ["TEEClient"]),
        .library(name: "TEEEmbedded", targets: ["TEEEmbedded"]),
        .library(name: "RemoteProc", targets: ["RemoteProc"]),
        .library(name: "TEEDaemon", targets: ["TEEDaemon"]),
        .library(name: "TAHost", targets: ["TAHost"]),
        // libteec.so.2: the C client API (tee_client_api.h), a drop-in for OP-TEE's.
        .library(name: "teec", type: .dynamic, targets: ["TEEClientC"]),
        .executable(name: "rproc-tee", targets: ["rproc-tee"]),
        .executable(name: "rproc-tee-bench", targets: ["CryptoBench"]),
        // optee_test's TA ports (and their interface), for the fuzz harness of their decoders.
        .library(name: "OPTEETestTAs", targets: ["OPTEETestTAs", "OPTEETestTAInterface"]),
        // The deeper fuzz harnesses' bodies, for Tests/Fuzz and for swift test's replay.
        .library(name: "FuzzHarnesses", targets: ["FuzzHarnesses"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // GP value types shared by both worlds. Depends on nothing.
        .target(name: "TEECore"),

        // mbedTLS 2.28 from Debian's libmbedtls-dev. Only TEECrypto may import it.
        .systemLibrary(
            name: "CMbedTLS",
            providers: [.apt(["libmbedtls-dev"])]
        ),
        // OpenSSL 3's libcrypto: the second crypto backend (SHA-3, SHAKE; SHA-NI speed).
        .systemLibrary(
            name: "COpenSSL",
            providers: [.apt(["libssl-dev"])]
        ),
        // Unicorn 2.0: the emulated Cortex-M core of the coprocessor, and forwarders for its
        // macros and variadic functions.
        .systemLibrary(
            name: "CUnicorn",
            providers: [.apt(["libunicorn-dev"])]
        ),
        .target(name: "CUnicornShims", dependencies: ["CUnicorn"], linkerSettings: [.linkedLibrary("unicorn")]),
        // One-line C forwarders for what Swift cannot reach in mbedTLS headers.
        .target(name: "CMbedTLSShims", dependencies: ["CMbedTLS"]),

        // Digests, MACs, KDF, RSA, ECDSA, AES, DRBG, keys. The ONLY importer of CMbedTLS* and COpenSSL.
        .target(name: "TEECrypto", dependencies: ["CMbedTLS", "CMbedTLSShims", "COpenSSL"]),

        // The message encoding of every request and reply between the worlds.
        .target(name: "TEEWire", dependencies: ["TEECore"]),

        // What Swift cannot import: futex, memfd, SCM_RIGHTS, SO_PEERCRED. Only TEETransport imports it.
        .target(name: "CTEEPlatform"),
        // Shared memory and the transports between the worlds (in-process, and the daemon's
        // Unix socket + memfd + futex channels, both ends).
        .target(name: "TEETransport", dependencies: ["TEECore", "TEEWire", "CTEEPlatform"]),

        // The GP TEE Internal Core API a TA is written against.
        .target(name: "TEEInternalAPI", dependencies: ["TEECore", "TEECrypto"]),

        // The simulated SoC: boards, physical memory, firewall, windows, coprocessors and their
        // emulated cores, core dumps. Knows nothing of TAs (SecureWorld's pseudo-TAs drive it).
        .target(
            name: "Platform",
            dependencies: ["TEECore", "TEECrypto", "FirmwareImage", "CUnicorn", "CUnicornShims"]
        ),

        // The secure-world OS: TA registry, instances, sessions, dispatch, storage, log.
        .target(
            name: "SecureWorld",
            dependencies: [
                "TEECore", "TEEWire", "TEETransport", "TEEInternalAPI", "TEECrypto", "FirmwareImage", "RemoteProcTAInterface", "TAHost",
                "Platform", .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The secure-world daemon as a library (rproc-tee secure-world, and a TA developer's own).
        .target(name: "TEEDaemon", dependencies: [
            "SecureWorld", "TEETransport", "TAHost", "TEEInternalAPI", .product(name: "Logging", package: "swift-log"),
        ]),

        // The C interface between the C TA dev kit's libutee.so (Kit/, built by `make install`
        // with the C compiler: a C library with no Swift in it) and the TA host that binds it.
        .target(name: "CTAHostABI"),

        // The process one TA instance runs in (daemon mode): the Internal API's runtime, whose
        // services are requests to the core over the TA-host link.
        .target(name: "TAHost", dependencies: ["TEEInternalAPI", "TEETransport", "TEEWire", "CTAHostABI"]),

        // The GP Client API in Swift; reaches the secure world only through a transport.
        .target(name: "TEEClient", dependencies: ["TEECore", "TEEWire", "TEETransport"]),
        // Assembles client and secure world in one process (TEEContext.embedded).
        .target(name: "TEEEmbedded", dependencies: [
            "TEEClient", "SecureWorld", "TEETransport", "RemoteProc", "RemoteProcTA",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // OP-TEE's tee_client_api.h (+ extensions), our own, with its layout checked at compile time.
        .target(name: "CTEEClientAPI"),
        // The C ABI implemented on TEEClient (one protocol implementation), exported with @_cdecl.
        .target(name: "TEEClientC", dependencies: ["CTEEClientAPI", "TEEClient", "TEETransport", "TEECore"],
                // $ORIGIN/swift: the Swift runtime `make install` puts beside it, for a machine
                // without the toolchain (the toolchain's own path comes first where it exists).
                linkerSettings: [.unsafeFlags(["-Xlinker", "-soname=libteec.so.2", "-Xlinker", "-rpath=$ORIGIN/swift"])]),
        // The normal-world remoteproc driver (Linux's remoteproc core + tee backend).
        .target(name: "RemoteProc", dependencies: ["TEEClient", "RemoteProcTAInterface", "FirmwareImage"]),

        // The example TA and its interface (shared with clients).
        .target(name: "HelloWorldTAInterface", dependencies: ["TEECore"], path: "TA/HelloWorldTAInterface"),
        .target(name: "HelloWorldTA", dependencies: ["TEEInternalAPI", "HelloWorldTAInterface"], path: "TA/HelloWorldTA"),

        // TAs that die on request (panic, trap, stack overflow, kill, allocation past their data
        // size), for the TA-isolation tests and demonstrations (`secure-world --test-tas`).
        .target(name: "IsolationTestTA", dependencies: ["TEEInternalAPI"], path: "TA/IsolationTestTA"),

        // Swift ports of OP-TEE's example TAs (same UUIDs and commands) and their interfaces.
        .target(name: "OPTEEExamplesTAInterface", dependencies: ["TEECore"], path: "TA/OPTEEExamplesTAInterface"),
        .target(name: "OPTEEExamples", dependencies: ["TEEInternalAPI", "OPTEEExamplesTAInterface"], path: "TA/OPTEEExamples"),
        // Ports of optee_test's TAs (our own Swift; interfaces carry over) that xtest drives.
        .target(name: "OPTEETestTAInterface", dependencies: ["TEECore"], path: "TA/OPTEETestTAInterface"),
        .target(name: "OPTEETestTAs", dependencies: ["TEEInternalAPI", "OPTEETestTAInterface"], path: "TA/OPTEETestTAs"),

        // The remoteproc TA and its interface (TA commands and the platform pseudo-TA's).
        .target(name: "RemoteProcTAInterface", dependencies: ["TEECore"], path: "TA/RemoteProcTAInterface"),
        .target(name: "RemoteProcTA", dependencies: ["TEEInternalAPI", "RemoteProcTAInterface", "FirmwareImage"], path: "TA/RemoteProcTA"),

        // The signed image format, ELF and resource-table readers, verifier and signer.
        .target(name: "FirmwareImage", dependencies: ["TEECrypto"]),

        .executableTarget(
            name: "rproc-tee",
            dependencies: [
                "TEECore", "TEECrypto", "FirmwareImage", "TEEEmbedded", "SecureWorld", "RemoteProc", "TEEClient", "RemoteProcTAInterface",
                "TEEDaemon", "TEETransport", "HelloWorldTA", "OPTEEExamples", "OPTEETestTAs", "IsolationTestTA", "RemoteProcTA", "TEEInternalAPI",
                "TEEClientC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // An installed prefix carries the Swift runtime in lib/swift (see scripts/install.sh).
            linkerSettings: [.unsafeFlags(["-Xlinker", "-rpath=$ORIGIN/../lib/swift"])]
        ),

        // Benchmarks: our Swift layer against the same mbedTLS calls made directly from C.
        .target(
            name: "CMbedTLSBaseline",
            path: "Benchmarks/CMbedTLSBaseline",
            linkerSettings: [.linkedLibrary("mbedcrypto"), .linkedLibrary("crypto")]
        ),
        .executableTarget(
            name: "CryptoBench",
            dependencies: [
                "TEECrypto", "FirmwareImage", "CMbedTLSBaseline", "TEEEmbedded", "TEEInternalAPI", "RemoteProcTAInterface",
                "TEEClient", "RemoteProc", "HelloWorldTAInterface", "HelloWorldTA", "IsolationTestTA", "SecureWorld", "TEEWire",
                "TEETransport", "OPTEETestTAs", "OPTEETestTAInterface", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/CryptoBench"
        ),

        .target(name: "FuzzHarnesses", dependencies: [
            "FirmwareImage", "TEECrypto", "TEEEmbedded", "RemoteProcTAInterface", "TEETransport", "TEEWire", "HelloWorldTA", "SecureWorld",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/Fuzz/Harnesses"),

        // Test helpers: repository paths, the example firmware built with clang.
        .target(name: "TestSupport", dependencies: ["FirmwareImage", "TEECrypto", "TEECore", "TEEClient", "OPTEETestTAInterface"], path: "Tests/TestSupport"),

        .testTarget(name: "TEECoreTests", dependencies: ["TEECore"]),
        .testTarget(name: "TEECryptoTests", dependencies: ["TEECrypto"]),
        .testTarget(name: "FirmwareImageTests", dependencies: ["FirmwareImage", "TEECrypto", "TestSupport"]),
        .testTarget(name: "TEEWireTests", dependencies: ["TEEWire", "TEECore", "TestSupport"]),
        .testTarget(name: "SecureWorldTests", dependencies: [
            "TEEEmbedded", "TEEInternalAPI", "HelloWorldTA", "HelloWorldTAInterface", "TEECrypto", "TestSupport",
            "TEETransport", "TEEWire", "SecureWorld", "TEEClient", "OPTEETestTAs", "OPTEETestTAInterface", "FirmwareImage",
            "OPTEEExamples", "OPTEEExamplesTAInterface",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "RemoteProcTests", dependencies: [
            "FuzzHarnesses",
            "TEEEmbedded", "RemoteProc", "RemoteProcTAInterface", "SecureWorld", "TEEClient", "FirmwareImage", "TEECrypto",
            "TestSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        // A client process the daemon tests start and kill.
        .executableTarget(name: "rproc-tee-testclient", dependencies: [
            "TEEClient", "RemoteProc", "HelloWorldTAInterface", "RemoteProcTAInterface",
        ], path: "Tests/DaemonTestClient"),
        .testTarget(name: "DaemonTests", dependencies: [
            "rproc-tee", "rproc-tee-testclient", "TEEClient", "TEETransport", "TEEWire", "CTEEPlatform", "RemoteProc",
            "RemoteProcTAInterface", "HelloWorldTAInterface", "FirmwareImage", "TEECrypto", "TestSupport", "IsolationTestTA",
            "OPTEETestTAInterface", "OPTEEExamplesTAInterface",
        ]),
        .testTarget(name: "CLITests", dependencies: ["rproc-tee", "TEECrypto", "TestSupport"]),
    ]
)

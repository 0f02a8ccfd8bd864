import FirmwareImage
import Foundation
import Testing
import TestSupport

/// C programs of our own (Tests/CClients), compiled in the test run against the installed
/// header and library (`scripts/install.sh`, what `make install` runs, on the debug build) with
/// `cc prog.c $(pkg-config --cflags --libs teec)`, run with no LD_LIBRARY_PATH against the daemon.
@Suite(.serialized) struct CClientTests {
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        var env: [String: String?] = ["LD_LIBRARY_PATH": nil]
        for (k, v) in environment { env[k] = v }
        return try runMerged(URL(fileURLWithPath: "/usr/bin/env"), [tool] + arguments, environment: env)
    }

    /// `cc -std=c11 -Wall -Wextra -Werror ARGS`. Under a sanitizer the installed libteec is
    /// instrumented, so the program must be too: `make test-tsan` / `test-asan` set
    /// RPROC_TEE_TEST_CC (the clang beside swift, whose runtime matches) and RPROC_TEE_TEST_CFLAGS.
    static func compile(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let env = ProcessInfo.processInfo.environment
        let extra = (env["RPROC_TEE_TEST_CFLAGS"] ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        return try run(env["RPROC_TEE_TEST_CC"] ?? "cc", ["-std=c11", "-Wall", "-Wextra", "-Werror"] + extra + arguments)
    }

    /// Installs into `prefix` and compiles `program` from Tests/CClients; returns the binary.
    static func build(_ program: String, prefix: URL) throws -> String {
        let pc = ["PKG_CONFIG_PATH": prefix.appendingPathComponent("lib/pkgconfig").path]
        let flags = try run("pkg-config", ["--cflags", "--libs", "teec"], environment: pc)
        #expect(flags.status == 0, "pkg-config: \(flags.output)")
        let binary = prefix.appendingPathComponent(program).path
        let source = Repository.root.appendingPathComponent("Tests/CClients/\(program).c").path
        let cc = try compile([source, "-o", binary, "-lpthread"] + flags.output.split(whereSeparator: \.isWhitespace).map(String.init))
        #expect(cc.status == 0, "cc \(program).c: \(cc.output)")
        return binary
    }

    /// `runtime`: also the Swift runtime in lib/swift (76 MB: only the test that needs it).
    static func install(_ prefix: URL, runtime: Bool = false) throws {
        let r = try run(Repository.root.appendingPathComponent("scripts/install.sh").path, ["install", prefix.path, DaemonProcess.binaries.path],
                        environment: ["RPROC_TEE_INSTALL_RUNTIME": runtime ? "yes" : "no"])
        #expect(r.status == 0, "\(r.output)")
    }

    @Test func structLayoutsMatchTheSpec() throws {
        let prefix = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: prefix) }
        try Self.install(prefix)
        let r = try Self.run(try Self.build("layout", prefix: prefix), [])
        #expect(r.status == 0)
        // shared/spec/client-abi.md §2 (x86-64).
        let expected = [
            "TEEC_Context 8", "TEEC_Context.imp.fd 0", "TEEC_Context.imp.reg_mem 4", "TEEC_Context.imp.memref_null 5",
            "TEEC_UUID 16", "TEEC_UUID.timeMid 4", "TEEC_UUID.timeHiAndVersion 6", "TEEC_UUID.clockSeqAndNode 8",
            "TEEC_SharedMemory 56", "TEEC_SharedMemory.buffer 0", "TEEC_SharedMemory.size 8", "TEEC_SharedMemory.flags 16",
            "TEEC_SharedMemory.imp.id 24", "TEEC_SharedMemory.imp.alloced_size 32", "TEEC_SharedMemory.imp.shadow_buffer 40",
            "TEEC_SharedMemory.imp.registered_fd 48", "TEEC_SharedMemory.imp.flags 52",
            "TEEC_TempMemoryReference 16", "TEEC_TempMemoryReference.size 8",
            "TEEC_RegisteredMemoryReference 24", "TEEC_RegisteredMemoryReference.size 8", "TEEC_RegisteredMemoryReference.offset 16",
            "TEEC_Value 8", "TEEC_Value.b 4", "TEEC_Parameter 24",
            "TEEC_Session 16", "TEEC_Session.imp.ctx 0", "TEEC_Session.imp.session_id 8",
            "TEEC_Operation 112", "TEEC_Operation.started 0", "TEEC_Operation.paramTypes 4", "TEEC_Operation.params 8", "TEEC_Operation.imp.session 104",
            "TEEC_PARAM_TYPES 0xe51", "TEEC_ERROR_TARGET_DEAD 0xffff3024",
        ]
        #expect(r.output.split(separator: "\n").map(String.init) == expected, "\(r.output)")
    }

    @Test func everyFunctionAndErrorPathFromC() throws {
        let d = try DaemonProcess()
        defer { d.cleanUp() }
        try Self.install(d.directory.appendingPathComponent("prefix"))
        let api = try Self.build("api", prefix: d.directory.appendingPathComponent("prefix"))
        let r = try Self.run(api, [], environment: ["RPROC_TEE_SOCKET": d.socket])
        #expect(r.status == 0 && r.output.hasPrefix("ok "), "\(r.output)")
        // No daemon: InitializeContext fails cleanly.
        let none = try Self.run(api, [], environment: ["RPROC_TEE_SOCKET": d.directory.appendingPathComponent("nothing").path])
        #expect(none.status != 0 && none.output.contains("initialize"), "\(none.output)")
    }

    /// The ten ported example TAs, each called by its own program (Tests/CClients/example_NAME.c)
    /// as OP-TEE's example host program for it does, against one daemon.
    @Test func opteeExampleTAsFromC() throws {
        let d = try DaemonProcess()
        defer { d.cleanUp() }
        let prefix = d.directory.appendingPathComponent("prefix")
        try Self.install(prefix)
        let examples = ["hello_world", "random", "secure_storage", "aes", "ecdsa", "sign_verify", "hotp", "acipher", "ecdh", "sha"]
        let sources = try FileManager.default.contentsOfDirectory(atPath: Repository.root.appendingPathComponent("Tests/CClients").path)
        #expect(Set(sources.filter { $0.hasPrefix("example_") }) == Set(examples.map { "example_\($0).c" }), "every example program is run")
        for name in examples {
            let r = try Self.run(try Self.build("example_\(name)", prefix: prefix), [], environment: ["RPROC_TEE_SOCKET": d.socket])
            #expect(r.status == 0 && r.output.contains("ok \(name)"), "\(name): \(r.output)")
        }
    }

    /// Examples/remoteproc-c: Linux's remoteproc_tee sequence from C, as the kernel identity.
    @Test func remoteprocFromC() throws {
        let d = try DaemonProcess()
        defer { d.cleanUp() }
        let prefix = d.directory.appendingPathComponent("prefix")
        try Self.install(prefix)
        let flags = try Self.run("pkg-config", ["--cflags", "--libs", "teec"], environment: ["PKG_CONFIG_PATH": prefix.appendingPathComponent("lib/pkgconfig").path])
        let binary = prefix.appendingPathComponent("rproc_load").path
        let cc = try Self.compile([Repository.root.appendingPathComponent("Examples/remoteproc-c/rproc_load.c").path, "-o", binary]
                                  + flags.output.split(whereSeparator: \.isWhitespace).map(String.init))
        #expect(cc.status == 0, "\(cc.output)")
        let image = d.directory.appendingPathComponent("m4.sig").path
        try Data(try ImageSigner(images: [try ExampleFirmware.m4], key: ImageBuilder.rsaKey).sign()).write(to: URL(fileURLWithPath: image))
        let r = try Self.run(binary, [image], environment: ["RPROC_TEE_SOCKET": d.socket])
        #expect(r.status == 0, "\(r.output)")
        for line in ["LOAD_FW        ok", "GET_RSC_TABLE  ok", "resource table at PA 0x0000000030000000, 200 bytes", "START_FW       ok", "STOP_FW        ok", "RELEASE_FW     ok"] {
            #expect(r.output.contains(line), "missing \(line): \(r.output)")
        }
        // A tampered signature: LOAD_FW refused with SIGNATURE_INVALID, then RELEASE_FW.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: image)))
        let metadata = try ImageMetadata(bytes: bytes, fileSize: bytes.count)
        bytes[metadata.header.signatureOffset + 10] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: image))
        let bad = try Self.run(binary, [image], environment: ["RPROC_TEE_SOCKET": d.socket])
        #expect(bad.status == 1 && bad.output.contains("LOAD_FW        refused (0xffff3072, origin 4)") && bad.output.contains("RELEASE_FW     ok"), "\(bad.output)")
    }

    @Test func threadsCancellationAndAKilledCClient() throws {
        let d = try DaemonProcess()
        defer { d.cleanUp() }
        let prefix = d.directory.appendingPathComponent("prefix")
        try Self.install(prefix)
        let threads = try Self.build("threads", prefix: prefix)
        let r = try Self.run(threads, [], environment: ["RPROC_TEE_SOCKET": d.socket])
        #expect(r.status == 0 && r.output.hasPrefix("ok threads"), "\(r.output)")
        // A C client killed while it blocks in a call: the daemon cleans up after it. (First let
        // the daemon finish with the client that just exited.)
        #expect(d.eventually { d.log.components(separatedBy: "client gone: uid").count - 1 == 1 }, "the threads client was cleaned up")
        let fdsBefore = d.descriptors
        let p = Process()
        p.executableURL = URL(fileURLWithPath: threads)
        p.arguments = ["block"]
        p.environment = ["RPROC_TEE_SOCKET": d.socket]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        #expect(out.fileHandleForReading.readLine() == "ready")
        usleep(100_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(d.eventually { d.descriptors == fdsBefore }, "descriptors \(d.descriptors), before \(fdsBefore)")
    }

    @Test func installAndUninstall() throws {
        let prefix = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: prefix) }
        try Self.install(prefix)
        let files = ["bin/rproc-tee", "include/tee_client_api.h", "include/tee_client_api_extensions.h", "include/tee_plugin_method.h", "lib/libteec.so.2", "lib/libteec.so", "lib/pkgconfig/teec.pc",
                     "share/rproc-tee/keys/dev-rsa2048.pem", "share/rproc-tee/keys/dev-ecdsa-p256.pem"]
        for f in files { #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent(f).path), "\(f) installed") }
        let soname = try Self.run("readelf", ["-d", prefix.appendingPathComponent("lib/libteec.so.2").path])
        #expect(soname.output.contains("Library soname: [libteec.so.2]"), "\(soname.output)")
        let mine = prefix.appendingPathComponent("lib/mine.txt")
        try Data("not ours".utf8).write(to: mine)
        let r = try Self.run(Repository.root.appendingPathComponent("scripts/install.sh").path, ["uninstall", prefix.path])
        #expect(r.status == 0)
        for f in files { #expect(!FileManager.default.fileExists(atPath: prefix.appendingPathComponent(f).path), "\(f) removed") }
        #expect(FileManager.default.fileExists(atPath: mine.path), "uninstall removes exactly what install wrote")
    }

    /// Issue 23 item 9: an installed prefix stands alone. With the toolchain hidden (a tmpfs
    /// mounted over it in a mount namespace of its own), the installed daemon serves — its TA
    /// hosts included — and a C client linked against the installed libteec passes api.c; both
    /// binaries find the Swift runtime in PREFIX/lib/swift through their $ORIGIN runpaths.
    @Test(.enabled(if: geteuid() == 0, "a mount namespace needs root"),
          .enabled(if: ProcessInfo.processInfo.environment["RPROC_TEE_SANITIZER"] == nil,
                   "under make test-tsan/asan the C client itself links the toolchain's sanitizer runtime"))
    func anInstalledPrefixRunsWithoutTheToolchain() throws {
        let prefix = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: prefix) }
        try Self.install(prefix, runtime: true)
        let runtime = try FileManager.default.contentsOfDirectory(atPath: prefix.appendingPathComponent("lib/swift").path)
        #expect(runtime.contains("libswiftCore.so") && runtime.contains("libFoundation.so"), "\(runtime)")
        let api = try Self.build("api", prefix: prefix)
        // The toolchain: where this machine's libswiftCore.so comes from, two folders up
        // (…/usr/lib/swift/linux → …/usr/lib).
        let ldd = try Self.run("ldd", [prefix.appendingPathComponent("bin/rproc-tee").path])
        guard let core = ldd.output.split(separator: "\n").first(where: { $0.contains("libswiftCore.so") }),
              let path = core.split(separator: " ").first(where: { $0.hasPrefix("/") }) else {
            Issue.record("no libswiftCore.so in ldd: \(ldd.output)")
            return
        }
        let toolchain = URL(fileURLWithPath: String(path)).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let script = """
            mount -t tmpfs tmpfs "$HIDE" || exit 91
            [ ! -e "$CORE" ] || exit 92
            "$P/bin/rproc-tee" secure-world --socket "$P/sock" --state "$P/state" > "$P/daemon.log" 2>&1 &
            daemon=$!
            i=0; while [ ! -S "$P/sock" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
            RPROC_TEE_SOCKET="$P/sock" "$API"; rc=$?
            kill -TERM $daemon; wait $daemon
            exit $rc
            """
        let r = try Self.run("unshare", ["--mount", "--propagation", "private", "sh", "-c", script],
                             environment: ["HIDE": toolchain, "CORE": String(path), "P": prefix.path, "API": api])
        let log = (try? String(contentsOf: prefix.appendingPathComponent("daemon.log"), encoding: .utf8)) ?? ""
        #expect(r.status == 0 && r.output.contains("ok "), "status \(r.status): \(r.output)\n\(log)")
        #expect(log.contains("runs in TA host pid"), "a TA host ran without the toolchain: \(log)")
    }
}

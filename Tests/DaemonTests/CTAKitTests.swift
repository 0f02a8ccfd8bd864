import FirmwareImage
import Foundation
import TEECore
import TEECrypto
import Testing
import TestSupport

/// The C TA dev kit end to end: `make install` lays it out (scripts/install.sh, on the debug
/// build), rproc-tee's own C test TA (Tests/CTAs/kit_test) is built with its unmodified
/// optee_examples-style Makefile against it — signed by the kit's make — and served from a
/// --ta-dir by the daemon, where a C client (Tests/CClients/kit_test.c) drives it. Then the TA
/// file is damaged in each way a TA store must refuse, and every refusal is OP-TEE's answer.
@Suite(.serialized) struct CTAKitTests {
    static let kitTestUUID = "5f8b97c4-6a2e-4a3c-9c1e-0b7d4e2a1f01"

    /// A prefix with the kit, the test TA built into `taDir`, and the client.
    struct Built {
        let prefix: URL
        let kit: URL
        let taDir: URL
        let client: String
        var tool: String { prefix.appendingPathComponent("bin/rproc-tee").path }
        var developmentKey: String { kit.appendingPathComponent("keys/default_ta.pem").path }

        /// The daemon's options for this kit and TA folder.
        var daemonOptions: [String] {
            ["--ta-dir", taDir.path, "--libutee", kit.appendingPathComponent("lib/libutee.so").path,
             "--ta-key", kit.appendingPathComponent("keys/default_ta.pub.pem").path]
        }

        func sign(_ elf: String, uuid: String, key: String? = nil, into name: String) throws {
            let r = try CClientTests.run(tool, ["sign-ta", "--key", key ?? developmentKey, "--uuid", uuid, "--in", elf,
                                                "--out", taDir.appendingPathComponent(name + ".ta").path, "--force"])
            #expect(r.status == 0, "sign-ta: \(r.output)")
        }
    }

    static func build(in directory: URL, cflags: String? = nil) throws -> Built {
        let prefix = directory.appendingPathComponent("prefix")
        try CClientTests.install(prefix)
        let kit = prefix.appendingPathComponent("export-ta_x86_64")
        let taDir = directory.appendingPathComponent("tas")
        try FileManager.default.createDirectory(at: taDir, withIntermediateDirectories: true)
        // The TA library it needs by UUID and the one it dlopens first, into the same folder.
        for folder in ["kit_test_lib", "kit_test_dl", "kit_test/ta"] {
            let make = try CClientTests.run("make", ["-C", Repository.root.appendingPathComponent("Tests/CTAs/\(folder)").path,
                                                     "TA_DEV_KIT_DIR=\(kit.path)", "CROSS_COMPILE=", "O=\(taDir.path)"] + (cflags.map { ["CFLAGS=\($0)"] } ?? []))
            #expect(make.status == 0, "make \(folder): \(make.output)")
            #expect(!make.output.contains("warning:"), "\(folder) builds without warnings at WARNS=3: \(make.output)")
        }
        for output in ["\(kitTestUUID).ta", "\(kitTestUUID).elf", "\(kitTestUUID).map", "\(kitTestUUID).dmp", "\(kitTestUUID).stripped.elf"] {
            #expect(FileManager.default.fileExists(atPath: taDir.appendingPathComponent(output).path), "make writes \(output)")
        }
        return Built(prefix: prefix, kit: kit, taDir: taDir, client: try CClientTests.build("kit_test", prefix: prefix))
    }

    /// A folder with the kit and the TA built, and a daemon serving it: `body` runs with them.
    static func withDaemon(_ body: (URL, Built, DaemonProcess, [String: String]) throws -> Void) throws {
        let directory = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let built = try Self.build(in: directory)
        let d = try DaemonProcess(extra: built.daemonOptions, directory: directory)
        defer { d.cleanUp() }
        try body(directory, built, d, ["RPROC_TEE_SOCKET": d.socket])
    }

    @Test func aCTABuiltWithTheKitRunsInTheDaemon() throws { try Self.withDaemon { _, built, d, env in
        let all = try CClientTests.run(built.client, [], environment: env)
        #expect(all.status == 0, "\(all.output)")
        let checks = ["values", "memrefs", "sha256", "hmac-sha256", "aes-ecb", "aes-gcm", "rsa-pss", "ecdsa-ecdh", "storage",
                      "properties", "time", "ta-to-ta", "malloc", "access-rights", "build-flags", "libraries", "arithmetic", "derive-key",
                      "no-escape", "cancellation"]
        #expect(all.output.split(separator: "\n").map(String.init) == checks.map { "ok \($0)" }, "\(all.output)")
        // TEE_Panic; a handle the runtime never gave out (GP: a panic); a read through
        // TEE_Malloc(0); an object id in the client's memory (OP-TEE: the TA dies).
        for mode in ["panic", "bad-handle", "zero-malloc", "id-in-shm"] {
            let r = try CClientTests.run(built.client, [mode], environment: env)
            #expect(r.status == 0 && r.output.contains("ok \(mode)"), "\(mode): \(r.output)")
        }
        let log = try String(contentsOf: d.logFile, encoding: .utf8)
        // The TA's own trace (DMSG at CFG_TEE_TA_LOG_LEVEL 3) reaches the secure log, one line each.
        #expect(log.contains("D/TA: TA_CreateEntryPoint:") && log.contains(" created"), "\(log)")
        #expect(log.contains("code 0xDEAD") && log.contains("0x1234 is not an object handle"), "\(log)")
        // The daemon still serves it after both deaths.
        let again = try CClientTests.run(built.client, ["open", Self.kitTestUUID], environment: env)
        #expect(again.output.contains("open 0x0 origin"), "\(again.output)")
    } }

    /// `--ta-debug UUID`: the TA's host starts debuggable and waits, before any of the TA's code
    /// runs, until a debugger attaches (here a PTRACE_SEIZE of our own, Tests/CClients/attach.c:
    /// CI has no gdb); the log names the pid and a gdb command whose solib-search-path holds the
    /// TA's unstripped ELF under the name the loader gives it.
    @Test func aDebuggedTAWaitsForItsDebugger() throws {
        let directory = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let built = try Self.build(in: directory)
        let d = try DaemonProcess(extra: built.daemonOptions + ["--ta-debug", Self.kitTestUUID], directory: directory)
        defer { d.cleanUp() }
        let attach = built.prefix.appendingPathComponent("attach").path
        let cc = try CClientTests.compile([Repository.root.appendingPathComponent("Tests/CClients/attach.c").path, "-o", attach])
        guard cc.status == 0 else {
            Issue.record("attach.c: \(cc.output)")
            return
        }
        let client = Process()
        client.executableURL = URL(fileURLWithPath: built.client)
        client.arguments = ["open", Self.kitTestUUID]
        client.environment = ["RPROC_TEE_SOCKET": d.socket]
        let out = Pipe()
        client.standardOutput = out
        try client.run()
        // The log line with the host's pid and the gdb command.
        var pid: Int32?
        var folder: String?
        for _ in 0..<200 where pid == nil {
            usleep(50_000)
            let log = (try? String(contentsOf: d.logFile, encoding: .utf8)) ?? ""
            if let line = log.split(separator: "\n").first(where: { $0.contains("waits for a debugger before the TA is loaded: gdb -p") }) {
                pid = line.components(separatedBy: "gdb -p ").last.flatMap { Int32($0.prefix { $0.isNumber }) }
                folder = line.components(separatedBy: "solib-search-path ").last.map { String($0.prefix { $0 != "'" }) }
            }
        }
        guard let pid, let folder else {
            Issue.record("no --ta-debug line in the log")
            client.terminate()
            return
        }
        usleep(300_000)
        #expect(client.isRunning, "OpenSession waits while no debugger is attached")
        let link = URL(fileURLWithPath: folder).appendingPathComponent(Self.kitTestUUID).path
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == built.taDir.appendingPathComponent("\(Self.kitTestUUID).elf").path)
        let r = try CClientTests.run(attach, [String(pid)])
        #expect(r.status == 0, "\(r.output)")
        // Bounded: a host that never goes on must not hang the suite.
        for _ in 0..<100 where client.isRunning { usleep(50_000) }
        if client.isRunning {
            Issue.record("the debugged TA did not go on after the debugger attached")
            client.terminate()
        }
        client.waitUntilExit()
        let answer = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(answer.contains("open 0x0 origin 4"), "\(answer)")
    }

    /// A TA built with the C compiler's UndefinedBehaviorSanitizer (CFLAGS on make's command
    /// line; its runtime loaded into every TA host with --ta-preload): the whole kit test passes
    /// instrumented, and undefined behaviour is reported in the secure log with the TA's file
    /// and line, and the TA dies (TARGET_DEAD).
    @Test func anUndefinedBehaviourReportReachesTheLog() throws {
        // Under make test-tsan/test-asan the TA hosts carry clang's sanitizer runtime, which
        // gcc's libubsan must not join.
        guard ProcessInfo.processInfo.environment["RPROC_TEE_SANITIZER"] == nil else { return }
        let runtime = try CClientTests.run("gcc", ["-print-file-name=libubsan.so.1"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard runtime.hasPrefix("/"), FileManager.default.fileExists(atPath: runtime) else {
            Issue.record("gcc's libubsan.so.1 is not installed (\(runtime))")
            return
        }
        let directory = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let built = try Self.build(in: directory, cflags: "-fsanitize=undefined -fno-sanitize-recover=all")
        let d = try DaemonProcess(extra: built.daemonOptions + ["--ta-preload", runtime], directory: directory)
        defer { d.cleanUp() }
        let env = ["RPROC_TEE_SOCKET": d.socket]
        let all = try CClientTests.run(built.client, [], environment: env)
        #expect(all.status == 0 && all.output.contains("ok cancellation"), "\(all.output)")
        let ub = try CClientTests.run(built.client, ["undefined"], environment: env)
        #expect(ub.status == 0 && ub.output.contains("ok undefined"), "\(ub.output)")
        let log = try String(contentsOf: d.logFile, encoding: .utf8)
        #expect(log.contains("kit_test_more.c:") && log.contains("runtime error: signed integer overflow"), "\(log)")
    }

    /// Each damaged or foreign file is refused with the result OP-TEE's TA store and loader give
    /// (SECURITY for the signed header, BAD_FORMAT for the ELF), origin TEE, the daemon unharmed;
    /// a file replaced after it was verified is verified again.
    @Test func hostileTAFilesAreRefused() throws { try Self.withDaemon { directory, built, d, env in
        let taFile = built.taDir.appendingPathComponent("\(Self.kitTestUUID).ta")
        let good = try Data(contentsOf: taFile)
        let elf = built.taDir.appendingPathComponent("\(Self.kitTestUUID).stripped.elf").path
        func open(_ uuid: String = Self.kitTestUUID) throws -> String {
            let r = try CClientTests.run(built.client, ["open", uuid], environment: env)
            return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func replace(_ bytes: Data) throws {
            // A new file (a new inode), as an editor or a copy makes it.
            let staged = taFile.appendingPathExtension("new")
            try bytes.write(to: staged)
            _ = rename(staged.path, taFile.path)
        }
        #expect(try open() == "open 0x0 origin 4")
        let security = "open 0xffff000f origin 3", badFormat = "open 0xffff0005 origin 3"

        // Unsigned: the ELF itself under the TA's name.
        try replace(try Data(contentsOf: URL(fileURLWithPath: elf)))
        #expect(try open() == security, "an unsigned ELF")
        // Truncated inside the signed header.
        try replace(good.prefix(64))
        #expect(try open() == security, "a truncated file")
        // One byte of the payload changed after signing.
        var flipped = good
        flipped[flipped.count - 100] ^= 0x01
        try replace(flipped)
        #expect(try open() == security, "a changed byte")
        // Signed by a key the daemon does not trust.
        try built.sign(elf, uuid: Self.kitTestUUID, key: Repository.root.appendingPathComponent("Keys/dev-rsa2048.pem").path, into: Self.kitTestUUID)
        #expect(try open() == security, "another key")
        // Signed for another UUID than its file name.
        let other = "0b3f1a52-9c2d-4e8f-a1b2-c3d4e5f60718"
        try built.sign(elf, uuid: other, into: Self.kitTestUUID)
        #expect(try open() == security, "another UUID in the header")
        // Signed correctly as `other`, but its ta_head names the kit test TA.
        try built.sign(elf, uuid: other, into: other)
        #expect(try open(other) == badFormat, "ta_head names another UUID")
        // An ELF for another machine (e_machine 183, AArch64), validly signed.
        var arm = try Data(contentsOf: URL(fileURLWithPath: elf))
        arm[18] = 183
        arm[19] = 0
        let armPath = directory.appendingPathComponent("arm.elf").path
        try arm.write(to: URL(fileURLWithPath: armPath))
        try built.sign(armPath, uuid: Self.kitTestUUID, into: Self.kitTestUUID)
        #expect(try open() == badFormat, "an AArch64 ELF")
        // A shared object that is not a TA (no .ta_head), validly signed.
        let plain = directory.appendingPathComponent("plain.c")
        try "int not_a_ta(void) { return 1; }\n".write(to: plain, atomically: true, encoding: .utf8)
        let so = directory.appendingPathComponent("plain.so").path
        let cc = try CClientTests.run("cc", ["-shared", "-fPIC", plain.path, "-o", so])
        #expect(cc.status == 0, "\(cc.output)")
        try built.sign(so, uuid: Self.kitTestUUID, into: Self.kitTestUUID)
        #expect(try open() == badFormat, "not a TA")
        // The TA library it needs by UUID missing from the folder: ITEM_NOT_FOUND (OP-TEE's ldelf).
        try replace(good)
        let library = built.taDir.appendingPathComponent("7b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8.ta")
        let libraryBytes = try Data(contentsOf: library)
        try FileManager.default.removeItem(at: library)
        #expect(try open() == "open 0xffff0008 origin 3", "a missing library")
        // The library damaged: SECURITY, as the TA itself would be.
        var damaged = libraryBytes
        damaged[damaged.count - 50] ^= 0x80
        try damaged.write(to: library)
        #expect(try open() == security, "a damaged library")
        try libraryBytes.write(to: library)
        // Behind an identity subkey (OP-TEE's chain, xtest 1039's format): the kit's key signs the
        // subkey, the subkey (Keys/dev-rsa2048) signs the TA, with sign-ta --subkey.
        let devKey = Repository.root.appendingPathComponent("Keys/dev-rsa2048.pem").path
        guard case .rsa(let subkeyPublic) = try PrivateKey(pemOrDER: Array(try Data(contentsOf: URL(fileURLWithPath: devKey)))).publicKey else {
            Issue.record("dev-rsa2048 is not RSA")
            return
        }
        let kitKey = try PrivateKey(pemOrDER: Array(try Data(contentsOf: URL(fileURLWithPath: built.developmentKey))))
        let chain = try SignedTAChain.signSubkey(uuid: TEEUUID(Self.kitTestUUID)!.octets, key: subkeyPublic, nameSize: 0, version: 1, maxDepth: 0,
                                                 signer: kitKey)
        let chainFile = directory.appendingPathComponent("identity.bin")
        try Data(chain).write(to: chainFile)
        let r = try CClientTests.run(built.tool, ["sign-ta", "--key", devKey, "--subkey", chainFile.path, "--uuid", Self.kitTestUUID, "--in", elf,
                                                  "--out", taFile.path, "--force"])
        #expect(r.status == 0, "sign-ta --subkey: \(r.output)")
        #expect(try open() == "open 0x0 origin 4", "a TA behind a subkey the daemon's key signed")
        // The same chain, the TA signed by another key than the subkey's.
        let wrong = try CClientTests.run(built.tool, ["sign-ta", "--key", built.developmentKey, "--subkey", chainFile.path,
                                                      "--uuid", Self.kitTestUUID, "--in", elf, "--out", taFile.path, "--force"])
        #expect(wrong.status == 0, "\(wrong.output)")
        #expect(try open() == security, "a TA not signed by its subkey")
        // No file at all.
        try FileManager.default.removeItem(at: taFile)
        #expect(try open() == "open 0xffff0008 origin 3", "no file")
        // The good file again: served (the daemon and its cache are unharmed).
        try replace(good)
        #expect(try open() == "open 0x0 origin 4")
        let log = try String(contentsOf: d.logFile, encoding: .utf8)
        #expect(log.contains("refused (") && log.contains("no TA-signing key") && log.contains("x86-64"), "\(log)")
    } }
}

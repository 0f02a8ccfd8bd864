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

        func sign(_ elf: String, uuid: String, key: String? = nil, version: UInt32 = 0, into name: String, extra: [String] = []) throws {
            let r = try CClientTests.run(tool, ["sign-ta", "--key", key ?? developmentKey, "--uuid", uuid, "--in", elf, "--ta-version", String(version),
                                                "--out", taDir.appendingPathComponent(name + ".ta").path, "--force"] + extra)
            #expect(r.status == 0, "sign-ta: \(r.output)")
        }
    }

    static func build(in directory: URL, cflags: String? = nil, make extra: [String] = []) throws -> Built {
        let prefix = directory.appendingPathComponent("prefix")
        try CClientTests.install(prefix)
        let kit = prefix.appendingPathComponent("export-ta_x86_64")
        let taDir = directory.appendingPathComponent("tas")
        try FileManager.default.createDirectory(at: taDir, withIntermediateDirectories: true)
        // The TA library it needs by UUID and the one it dlopens first, into the same folder.
        for folder in ["kit_test_lib", "kit_test_dl", "kit_test/ta"] {
            let make = try CClientTests.run("make", ["-C", Repository.root.appendingPathComponent("Tests/CTAs/\(folder)").path,
                                                     "TA_DEV_KIT_DIR=\(kit.path)", "CROSS_COMPILE=", "O=\(taDir.path)"] + (cflags.map { ["CFLAGS=\($0)"] } ?? []) + extra)
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
        let checks = ["values", "memrefs", "sha256", "hmac-sha256", "aes-ecb", "aes-gcm", "rsa-pss", "ecdsa-ecdh", "crypto-families", "storage",
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

    /// A TA built with the C compiler's AddressSanitizer and UndefinedBehaviorSanitizer (CFLAGS
    /// on make's command line; their runtimes preloaded into every TA host with --ta-preload,
    /// ASan's first): the whole kit test passes instrumented; the kit's ASan self-tests (OP-TEE's
    /// asan_test.h, which xtest 1042 runs) each see their report; a heap overflow and undefined
    /// behaviour are each reported in the secure log with the TA's file and line (ASan's frames
    /// given their lines by the daemon from the `.elf` beside the `.ta`), and the TA dies
    /// (TARGET_DEAD).
    @Test func sanitizerReportsReachTheLogWithTheTAsLines() throws {
        // Under make test-tsan/test-asan the TA hosts carry clang's sanitizer runtime, which
        // gcc's must not join.
        guard ProcessInfo.processInfo.environment["RPROC_TEE_SANITIZER"] == nil else { return }
        var runtimes: [String] = []
        for name in ["libasan.so", "libubsan.so"] {
            let runtime = try CClientTests.run("gcc", ["-print-file-name=\(name)"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            guard runtime.hasPrefix("/"), FileManager.default.fileExists(atPath: runtime) else {
                Issue.record("gcc's \(name) is not installed (\(runtime))")
                return
            }
            runtimes += ["--ta-preload", runtime]
        }
        let directory = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let built = try Self.build(in: directory, cflags: "-fsanitize=address,undefined -fno-sanitize-recover=all")
        // halt_on_error=0: what is built recoverable (the kit's ASan self-tests, xtest 1042's)
        // goes on after its report; the rest of the TA is not, and dies on its first.
        let d = try DaemonProcess(extra: built.daemonOptions + runtimes, directory: directory,
                                  environment: ["ASAN_OPTIONS": "halt_on_error=0:suppress_equal_pcs=0"])
        defer { d.cleanUp(sanitizedTAs: true) }
        let env = ["RPROC_TEE_SOCKET": d.socket]
        let all = try CClientTests.run(built.client, [], environment: env)
        #expect(all.status == 0 && all.output.contains("ok cancellation"), "\(all.output)")
        for mode in ["asan-self-tests", "overflow", "undefined"] {
            let r = try CClientTests.run(built.client, [mode], environment: env)
            #expect(r.status == 0 && r.output.contains("ok \(mode)"), "\(mode): \(r.output)")
        }
        let log = try String(contentsOf: d.logFile, encoding: .utf8)
        #expect(log.contains("runtime error: signed integer overflow") && log.contains("kit_test_more.c:"), "\(log)")
        let lines = log.split(separator: "\n")
        #expect(lines.contains { $0.contains("ERROR: AddressSanitizer: heap-buffer-overflow") }, "\(log)")
        // Frame #0: the TA's own module and offset, and the daemon's `in <function> <file>:<line>`.
        let top = lines.first { $0.contains("#0 ") && $0.contains("(/rproc-tee-ta/\(Self.kitTestUUID)+0x") && $0.contains("kit_test_more") }
        #expect(top?.contains(" in kit_test_more ") == true && top?.contains("/kit_test_more.c:") == true, "\(top ?? "no frame #0 in the TA")")
        #expect(log.contains("TA died: native TA \(Self.kitTestUUID)"), "\(log)")
        // The self-tests' reports were given lines too (the kit's own source, built into the TA).
        #expect(lines.contains { $0.contains("SUMMARY: AddressSanitizer: stack-buffer-overflow") && $0.contains(" in asan_test_stack ") && $0.contains("/src/asan_test.c:") }, "\(log)")
    }

    /// A TA built with `--coverage` under `--ta-coverage DIR`: gcov's runtime in the sandboxed
    /// host writes each object's counters when the instance ends (a panic included) to
    /// DIR/<the object's path>, through the coverage helper, and gcov reads them; the TA's escapes
    /// (the kit test's no-escape: a `.gcda` named through "..", a relative one) still fail.
    @Test func aCoverageBuildWritesItsCountersUnderTheFolder() throws {
        guard ProcessInfo.processInfo.environment["RPROC_TEE_SANITIZER"] == nil else { return }
        let directory = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let built = try Self.build(in: directory, cflags: "--coverage")
        let coverage = directory.appendingPathComponent("coverage")
        try FileManager.default.createDirectory(at: coverage, withIntermediateDirectories: true)
        // Hosts of a root daemon run as nobody, who must be able to write there.
        if geteuid() == 0 { _ = chown(coverage.path, 65534, 65534) }
        let d = try DaemonProcess(extra: built.daemonOptions + ["--ta-coverage", coverage.path], directory: directory)
        defer { d.cleanUp() }
        let env = ["RPROC_TEE_SOCKET": d.socket]
        let all = try CClientTests.run(built.client, [], environment: env)
        #expect(all.status == 0 && all.output.contains("ok no-escape") && all.output.contains("ok cancellation"), "\(all.output)")
        let panic = try CClientTests.run(built.client, ["panic"], environment: env)
        #expect(panic.status == 0 && panic.output.contains("ok panic"), "\(panic.output)")
        // The objects were built into the TA folder (O=): their counters are under DIR + that path.
        let counters = URL(fileURLWithPath: coverage.path + built.taDir.standardizedFileURL.path)
        var found: [String] = []
        for _ in 0..<40 {
            found = ((try? FileManager.default.contentsOfDirectory(atPath: counters.path)) ?? []).filter { $0.hasSuffix(".gcda") }.sorted()
            if found.contains("kit_test_more.gcda") && found.contains("kit_test_lib.gcda") { break }
            usleep(50_000)
        }
        #expect(found.contains("kit_test_ta.gcda") && found.contains("kit_test_more.gcda") && found.contains("kit_test_lib.gcda"), "\(found) in \(counters.path)")
        #expect(!FileManager.default.fileExists(atPath: "/etc/kit-test-escape.gcda") && !FileManager.default.fileExists(atPath: "/kit-test-escape.gcda"))
        // gcov (beside gcc) reads them with the notes the build left: the TA's lines ran.
        for note in ((try? FileManager.default.contentsOfDirectory(atPath: built.taDir.path)) ?? []) where note.hasSuffix(".gcno") {
            try? FileManager.default.copyItem(at: built.taDir.appendingPathComponent(note), to: counters.appendingPathComponent(note))
        }
        let gcov = try CClientTests.run("gcov", ["-n", "-o", counters.path, counters.appendingPathComponent("kit_test_ta.gcda").path])
        let executed = gcov.output.split(separator: "\n").first { $0.hasPrefix("Lines executed:") }
        let percent = executed.flatMap { Double($0.dropFirst("Lines executed:".count).prefix { $0 != "%" }) } ?? 0
        #expect(gcov.status == 0 && percent > 50, "\(gcov.output)")
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

    /// OP-TEE's version databases: a TA (or TA library) signed with a lower version than one the
    /// daemon has loaded is refused with ACCESS_CONFLICT, a subkey of a lower version with
    /// SECURITY; the same or a higher version loads; the versions survive a restart (they are in
    /// the state folder's sealed core records).
    @Test func anOlderVersionThanOneLoadedIsRefused() throws {
        let directory = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let built = try Self.build(in: directory)
        let elf = built.taDir.appendingPathComponent("\(Self.kitTestUUID).stripped.elf").path
        let accessConflict = "open 0xffff0003 origin 3", security = "open 0xffff000f origin 3", ok = "open 0x0 origin 4"
        var d = try DaemonProcess(extra: built.daemonOptions, directory: directory)
        func open() throws -> String {
            try CClientTests.run(built.client, ["open", Self.kitTestUUID], environment: ["RPROC_TEE_SOCKET": d.socket])
                .output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try open() == ok, "the kit's build (version 0)")
        try built.sign(elf, uuid: Self.kitTestUUID, version: 5, into: Self.kitTestUUID)
        #expect(try open() == ok, "version 5")
        try built.sign(elf, uuid: Self.kitTestUUID, version: 4, into: Self.kitTestUUID)
        #expect(try open() == accessConflict, "version 4 after 5")
        try built.sign(elf, uuid: Self.kitTestUUID, version: 5, into: Self.kitTestUUID)
        #expect(try open() == ok, "version 5 again")
        // A restart keeps what was seen.
        _ = d.stop()
        d = try DaemonProcess(extra: built.daemonOptions, directory: directory)
        defer { d.cleanUp() }
        try built.sign(elf, uuid: Self.kitTestUUID, version: 3, into: Self.kitTestUUID)
        #expect(try open() == accessConflict, "version 3 after a restart")
        // Subkeys: an identity subkey (the kit's key signs it, Keys/dev-rsa2048 is it) of version 2,
        // then of version 1.
        let devKey = Repository.root.appendingPathComponent("Keys/dev-rsa2048.pem").path
        guard case .rsa(let subkeyPublic) = try PrivateKey(pemOrDER: Array(try Data(contentsOf: URL(fileURLWithPath: devKey)))).publicKey else {
            Issue.record("dev-rsa2048 is not RSA")
            return
        }
        let kitKey = try PrivateKey(pemOrDER: Array(try Data(contentsOf: URL(fileURLWithPath: built.developmentKey))))
        for (subkeyVersion, expected) in [(UInt32(2), ok), (1, security), (2, ok)] {
            let chain = try SignedTAChain.signSubkey(uuid: TEEUUID(Self.kitTestUUID)!.octets, key: subkeyPublic, nameSize: 0, version: subkeyVersion,
                                                     maxDepth: 0, signer: kitKey)
            let chainFile = directory.appendingPathComponent("identity-\(subkeyVersion).bin")
            try Data(chain).write(to: chainFile)
            try built.sign(elf, uuid: Self.kitTestUUID, key: devKey, version: 6, into: Self.kitTestUUID, extra: ["--subkey", chainFile.path])
            #expect(try open() == expected, "subkey version \(subkeyVersion)")
        }
        let log = d.log
        #expect(log.contains("TA \(Self.kitTestUUID) version 3 (5 has been loaded)") && log.contains("subkey \(Self.kitTestUUID) version 1 (2 has been loaded)"), "\(log)")
    }

    /// OP-TEE's encrypted TAs (CFG_ENCRYPT_TA=y): the kit's make encrypts the TA and its
    /// libraries with the kit's development key; a daemon given that key (--ta-enc-key) decrypts
    /// them into private memory and runs the whole kit test; one without it, or with another
    /// key, refuses them: SECURITY.
    @Test func anEncryptedTARunsWithItsKeyOnly() throws {
        let directory = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let built = try Self.build(in: directory, make: ["CFG_ENCRYPT_TA=y"])
        let ta = try Data(contentsOf: built.taDir.appendingPathComponent("\(Self.kitTestUUID).ta"))
        #expect(ta.count > 8 && ta[4] == 2, "img_type 2: encrypted")
        // The ELF's bytes are not in the file.
        let elf = try Data(contentsOf: built.taDir.appendingPathComponent("\(Self.kitTestUUID).stripped.elf"))
        #expect(ta.range(of: elf.subdata(in: 0x1000..<0x1040)) == nil)
        let key = built.kit.appendingPathComponent("keys/default_ta_enc.key").path
        let d = try DaemonProcess(extra: built.daemonOptions + ["--ta-enc-key", key], directory: directory)
        let all = try CClientTests.run(built.client, [], environment: ["RPROC_TEE_SOCKET": d.socket])
        #expect(all.status == 0 && all.output.contains("ok libraries") && all.output.contains("ok cancellation"), "\(all.output)")
        _ = d.stop()
        let wrongKey = directory.appendingPathComponent("other.key")
        try String(repeating: "5a", count: 32).write(to: wrongKey, atomically: true, encoding: .utf8)
        for options in [[], ["--ta-enc-key", wrongKey.path]] {
            let other = try DaemonProcess(extra: built.daemonOptions + options, directory: directory)
            let r = try CClientTests.run(built.client, ["open", Self.kitTestUUID], environment: ["RPROC_TEE_SOCKET": other.socket])
            #expect(r.output.contains("open 0xffff000f origin 3"), "\(options): \(r.output)")
            #expect(other.log.contains("encrypted TA"), "\(other.log)")
            _ = other.stop()
        }
        // An all-zero key is refused at start.
        let zero = directory.appendingPathComponent("zero.key")
        try String(repeating: "00", count: 32).write(to: zero, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try DaemonProcess(extra: built.daemonOptions + ["--ta-enc-key", zero.path], directory: directory) }
    }

    /// The kit's host_include serves a normal-world program as OP-TEE's export does for xtest:
    /// conf.h forced in, the TA API's defines, the pseudo-TA interfaces, the signed header and
    /// the Sockets API's constants, with their values and layouts (Tests/CClients/host_include.c).
    @Test func aNormalWorldProgramBuildsAgainstTheKitsHostInclude() throws {
        let prefix = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: prefix) }
        try CClientTests.install(prefix)
        let hostInclude = prefix.appendingPathComponent("export-ta_x86_64/host_include")
        let binary = prefix.appendingPathComponent("host_include").path
        let cc = try CClientTests.compile([Repository.root.appendingPathComponent("Tests/CClients/host_include.c").path,
                                           "-I", prefix.appendingPathComponent("include").path, "-I", hostInclude.path,
                                           "-include", "conf.h", "-o", binary])
        #expect(cc.status == 0, "\(cc.output)")
        let r = try CClientTests.run(binary, [])
        #expect(r.status == 0 && r.output.contains("ok host_include"), "\(r.output)")
    }
}

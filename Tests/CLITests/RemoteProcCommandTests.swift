import Foundation
import Testing
import TestSupport

/// `rproc-tee demo` and `rproc-tee run` through the binary, on example firmware built by clang.
@Suite struct RemoteProcCommandTests {
    let keys = Repository.root.appendingPathComponent("Keys").path

    func firmwareDirectory() throws -> String {
        try ExampleFirmware.path("stm32mp15-m4.elf").deletingLastPathComponent().path
    }

    @Test(arguments: ["mp15", "mp25"])
    func demoTellsTheWholeStory(board: String) throws {
        let result = try CLI.run(["demo", "--board", board, "--firmware-dir", try firmwareDirectory(), "--keys-dir", keys])
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout
        for step in ["1. Sign", "3. Boot", "4. Isolation", "5. The coprocessor runs its firmware", "6. The firmware crashes on purpose", "7. Shutdown", "8. An attacker", "9. A rollback"] {
            #expect(out.contains(step), "step \(step) missing")
        }
        #expect(out.contains("signature verified"))
        #expect(out.contains(": denied"), "the firmware memory was not shown closed to the normal world")
        // The firmware's own text, its real crash, the dump's registers, the recovery.
        #expect(out.contains(board == "mp15" ? "trace: cm4: firmware up" : "trace: zephyr: booting on cortex-m33 (non-secure)"), "\(out)")
        #expect(out.contains(board == "mp15" ? "the coprocessor crashed: bus fault: write at 0x2ffc0000" : "the coprocessor crashed: bus fault: read at 0xe080000"))
        #expect(out.contains("core dump (GET_COREDUMP"))
        #expect(out.contains("registers at the crash (signal 11):"))
        // Some register holds the faulting address (which one is the compiler's choice).
        let registerLines = out.split(separator: "\n").drop { !$0.contains("registers at the crash") }.dropFirst().prefix(5)
        #expect(registerLines.contains { $0.contains(board == "mp15" ? " 0x2ffc0000" : " 0x0e080000") }, "the faulting address register: \(registerLines)")
        #expect(out.contains(board == "mp15" ? "after recovery, trace: cm4: firmware up" : "after recovery, trace: zephyr: booting"))
        #expect(out.contains("every byte of the coprocessor's memory is zero: yes"))
        #expect(out.contains("refused: 0xFFFF000F (SECURITY), origin TRUSTED_APP"))
        #expect(out.contains("memory wiped again: yes"))
        #expect(out.contains("Lines marked \"linux|\" are the normal-world driver"), "the reader is told who speaks")
        #expect(out.contains("refused: 0xFFFF000F (SECURITY), origin TRUSTED_APP — counter 2 was stored"), "rollback refused")
        if board == "mp25" {
            #expect(out.contains("non-secure VTOR 0x80000000"), "the manifest's vector tables were used")
        }
    }

    @Test func demoWithoutFirmwareSaysHowToBuildIt() throws {
        let empty = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        let result = try CLI.run(["demo", "--firmware-dir", empty.path, "--keys-dir", keys])
        #expect(result.status != 0)
        #expect(result.stderr.contains("stm32mp15-m4-crash.elf: missing"), "\(result.stderr)")
        #expect(result.stderr.contains("make demo"))
    }

    @Test func runBootsASignedImageAndRefusesAnUntrustedOne() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("m4.sig").path
        let sign = try CLI.run(["sign", "--in", try ExampleFirmware.path("stm32mp15-m4.elf").path, "--out", image,
                                "--key", "\(keys)/dev-ecdsa-p256.pem", "--key_type", "ECC"])
        #expect(sign.status == 0, "\(sign.stderr)")

        let ok = try CLI.run(["run", image, "--board", "mp15", "--trusted-key", "\(keys)/dev-ecdsa-p256.pub.pem", "--ticks", "2"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("booting on stm32mp15 coprocessor 0 (cortex-m4)"))
        #expect(ok.stdout.contains("emulated by Unicorn 2.0.1 as a Cortex-M33"), "the output says what the core really is")
        #expect(ok.stdout.contains("trace:\n    cm4: firmware up\n    cm4: tick 1\n"), "\(ok.stdout)")
        // Two slices are 2 M instructions (about three of the firmware's ticks), and the core
        // runs at most one more slice before STOP: tick 10 is out of reach.
        #expect(!ok.stdout.contains("cm4: tick 10"), "--ticks bounds the run")
        #expect(ok.stdout.contains("memory wiped: yes"))

        let untrusted = try CLI.run(["run", image, "--board", "mp15", "--trusted-key", "\(keys)/dev-rsa2048.pub.pem"])
        #expect(untrusted.status == 1)
        #expect(untrusted.stderr.contains("m4.sig: refused"), "\(untrusted.stderr)")
        // An ECDSA image with only an RSA key trusted: no key can verify it.
        #expect(untrusted.stderr.contains("0xFFFF3072 (SIGNATURE_INVALID)"), "\(untrusted.stderr)")

        let noKey = try CLI.run(["run", image, "--board", "mp15"])
        #expect(noKey.status == 64)
        #expect(noKey.stderr.contains("--trusted-key"))
    }

    /// A firmware that crashes: `run` reports the crash and writes the core dump; `coredump`
    /// shows the crash, the registers and the segments; a file that is not a dump is refused.
    @Test func runWritesTheCoreDumpOfACrashAndCoredumpShowsIt() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("crash.sig").path
        let sign = try CLI.run(["sign", "--in", try ExampleFirmware.path("stm32mp15-m4-crash.elf").path, "--out", image, "--key", "\(keys)/dev-rsa2048.pem"])
        #expect(sign.status == 0, "\(sign.stderr)")
        let core = dir.appendingPathComponent("m4.core").path
        let run = try CLI.run(["run", image, "--board", "mp15", "--trusted-key", "\(keys)/dev-rsa2048.pub.pem", "--ticks", "20", "--core-dump", core])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("the coprocessor crashed: bus fault: write at 0x2ffc0000"), "\(run.stdout)")
        #expect(run.stdout.contains("crash detected (bus fault: write at 0x2ffc0000"))
        #expect(run.stdout.contains("cm4: writing to SYSRAM"))
        var st = stat()
        #expect(stat(core, &st) == 0 && st.st_mode & 0o777 == 0o600, "the dump holds firmware memory: private")

        let show = try CLI.run(["coredump", core])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("core dump of coprocessor m4 (cortex-m4), state crashed, entry 0x19"), "\(show.stdout)")
        #expect(show.stdout.contains("crash: bus fault: write at 0x2ffc0000"))
        #expect(show.stdout.contains("(signal 11)"))
        #expect(show.stdout.split(separator: "\n").contains { $0.hasPrefix("    r") && $0.contains(" 0x2ffc0000") }, "a register holds the faulting address: \(show.stdout)")
        #expect(show.stdout.contains("DA 0x00000000 ← PA 0x38000000, 65536 bytes"))
        let asJSON = try CLI.run(["coredump", core, "--json"])
        let root = try JSONSerialization.jsonObject(with: Data(asJSON.stdout.utf8)) as? [String: Any]
        #expect((root?["registers"] as? [Int])?.prefix(13).contains(0x2FFC_0000) == true)
        #expect(root?["signal"] as? Int == 11)

        let notADump = try CLI.run(["coredump", image])
        #expect(notADump.status == 1)
        #expect(notADump.stderr.contains("not a coprocessor core dump"), "\(notADump.stderr)")
        #expect(try CLI.run(["coredump", dir.appendingPathComponent("missing").path]).status == 66)
        // An existing file is never overwritten.
        let again = try CLI.run(["run", image, "--board", "mp15", "--trusted-key", "\(keys)/dev-rsa2048.pub.pem", "--ticks", "20", "--core-dump", core])
        #expect(again.status == 73, "\(again.stderr)")
    }

    @Test func runRefusesABrokenPlatformFileWithItsPath() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let board = dir.appendingPathComponent("board.json")
        let shown = try CLI.run(["board", "stm32mp15"])
        #expect(shown.status == 0)
        var text = shown.stdout
        text = text.replacingOccurrences(of: "\"loadable\": false", with: "\"loadable\": false, \"cacheable\": true")
        try text.write(to: board, atomically: true, encoding: .utf8)
        let image = Repository.root.appendingPathComponent("Tests/Fixtures/optee-sign/fw.rsa2048.sig").path
        let key = Repository.root.appendingPathComponent("Tests/Fixtures/optee-sign/vector-rsa2048.pub.pem").path
        let result = try CLI.run(["run", image, "--board", board.path, "--trusted-key", key])
        #expect(result.status == 65, "a broken board file: \(result.stderr)")
        #expect(result.stderr.contains("cacheable"), "\(result.stderr)")
        #expect(result.stderr.contains("coprocessors[0].regions[2]"), "\(result.stderr)")
    }
}

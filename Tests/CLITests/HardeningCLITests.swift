import Foundation
import Testing
import TestSupport

/// The hostile-user review's CLI items (issue 9, B and C), each through the real binary.
@Suite struct HardeningCLITests {
    let keys = Repository.root.appendingPathComponent("Keys").path
    let vector = Repository.root.appendingPathComponent("Tests/Fixtures/optee-sign").path

    func json(_ text: String) -> [String: Any]? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] }

    /// B7: --ticks is validated (it used to trap at -1 and never end at 2^63).
    @Test func runTicksAreBounded() throws {
        for ticks in ["-1", "9223372036854775807", "1001"] {
            let r = try CLI.run(["run", "\(vector)/fw.rsa2048.sig", "--trusted-key", "\(vector)/vector-rsa2048.pub.pem", "--ticks", ticks])
            #expect(r.status == 64, "--ticks \(ticks): \(r.stderr)")
            #expect(r.stderr.contains("--ticks"), "\(r.stderr)")
        }
    }

    /// B8: a copied binary needs nothing beside it (the boards are compiled in).
    @Test func aCopiedBinaryHasItsBoards() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("rproc-tee")
        try copyExecutable(CLI.binary, to: copy)
        let (status, text) = try runMerged(copy, ["run", "\(vector)/fw.rsa2048.sig", "--trusted-key", "\(vector)/vector-rsa2048.pub.pem", "--ticks", "1"],
                                           directory: dir)
        #expect(status == 0, "\(text)")
        #expect(text.contains("booting on stm32mp15"))
    }

    /// B9: the header is read first; a huge sparse file whose header announces 100 bytes is
    /// refused at once, without reading it. Key files are capped.
    @Test func inputsAreBoundedBeforeTheyAreRead() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sparse = dir.appendingPathComponent("sparse.sig")
        var header = Array(try Repository.bytes("Tests/Fixtures/optee-sign/fw.rsa2048.sig").prefix(20))
        header += [UInt8](repeating: 0, count: 0)
        _ = FileManager.default.createFile(atPath: sparse.path, contents: Data(header))
        let h = try FileHandle(forWritingTo: sparse)
        try h.truncate(atOffset: 4 << 30)
        try h.close()
        let r = try CLI.run(["inspect", sparse.path, "--json"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("the file has 4294967296"), "\(r.stdout)")
        let bigKey = dir.appendingPathComponent("big.pem")
        _ = FileManager.default.createFile(atPath: bigKey.path, contents: nil)
        let k = try FileHandle(forWritingTo: bigKey)
        try k.truncate(atOffset: 200 << 20)
        try k.close()
        let v = try CLI.run(["verify", "\(vector)/fw.rsa2048.sig", "--pubkey", bigKey.path])
        #expect(v.status == 66, "\(v.stderr)")
        #expect(v.stderr.contains("too large for a key file"), "\(v.stderr)")
    }

    /// B11: board files as strict as the README says, each error with path, line and column.
    @Test(arguments: [
        ("\"id\": 0,", "\"id\": true,", "wrongType", "coprocessors[0].id", ":6:13:"),
        ("\"loadable\": false,", "\"loadable\": 1,", "wrongType", "coprocessors[0].regions[2].loadable", ":"),
        ("\"id\": 0,", "\"id\": 65536.0,", "wrongType", "coprocessors[0].id", ":6:13:"),
        ("\"name\": \"m4\",", "\"name\": \"m4\", \"name\": \"m5\",", "duplicateKey", "coprocessors[0].name", ":7:21:"),
    ])
    func boardFilesAreStrict(find: String, replace: String, code: String, path: String, position: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var text = try CLI.run(["board", "stm32mp15"]).stdout
        let range = try #require(text.range(of: find, options: find.contains("loadable") ? .backwards : []))
        text.replaceSubrange(range, with: replace)
        let board = dir.appendingPathComponent("board.json")
        try text.write(to: board, atomically: true, encoding: .utf8)
        let r = try CLI.run(["verify", "\(vector)/fw.rsa2048.sig", "--pubkey", "\(vector)/vector-rsa2048.pub.pem", "--board", board.path])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains(code) && r.stderr.contains(path) && r.stderr.contains(position), "\(r.stderr)")
    }

    /// C12: a signed TLV string with a newline and ESC cannot forge a report line or drive the
    /// terminal; JSON keeps the text, escaped.
    @Test func untrustedStringsAreEscaped() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("evil.sig").path
        let forged = "x\n  signature  RSA — VALID\u{1B}[2J"
        let sign = try CLI.run(["sign", "--in", "\(vector)/fw.elf", "--key", "\(vector)/vector-rsa2048.pem", "--plat-tlv", "0x10002", forged, "--out", out])
        #expect(sign.status == 0, "\(sign.stderr)")
        let text = try CLI.run(["inspect", out])
        #expect(!text.stdout.contains("\u{1B}"))
        #expect(!text.stdout.contains("\n  signature  RSA — VALID"), "a TLV forged a report line")
        #expect(text.stdout.contains("\\u{a}  signature  RSA — VALID\\u{1b}[2J"), "\(text.stdout)")
        let j = try CLI.run(["inspect", out, "--json"])
        #expect(!j.stdout.contains("\u{1B}"))
        let tlvs = try #require(json(j.stdout)?["tlvs"] as? [[String: Any]])
        #expect(tlvs.contains { ($0["value"] as? [String: Any])?["string"] as? String == forged }, "JSON keeps the text")
    }

    /// C13: the default state folder is fresh (mkdtemp): a pre-planted symlink or folder named
    /// like the old predictable path is untouched; --state "" is refused.
    @Test func stateFolders() throws {
        let victim = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: victim) }
        try Data("keep".utf8).write(to: victim.appendingPathComponent("file"))
        let r = try CLI.run(["run", "\(vector)/fw.rsa2048.sig", "--trusted-key", "\(vector)/vector-rsa2048.pub.pem", "--ticks", "0", "--state", ""])
        #expect(r.status == 64, "\(r.stderr)")
        let link = victim.deletingLastPathComponent().appendingPathComponent("rproc-tee-link-\(UUID().uuidString)")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: victim)
        defer { try? FileManager.default.removeItem(at: link) }
        let viaLink = try CLI.run(["run", "\(vector)/fw.rsa2048.sig", "--trusted-key", "\(vector)/vector-rsa2048.pub.pem", "--ticks", "0", "--state", link.path])
        #expect(viaLink.status == 73, "a symlinked --state is refused: \(viaLink.stderr)")
        let ok = try CLI.run(["run", "\(vector)/fw.rsa2048.sig", "--trusted-key", "\(vector)/vector-rsa2048.pub.pem", "--ticks", "0"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try String(contentsOf: victim.appendingPathComponent("file"), encoding: .utf8) == "keep")
        #expect(!FileManager.default.fileExists(atPath: victim.appendingPathComponent("device-secret").path))
    }

    /// C14: keygen never writes through a symlink, refuses a .pub.pem private key name, and
    /// --force replaces only regular files.
    @Test func keygenFiles() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target")
        let link = dir.appendingPathComponent("link.pem")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        let r = try CLI.run(["keygen", "--type", "ecdsa-p256", "--out", link.path])
        #expect(r.status == 73, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target.path), "written through a dangling symlink")
        let forced = try CLI.run(["keygen", "--type", "ecdsa-p256", "--out", link.path, "--force"])
        #expect(forced.status == 73 && !FileManager.default.fileExists(atPath: target.path), "\(forced.stderr)")
        let pub = try CLI.run(["keygen", "--type", "ecdsa-p256", "--out", dir.appendingPathComponent("x.pub.pem").path])
        #expect(pub.status == 64 && pub.stderr.contains(".pub.pem"), "\(pub.stderr)")
        let good = try CLI.run(["keygen", "--type", "ecdsa-p256", "--out", dir.appendingPathComponent("k.pem").path, "--json"])
        #expect(good.status == 0)
        #expect(json(good.stdout)?["public_key"] as? String == dir.appendingPathComponent("k.pub.pem").path)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("k.pem").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    /// C15: distinct exit codes and JSON on every failure.
    @Test func exitCodesAndJSON() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("missing.sig").path
        let cases: [([String], Int32, String)] = [
            (["verify", missing, "--pubkey", "\(vector)/vector-rsa2048.pub.pem", "--json"], 66, "cannot-read"),
            (["verify", "\(vector)/fw.rsa2048.sig", "--pubkey", "\(keys)/dev-rsa2048.pub.pem", "--json"], 1, "refused"),
            (["verify", "\(vector)/fw.rsa2048.sig", "--pubkey", "\(vector)/vector-rsa2048.pub.pem", "--revoke", "xyz", "--json"], 64, "usage"),
            (["verify", "\(vector)/fw.rsa2048.sig", "--pubkey", "\(vector)/fw.elf", "--json"], 65, "bad-input"),
            (["inspect", dir.path, "--json"], 66, "cannot-read"),
            (["run", missing, "--trusted-key", "\(vector)/vector-rsa2048.pub.pem", "--json"], 66, "cannot-read"),
            (["sign", "--in", "\(vector)/fw.elf", "--key", "\(vector)/vector-rsa2048.pub.pem", "--out", dir.appendingPathComponent("o").path, "--json"], 65, "bad-input"),
            (["keygen", "--type", "rsa2048", "--out", "\(dir.path)/nofolder/k.pem", "--json"], 73, "cannot-write"),
        ]
        for (args, status, kind) in cases {
            let r = try CLI.run(args)
            #expect(r.status == status, "\(args): \(r.stdout)\(r.stderr)")
            let root = json(r.stdout)
            #expect(root?["ok"] as? Bool == false, "\(args): not JSON: \(r.stdout)")
            if status != 1 { #expect((root?["error"] as? [String: Any])?["kind"] as? String == kind, "\(args): \(r.stdout)") }
        }
        for limit in ["0", "4097", "-1"] {
            let r = try CLI.run(["secure-world", "--socket", dir.appendingPathComponent("s").path, "--shm-limit", limit])
            #expect(r.status == 64 && r.stderr.contains("--shm-limit"), "\(limit): \(r.stderr)")
        }
        // inspect exits 1 when the image would be refused (here: a failed signature).
        let bad = try CLI.run(["inspect", "\(vector)/fw.rsa2048.sig", "--pubkey", "\(keys)/dev-rsa2048.pub.pem"])
        #expect(bad.status == 1)
        let ok = try CLI.run(["inspect", "\(vector)/fw.rsa2048.sig", "--pubkey", "\(vector)/vector-rsa2048.pub.pem", "--json"])
        #expect(ok.status == 0)
        let signature = try #require(json(ok.stdout)?["signature"] as? [String: Any])
        #expect(signature["valid"] as? Bool == true && signature["checked"] as? Bool == true)
        let noCheck = try #require(json(try CLI.run(["inspect", "\(vector)/fw.rsa2048.sig", "--json"]).stdout)?["signature"] as? [String: Any])
        #expect(noCheck["checked"] as? Bool == false, "signature is an object even when not checked")
    }

    /// C16: messages in words.
    @Test func messages() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r1 = try CLI.run(["inspect", dir.appendingPathComponent("nope.sig").path])
        #expect(r1.stderr.contains("cannot read") && r1.stderr.contains("no such file"), "\(r1.stderr)")
        let r2 = try CLI.run(["inspect", dir.path])
        #expect(r2.stderr.contains("is a directory"), "\(r2.stderr)")
        let r3 = try CLI.run(["verify", "\(vector)/fw.rsa2048.sig", "--pubkey", "\(vector)/vector-rsa2048.pem"])
        #expect(r3.status == 65 && r3.stderr.contains("this is a private key"), "\(r3.stderr)")
        let r4 = try CLI.run(["sign", "--in", "\(vector)/fw.elf", "--key", "\(vector)/vector-rsa2048.pub.pem", "--out", dir.appendingPathComponent("o").path])
        #expect(r4.stderr.contains("this is a public key"), "\(r4.stderr)")
        // sign infers the key type; the manifest option no longer shadows --version.
        let out = dir.appendingPathComponent("ec.sig").path
        let r5 = try CLI.run(["sign", "--in", "\(vector)/fw.elf", "--key", "\(keys)/dev-ecdsa-p256.pem", "--image-version", "1.2.3", "--out", out])
        #expect(r5.status == 0, "\(r5.stderr)")
        #expect(r5.stderr.contains("warning: manifest TLVs"), "\(r5.stderr)")
        #expect(try CLI.run(["--version"]).stdout.contains("0.1.0"))
        // A refusal says the TA's reason without --verbose.
        let r6 = try CLI.run(["run", out, "--trusted-key", "\(keys)/dev-ecdsa-p256.pub.pem", "--board", "mp25"])
        #expect(r6.status == 1)
        #expect(r6.stderr.contains("secure world:"), "\(r6.stderr)")
        // Non-UTF-8 arguments are refused, not repaired.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "exec \"$0\" inspect \"$(printf 'a\\377.sig')\"", CLI.binary.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 64 && text.contains("not valid UTF-8"), "\(text)")
    }

    /// The red team's newcomer frictions and L5: a misplaced --version is a usage error (it
    /// used to print the version and exit 0 without writing the image); a FIFO as input is
    /// refused at once instead of blocking; a file name's control characters are shown escaped;
    /// an error quoting a huge value is cut; a world-writable --state is refused (M3); the demo
    /// runs from any folder out of an installed prefix.
    @Test func newcomerFrictions() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("m.sig")
        let misplaced = try CLI.run(["sign", "--in", "\(vector)/fw.elf", "--key", "\(keys)/dev-ecdsa-p256.pem", "--version", "2.1.0", "--out", out.path])
        #expect(misplaced.status == 64 && misplaced.stderr.contains("--image-version"), "\(misplaced.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let started = Date()
        let r1 = try CLI.run(["inspect", fifo])
        #expect(r1.status == 66 && r1.stderr.contains("not a regular file") && Date().timeIntervalSince(started) < 5, "\(r1.stderr)")
        let r2 = try CLI.run(["sign", "--in", "\(vector)/fw.elf", "--key", fifo, "--out", out.path])
        #expect(r2.status != 0 && r2.stderr.contains("not a regular file"), "\(r2.stderr)")
        let r3 = try CLI.run(["inspect", dir.appendingPathComponent("evil\u{1b}]0;pwned\u{07}.sig").path])
        #expect(!r3.stderr.contains("\u{1b}") && r3.stderr.contains("evil\\u{1b}]0;pwned\\u{7}.sig"), "\(r3.stderr)")
        let huge = dir.appendingPathComponent("huge.json")
        try Data("{\"name\": \"x\", \"coprocessors\": [{\"id\": \(String(repeating: "9", count: 900_000))}]}".utf8).write(to: huge)
        let r4 = try CLI.run(["run", "\(vector)/fw.rsa2048.sig", "--trusted-key", "\(vector)/vector-rsa2048.pub.pem", "--board", huge.path, "--ticks", "0"])
        #expect(r4.status == 65 && r4.stderr.utf8.count < 4000, "\(r4.stderr.utf8.count) bytes of error")
        let open = dir.appendingPathComponent("open-state")
        try FileManager.default.createDirectory(at: open, withIntermediateDirectories: false)
        chmod(open.path, 0o777)
        let r5 = try CLI.run(["run", "\(vector)/fw.rsa2048.sig", "--trusted-key", "\(vector)/vector-rsa2048.pub.pem", "--ticks", "0", "--state", open.path])
        #expect(r5.status == 73 && r5.stderr.contains("can be written by other users"), "\(r5.stderr)")
        // An installed prefix's demo, from an empty folder.
        let prefix = dir.appendingPathComponent("prefix")
        for sub in ["bin", "share/rproc-tee/firmware", "share/rproc-tee/keys"] {
            try FileManager.default.createDirectory(at: prefix.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try copyExecutable(CLI.binary, to: prefix.appendingPathComponent("bin/rproc-tee"))
        for elf in ["stm32mp15-m4-crash.elf"] {
            try FileManager.default.copyItem(at: try ExampleFirmware.path(elf), to: prefix.appendingPathComponent("share/rproc-tee/firmware/\(elf)"))
        }
        try FileManager.default.copyItem(atPath: "\(keys)/dev-rsa2048.pem", toPath: prefix.appendingPathComponent("share/rproc-tee/keys/dev-rsa2048.pem").path)
        let empty = dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        let demo = try runMerged(prefix.appendingPathComponent("bin/rproc-tee"), ["demo"], directory: empty)
        #expect(demo.status == 0 && demo.output.contains("after recovery"), "\(demo.output.suffix(500))")
    }

    /// A4 and A6: verify --board makes the TA's checks; sign refuses what verify refuses.
    @Test func verifyOnABoardAndSignWhatYouWouldLoad() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let m4 = dir.appendingPathComponent("m4.sig").path
        #expect(try CLI.run(["sign", "--in", try ExampleFirmware.path("stm32mp15-m4.elf").path, "--key", "\(keys)/dev-rsa2048.pem", "--out", m4]).status == 0)
        let onMP15 = try CLI.run(["verify", m4, "--pubkey", "\(keys)/dev-rsa2048.pub.pem", "--board", "mp15"])
        #expect(onMP15.status == 0, "\(onMP15.stderr)")
        let onMP25 = try CLI.run(["verify", m4, "--pubkey", "\(keys)/dev-rsa2048.pub.pem", "--board", "mp25", "--json"])
        #expect(onMP25.status == 1, "the mp25 board has no memory at the M4's addresses: \(onMP25.stdout)")
        #expect((json(onMP25.stdout)?["board"] as? [String: Any])?["refusal"] as? String != nil)
        // --out equal to --in, boot addresses outside every segment, an RSA-1024 key.
        let elfCopy = dir.appendingPathComponent("fw.elf").path
        try FileManager.default.copyItem(atPath: "\(vector)/fw.elf", toPath: elfCopy)
        let same = try CLI.run(["sign", "--in", elfCopy, "--key", "\(keys)/dev-rsa2048.pem", "--out", elfCopy])
        let after = try Data(contentsOf: URL(fileURLWithPath: elfCopy)), original = try Data(contentsOf: URL(fileURLWithPath: "\(vector)/fw.elf"))
        #expect(same.status == 64, "\(same.stderr)")
        #expect(after == original, "the input was overwritten")
        let boot = try CLI.run(["sign", "--in", elfCopy, "--key", "\(keys)/dev-rsa2048.pem", "--boot-address", "0x70000000:none", "--out", dir.appendingPathComponent("b.sig").path])
        #expect(boot.status == 1 && boot.stderr.contains("verify would refuse"), "\(boot.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("b.sig").path))
        let weak = dir.appendingPathComponent("rsa1024.pem")
        let gen = Process()
        gen.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        gen.arguments = ["genrsa", "-out", weak.path, "1024"]
        gen.standardError = Pipe()
        try gen.run()
        gen.waitUntilExit()
        let r = try CLI.run(["sign", "--in", elfCopy, "--key", weak.path, "--out", dir.appendingPathComponent("w.sig").path])
        #expect(r.status == 1 && r.stderr.contains("sign_len"), "\(r.stderr)")
        // PSS: written, with the warning that OP-TEE cannot load it.
        let pss = try CLI.run(["sign", "--in", elfCopy, "--key", "\(keys)/dev-rsa2048.pem", "--signature", "rsa-pss", "--out", dir.appendingPathComponent("p.sig").path])
        #expect(pss.status == 0 && pss.stderr.contains("OP-TEE's remoteproc TA cannot load"), "\(pss.stderr)")
    }

    /// C16/C17: stdout and stderr stay in order on one pipe; run --help says what the
    /// emulation does and does not model.
    @Test func outputOrderAndHelp() throws {
        let text = try runMerged(CLI.binary, ["run", "\(vector)/fw.rsa2048.sig", "--trusted-key", "\(keys)/dev-rsa2048.pub.pem"]).output
        let booting = try #require(text.range(of: "booting on"), "\(text)")
        let refused = try #require(text.range(of: "refused"), "\(text)")
        #expect(booting.lowerBound < refused.lowerBound, "stderr overtook stdout: \(text)")
        let help = try CLI.run(["run", "--help"])
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("an emulated Cortex-M core"), "\(help.stdout)")
        #expect(words.contains("peripherals are not emulated"), "\(help.stdout)")
        #expect(words.contains("Unicorn 2.0.1 runs a Cortex-M4 as a Cortex-M33"), "\(help.stdout)")
    }
}

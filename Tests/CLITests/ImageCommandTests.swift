import Foundation
import Testing
import TestSupport

@Suite struct ImageCommandTests {
    let keys = Repository.root.appendingPathComponent("Keys").path
    let vector = Repository.root.appendingPathComponent("Tests/Fixtures/optee-sign").path

    @Test func signWithOPTEEOptionsMatchesTheScript() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("fw.sig").path
        let result = try CLI.run(["sign", "--in", "\(vector)/fw.elf", "--out", out, "--key", "\(vector)/vector-rsa2048.pem", "--key_type", "RSA"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == (try Data(contentsOf: URL(fileURLWithPath: "\(vector)/fw.rsa2048.sig"))))
    }

    /// `sign-ta` with sign_encrypt.py's options writes what OP-TEE's script writes (PKCS#1 v1.5);
    /// without --out it names the file <uuid>.ta; a bad UUID or algorithm is a usage error.
    @Test func signTAMatchesOPTEEsScript() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ta = Repository.root.appendingPathComponent("Tests/Fixtures/optee-ta").path
        let uuid = "8aaaf200-2450-11e4-abe2-0002a5d5c51b"
        let result = try CLI.run(["sign-ta", "--uuid", uuid, "--ta-version", "3", "--in", "\(ta)/ta.elf", "--key", "\(vector)/vector-rsa2048.pem",
                                  "--algo", "TEE_ALG_RSASSA_PKCS1_V1_5_SHA256"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Data(contentsOf: dir.appendingPathComponent("\(uuid).ta")) == (try Data(contentsOf: URL(fileURLWithPath: "\(ta)/ta.pkcs1.ta"))))
        let pss = try CLI.run(["sign-ta", "--uuid", uuid, "--in", "\(ta)/ta.elf", "--key", "\(vector)/vector-rsa2048.pem", "--out", dir.appendingPathComponent("pss.ta").path])
        #expect(pss.status == 0 && pss.stdout.contains("TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256"), "the script's default algorithm: \(pss.stdout)")
        #expect(try CLI.run(["sign-ta", "--uuid", "not-a-uuid", "--in", "\(ta)/ta.elf", "--key", "\(vector)/vector-rsa2048.pem"], in: dir).status == 64)
        #expect(try CLI.run(["sign-ta", "--uuid", uuid, "--algo", "SHA1", "--in", "\(ta)/ta.elf", "--key", "\(vector)/vector-rsa2048.pem"], in: dir).status == 64)
        let ecdsa = try CLI.run(["sign-ta", "--uuid", uuid, "--in", "\(ta)/ta.elf", "--key", "\(keys)/dev-ecdsa-p256.pem", "--out", dir.appendingPathComponent("e.ta").path])
        #expect(ecdsa.status == 1 && ecdsa.stderr.contains("RSA"), "\(ecdsa.stderr)")
    }

    @Test func verifyExitsZeroOnlyForValidImages() throws {
        let ok = try CLI.run(["verify", "\(vector)/fw.rsa2048.sig", "--pubkey", "\(vector)/vector-rsa2048.pub.pem"])
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("valid"))
        let wrongKey = try CLI.run(["verify", "\(vector)/fw.rsa2048.sig", "--pubkey", "\(keys)/dev-rsa2048.pub.pem"])
        #expect(wrongKey.status == 1)
        #expect(wrongKey.stderr.contains("signatureInvalid"))
        #expect(wrongKey.stderr.contains("fw.rsa2048.sig: offset 0x"))
        let noKey = try CLI.run(["verify", "\(vector)/fw.rsa2048.sig"])
        #expect(noKey.status == 64, "ArgumentParser's usage-error status")
        #expect(noKey.stderr.contains("--pubkey"))
    }

    @Test func verifyListsEveryProblem() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = try Repository.bytes("Tests/Fixtures/optee-sign/fw.rsa2048.sig")
        // Flip a byte of the hash table (signature and one segment hash both fail).
        bytes[20 + 6 * 8 + 0x80] ^= 1
        bytes[bytes.count - 40] ^= 1
        let file = dir.appendingPathComponent("bad.sig")
        try Data(bytes).write(to: file)
        let result = try CLI.run(["verify", file.path, "--pubkey", "\(vector)/vector-rsa2048.pub.pem", "--json"])
        #expect(result.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["valid"] as? Bool == false)
        let codes = (json?["failures"] as? [[String: Any]])?.compactMap { $0["code"] as? String } ?? []
        #expect(codes.first == "signatureInvalid")
        #expect(codes.count >= 2, "\(codes)")
    }

    @Test func truncatedFileNamesFileAndOffset() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("short.sig")
        try Data(try Repository.bytes("Tests/Fixtures/optee-sign/fw.rsa2048.sig").dropLast(3)).write(to: file)
        let result = try CLI.run(["inspect", file.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("short.sig: offset 0x8: truncated"), "\(result.stderr)")
    }

    @Test func signInspectVerifyTheM33Bundle() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("m33.sig").path
        let sign = try CLI.run([
            "sign", "--in", try ExampleFirmware.path("stm32mp25-tfm-secure.elf").path,
            "--in", try ExampleFirmware.path("stm32mp25-zephyr-ns.elf").path,
            "--key", "\(keys)/dev-ecdsa-p384.pem", "--key_type", "ECC", "--name", "tfm", "--name", "zephyr",
            "--image-version", "2.1.0", "--image-version", "3.7.0", "--depends", "zephyr:tfm:2.0.0", "--security-counter", "3",
            "--boot-address", "0x0E080000:none", "--boot-address", "none:0x80000000",
            "--plat-tlv", "0x10001", "0x80000000", "--plat-tlv", "0x10002", "ns", "--out", out,
        ])
        #expect(sign.status == 0, "\(sign.stderr)")
        let inspect = try CLI.run(["inspect", out, "--pubkey", "\(keys)/dev-ecdsa-p384.pub.pem"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        for expected in ["ECDSA P-384 SHA-384 — VALID", "image 1 \"zephyr\" v3.7.0", "TRACE    \"zephyr_log\"",
                         "zephyr needs tfm ≥ 2.0.0", "security counter  3", "BOOTADDR (ST)", "result: VALID"] {
            #expect(inspect.stdout.contains(expected), "missing: \(expected)\n\(inspect.stdout)")
        }
        let json = try CLI.run(["inspect", out, "--json"])
        let root = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((root?["images"] as? [[String: Any]])?.count == 2)
        #expect((root?["manifest"] as? [String: Any])?["names"] as? [String] == ["tfm", "zephyr"])
        #expect(try CLI.run(["verify", out, "--pubkey", "\(keys)/dev-ecdsa-p384.pub.pem"]).status == 0)
    }

    @Test func signRefusesMismatchedKeyType() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("never.sig").path
        let result = try CLI.run(["sign", "--in", "\(vector)/fw.elf", "--out", out, "--key", "\(keys)/dev-rsa2048.pem", "--key_type", "ECC"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("not --key_type ECC"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

import Foundation
import Testing
import TEECrypto

@Suite struct KeygenCommandTests {
    @Test(arguments: ["rsa2048", "ecdsa-p256", "ecdsa-p384"])
    func writesAUsableKeyPair(type: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["keygen", "--type", type, "--out", "signing.pem"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let privatePEM = try Data(contentsOf: dir.appendingPathComponent("signing.pem"))
        let publicPEM = try Data(contentsOf: dir.appendingPathComponent("signing.pub.pem"))
        let key = try PrivateKey(pemOrDER: Array(privatePEM))
        let publicKey = try PublicKey(pemOrDER: Array(publicPEM))
        #expect(key.publicKey.derRepresentation == publicKey.derRepresentation)
        // The printed fingerprint is the SHA-256 of the public key's DER.
        #expect(result.stdout.contains(hexString(publicKey.fingerprint.bytes)))
        // The private key file is readable by its owner only.
        let mode = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("signing.pem").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // A signature made with the written private key verifies with the written public key.
        let digest = Digest.hash(.sha256, [1, 2, 3])
        switch (key, publicKey) {
        case (.rsa(let k), .rsa(let p)): try p.verify(signature: try k.signature(for: digest, padding: .pkcs1v15), for: digest, padding: .pkcs1v15)
        case (.ec(let k), .ec(let p)): try p.verify(signature: try k.signature(for: digest), for: digest)
        default: Issue.record("key kinds differ")
        }
    }

    @Test func refusesToOverwriteWithoutForce() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(["keygen", "--type", "ecdsa-p256", "--out", "k.pem"], in: dir).status == 0)
        let before = try Data(contentsOf: dir.appendingPathComponent("k.pem"))
        let again = try CLI.run(["keygen", "--type", "ecdsa-p256", "--out", "k.pem"], in: dir)
        #expect(again.status != 0)
        #expect(again.stderr.contains("k.pem: exists"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("k.pem")) == before)
        #expect(try CLI.run(["keygen", "--type", "ecdsa-p256", "--out", "k.pem", "--force"], in: dir).status == 0)
        #expect(try Data(contentsOf: dir.appendingPathComponent("k.pem")) != before)
    }

    @Test func rejectsUnknownTypes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("never.pem").path
        let result = try CLI.run(["keygen", "--type", "rsa1024", "--out", out])
        #expect(result.status == 64)
        #expect(result.stderr.contains("rsa1024"))
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("never.pub.pem").path))
    }
}

import FirmwareImage
import Foundation
import TEECrypto
import Testing
import TestSupport

/// OP-TEE's subkey chains (xtest 1039's format), built here with our own keys: a root key
/// (the vector key of Tests/Fixtures/optee-sign) signs a subkey (Keys/dev-rsa2048), which signs
/// the TA; the TA's UUID is the subkey's UUIDv5 (SHA-512) of its name. Each damage is refused.
@Suite struct SignedTAChainTests {
    static let root = try! PrivateKey(pemOrDER: try! Repository.bytes("Tests/Fixtures/optee-sign/vector-rsa2048.pem"))
    static let subkey = try! PrivateKey(pemOrDER: try! Repository.bytes("Keys/dev-rsa2048.pem"))
    static let elf = try! Repository.bytes("Tests/Fixtures/optee-ta/ta.elf")
    static let namespace: [UInt8] = [0x1b, 0x5e, 0x2c, 0x4d, 0x8f, 0x3a, 0x4c, 0x6b, 0x9d, 0x0e, 0x1f, 0x2a, 0x3b, 0x4c, 0x5d, 0x6e]

    static var subkeyPublic: RSAPublicKey {
        guard case .rsa(let k) = subkey.publicKey else { fatalError("the subkey is RSA") }
        return k
    }

    /// chain ‖ name (padded to `nameSize`) ‖ the TA signed by `taKey`.
    static func file(name: String, nameSize: UInt32 = 64, maxDepth: UInt32 = 0, taUUID: [UInt8]? = nil, taKey: PrivateKey = subkey) throws -> ([UInt8], [UInt8]) {
        let chain = try SignedTAChain.signSubkey(uuid: namespace, key: subkeyPublic, nameSize: nameSize, version: 1, maxDepth: maxDepth,
                                                 signer: root, algorithm: .rsaPKCS1v15SHA256)
        let bytes = Array(name.utf8)
        let uuid = taUUID ?? (nameSize == 0 ? namespace : SignedTAChain.uuidV5SHA512(namespace: namespace, name: bytes))
        let ta = try SignedTA.sign(elf: elf, uuid: uuid, version: 1, key: taKey, algorithm: .rsaPSSSHA256)
        return (chain + bytes + [UInt8](repeating: 0, count: Int(nameSize) - bytes.count) + ta, uuid)
    }

    @Test func aChainVerifiesAgainstItsRoot() throws {
        let (bytes, uuid) = try Self.file(name: "subkey1_ta")
        let chain = try SignedTAChain.verify(bytes, uuid: uuid, keys: [Self.root.publicKey])
        #expect(chain.subkeys.count == 1 && chain.subkeys[0].uuid == Self.namespace && chain.subkeys[0].name == Array("subkey1_ta".utf8))
        #expect(chain.ta.elf == Self.elf)
        // UUIDv5: the version and variant bits.
        #expect(uuid[6] >> 4 == 5 && uuid[8] >> 6 == 2)
        // An identity subkey: the TA has the subkey's own UUID.
        let (identity, same) = try Self.file(name: "", nameSize: 0)
        #expect(same == Self.namespace)
        _ = try SignedTAChain.verify(identity, uuid: same, keys: [Self.root.publicKey])
        // A plain TA is a chain of none.
        let plain = try SignedTA.sign(elf: Self.elf, uuid: uuid, version: 1, key: Self.root)
        #expect(try SignedTAChain.verify(plain, uuid: uuid, keys: [Self.root.publicKey]).subkeys.isEmpty)
        // What the signer reads back of a chain file (sign-subkey's output ends before the name).
        let chainFile = try SignedTAChain.signSubkey(uuid: Self.namespace, key: Self.subkeyPublic, nameSize: 64, version: 1, maxDepth: 0, signer: Self.root)
        let walked = try SignedTAChain.walk(chainFile)
        #expect(walked.subkeys.count == 1 && walked.subkeys[0].nameSize == 64 && walked.end == chainFile.count)
    }

    @Test func damagedChainsAreRefused() throws {
        let (bytes, uuid) = try Self.file(name: "subkey1_ta")
        func refused(_ b: [UInt8], uuid u: [UInt8] = uuid, keys: [PublicKey] = [SignedTAChainTests.root.publicKey], _ code: ImageError.Code, _ what: String) {
            #expect(throws: ImageError(code, ""), "\(what)") { try SignedTAChain.verify(b, uuid: u, keys: keys) }
        }
        // The root does not trust the chain's signer.
        refused(bytes, keys: [Self.subkey.publicKey], .signatureInvalid, "a chain signed by another root")
        // A byte of the subkey (its public key) changed after signing.
        var changed = bytes
        changed[20 + 32 + 256 + 70] ^= 1
        refused(changed, .hashMismatch, "a changed subkey")
        // The TA signed by the root instead of the subkey.
        let (byRoot, _) = try Self.file(name: "subkey1_ta", taKey: Self.root)
        refused(byRoot, .signatureInvalid, "a TA not signed by its subkey")
        // A TA whose UUID is outside the subkey's namespace (signed under another UUID).
        let other: [UInt8] = Array(repeating: 0x42, count: 16)
        let (outside, _) = try Self.file(name: "subkey1_ta", taUUID: other)
        refused(outside, uuid: other, .badManifest, "a UUID outside the namespace")
        // A subkey whose depth is the largest there is (OP-TEE refuses 2^32 - 1 at the top).
        let (deep, _) = try Self.file(name: "subkey1_ta", maxDepth: UInt32.max)
        refused(deep, .badManifest, "an unbounded depth")
        // Cut inside the name.
        refused(Array(bytes.prefix(20 + 32 + 256 + 60 + 256 + 3 + 10)), .truncated, "a truncated name")
        // Every prefix: an error, never a trap.
        for n in stride(from: 0, to: bytes.count, by: 53) {
            _ = try? SignedTAChain.verify(Array(bytes.prefix(n)), uuid: uuid, keys: [Self.root.publicKey])
        }
    }
}

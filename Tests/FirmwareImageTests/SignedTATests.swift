import Foundation
import Testing
import TestSupport
@testable import FirmwareImage
import TEECrypto

/// OP-TEE's signed TA format (`<uuid>.ta`): byte-identical to OP-TEE's own signer, its PSS
/// output accepted, and every damaged file refused with its own error.
@Suite struct SignedTATests {
    static let uuid: [UInt8] = [0x8a, 0xaa, 0xf2, 0x00, 0x24, 0x50, 0x11, 0xe4, 0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b]
    static let elf = try! Repository.bytes("Tests/Fixtures/optee-ta/ta.elf")
    static let key = try! PrivateKey(pemOrDER: try! Repository.bytes("Tests/Fixtures/optee-sign/vector-rsa2048.pem"))
    static let pkcs1 = try! Repository.bytes("Tests/Fixtures/optee-ta/ta.pkcs1.ta")
    static let pss = try! Repository.bytes("Tests/Fixtures/optee-ta/ta.pss.ta")

    @Test func byteIdenticalToOPTEEsSignerAndItsPSSAccepted() throws {
        #expect(try SignedTA.sign(elf: Self.elf, uuid: Self.uuid, version: 3, key: Self.key, algorithm: .rsaPKCS1v15SHA256) == Self.pkcs1)
        for (bytes, algorithm) in [(Self.pkcs1, SignedTA.Algorithm.rsaPKCS1v15SHA256), (Self.pss, .rsaPSSSHA256),
                                   (try SignedTA.sign(elf: Self.elf, uuid: Self.uuid, version: 3, key: Self.key, algorithm: .rsaPSSSHA256), .rsaPSSSHA256)] {
            let ta = try SignedTA(bytes: bytes)
            #expect(ta.imageType == .bootstrap && ta.algorithm == algorithm && ta.uuid == Self.uuid && ta.version == 3 && ta.elf == Self.elf)
            _ = try ta.verify(uuid: Self.uuid, keys: [Self.key.publicKey])
        }
    }

    /// Each manipulation of a good file, and the error it must give.
    static let manipulations: [(String, @Sendable ([UInt8]) -> [UInt8], ImageError.Code)] = [
        ("magic", { var b = $0; b[0] ^= 1; return b }, .badMagic),
        ("an encrypted TA", { var b = $0; b[4] = 2; return b }, .unsupportedImageType),
        ("a subkey", { var b = $0; b[4] = 3; return b }, .unsupportedImageType),
        ("an unknown image type", { var b = $0; b[4] = 7; return b }, .unsupportedImageType),
        ("an unknown algorithm", { var b = $0; b[12] ^= 1; return b }, .unknownSignatureType),
        ("a 20-byte hash", { var b = $0; b[16] = 20; return b }, .unsupportedHashType),
        ("a zero-byte signature", { var b = $0; b[18] = 0; b[19] = 0; return b }, .badLength),
        ("a signature past RSA-8192", { var b = $0; b[18] = 0x01; b[19] = 0x08; return b }, .badLength),
        ("an ELF size one short", { var b = $0; b[8] &-= 1; return b }, .badImageSize),
        ("an ELF size far beyond the file", { var b = $0; b[11] = 0xFF; return b }, .badImageSize),
        ("a byte more at the end", { $0 + [0] }, .badImageSize),
        ("truncated in the header", { Array($0.prefix(17)) }, .truncated),
        ("truncated in the signature", { Array($0.prefix(100)) }, .truncated),
        ("a byte of the ELF", { var b = $0; b[b.count - 100] ^= 1; return b }, .hashMismatch),
        ("the version", { var b = $0; b[20 + 32 + 256 + 16] ^= 1; return b }, .hashMismatch),
        ("the claimed hash", { var b = $0; b[25] ^= 1; return b }, .hashMismatch),
        ("the signature", { var b = $0; b[100] ^= 1; return b }, .signatureInvalid),
        ("the UUID", { var b = $0; b[20 + 32 + 256] ^= 1; return b }, .badManifest),
    ]

    @Test func damagedFilesAreRefused() throws {
        for (name, damage, code) in Self.manipulations {
            let bytes = damage(Self.pkcs1)
            let refusal: ImageError?
            do {
                _ = try SignedTA(bytes: bytes).verify(uuid: Self.uuid, keys: [Self.key.publicKey])
                refusal = nil
            } catch {
                refusal = error
            }
            #expect(refusal?.code == code, "\(name): \(String(describing: refusal))")
        }
    }

    static let encryptionKey = SecureBytes((0..<32).map { UInt8($0 &* 7 &+ 1) })
    static let nonce: [UInt8] = Array(0x10..<0x1C)

    /// OP-TEE's encrypted TA (CFG_ENCRYPT_TA, sign_encrypt.py --enc-key): the layout re-derived
    /// here independently — header, UUID and version, encryption header, AES-256-GCM of the ELF
    /// without AAD, the hash over the plaintext — then read, decrypted and verified.
    @Test func anEncryptedTARoundTrips() throws {
        for type in SignedTA.Encryption.KeyType.allCases {
            let bytes = try SignedTA.sign(elf: Self.elf, uuid: Self.uuid, version: 7, key: Self.key, algorithm: .rsaPKCS1v15SHA256,
                                          encryption: (Self.encryptionKey, type, Self.nonce))
            let (ciphertext, tag) = try AESGCM.seal(Self.elf, key: Self.encryptionKey, iv: Self.nonce)
            let ehdr = SignedTA.le32(0x4000_0810) + SignedTA.le32(type.rawValue) + [12, 0, 16, 0] + Self.nonce + tag
            let header = SignedTA.le32(SignedTA.magic) + SignedTA.le32(2) + SignedTA.le32(UInt32(Self.elf.count)) + SignedTA.le32(0x7000_4830) + [32, 0, 0, 1]
            var hasher = DigestHasher(.sha256)
            hasher.update(header + Self.uuid + SignedTA.le32(7) + ehdr + Self.elf)
            let digest = hasher.finalize()
            #expect(Array(bytes.prefix(20)) == header && Array(bytes[20..<52]) == digest.bytes)
            #expect(Array(bytes[(52 + 256)...]) == Self.uuid + SignedTA.le32(7) + ehdr + ciphertext)
            let ta = try SignedTA(bytes: bytes)
            #expect(ta.imageType == .encrypted && ta.encryption?.keyType == type && !ta.isPlaintext && ta.elf == ciphertext)
            // Not verifiable before it is decrypted; then it is the plaintext ELF.
            #expect(throws: ImageError.self) { try ta.verify(uuid: Self.uuid, keys: [Self.key.publicKey]) }
            let clear = try ta.decrypted(with: Self.encryptionKey)
            #expect(clear.elf == Self.elf && clear.isPlaintext)
            _ = try clear.verify(uuid: Self.uuid, keys: [Self.key.publicKey])
            let chain = try SignedTAChain.verify(bytes, uuid: Self.uuid, keys: [Self.key.publicKey], decryptionKey: Self.encryptionKey)
            #expect(chain.ta.elf == Self.elf && chain.ta.version == 7)
        }
        // A fresh nonce each time by default.
        let a = try SignedTA.sign(elf: Self.elf, uuid: Self.uuid, version: 0, key: Self.key, encryption: (Self.encryptionKey, .classWide, nil))
        let b = try SignedTA.sign(elf: Self.elf, uuid: Self.uuid, version: 0, key: Self.key, encryption: (Self.encryptionKey, .classWide, nil))
        #expect(a[(52 + 256 + 20 + 12)..<(52 + 256 + 20 + 24)] != b[(52 + 256 + 20 + 12)..<(52 + 256 + 20 + 24)])
        // An all-zero key is no key.
        #expect(throws: ImageError.self) {
            try SignedTA.sign(elf: Self.elf, uuid: Self.uuid, version: 0, key: Self.key, encryption: (SecureBytes(count: 32), .classWide, nil))
        }
    }

    @Test func damagedEncryptedTAsAreRefused() throws {
        let good = try SignedTA.sign(elf: Self.elf, uuid: Self.uuid, version: 7, key: Self.key, algorithm: .rsaPKCS1v15SHA256,
                                     encryption: (Self.encryptionKey, .deviceSpecific, Self.nonce))
        let ehdr = 52 + 256 + 20
        let cases: [(String, [UInt8], SecureBytes?, ImageError.Code)] = [
            ("no key", good, nil, .untrustedKey),
            ("another key", good, SecureBytes([UInt8](repeating: 9, count: 32)), .hashMismatch),
            ("a byte of the ciphertext", { var b = good; b[b.count - 10] ^= 1; return b }(), Self.encryptionKey, .hashMismatch),
            ("a byte of the tag", { var b = good; b[ehdr + 12 + 12] ^= 1; return b }(), Self.encryptionKey, .hashMismatch),
            ("a byte of the nonce", { var b = good; b[ehdr + 12] ^= 1; return b }(), Self.encryptionKey, .hashMismatch),
            ("another algorithm", { var b = good; b[ehdr + 3] = 0x10; return b }(), Self.encryptionKey, .unsupportedImageType),
            ("a flag beyond the key type", { var b = good; b[ehdr + 4] = 2; return b }(), Self.encryptionKey, .badManifest),
            ("the key type changed", { var b = good; b[ehdr + 4] = 1; return b }(), Self.encryptionKey, .hashMismatch),
            ("a 16-byte IV", { var b = good; b[ehdr + 8] = 16; return b }(), Self.encryptionKey, .badLength),
            ("an 8-byte tag", { var b = good; b[ehdr + 10] = 8; return b }(), Self.encryptionKey, .badLength),
            ("truncated in the encryption header", Array(good.prefix(ehdr + 20)), Self.encryptionKey, .truncated),
        ]
        for (name, bytes, key, code) in cases {
            var refusal: ImageError?
            do { _ = try SignedTAChain.verify(bytes, uuid: Self.uuid, keys: [Self.key.publicKey], decryptionKey: key) } catch { refusal = error }
            #expect(refusal?.code == code, "\(name): \(String(describing: refusal))")
        }
    }

    @Test func keysThatDoNotSignIt() throws {
        let ta = try SignedTA(bytes: Self.pkcs1)
        let other = try PrivateKey(pemOrDER: try Repository.bytes("Keys/dev-rsa2048.pem")).publicKey
        #expect(throws: ImageError(.signatureInvalid, "")) { try ta.verify(uuid: Self.uuid, keys: [other]) }
        let ecdsa = try PublicKey(pemOrDER: try Repository.bytes("Keys/dev-ecdsa-p256.pub.pem"))
        let rsa4096 = try PrivateKey(pemOrDER: try Repository.bytes("Keys/dev-rsa4096.pem")).publicKey
        #expect(throws: ImageError(.untrustedKey, "")) { try ta.verify(uuid: Self.uuid, keys: [ecdsa, rsa4096]) }
        let signer = try ta.verify(uuid: Self.uuid, keys: [ecdsa, other, Self.key.publicKey])
        #expect(signer.fingerprint == Self.key.publicKey.fingerprint, "the key that signed it, among others")
    }

    /// The fuzzer's seeds and crashers, through the harness's calls.
    @Test func fuzzCasesReplay() throws {
        let cases = try FuzzRegressionTests.inputs("signed-ta")
        #expect(cases.count >= 2)
        for (_, bytes) in cases {
            if let ta = try? SignedTA(bytes: bytes) {
                _ = try? ta.verify(uuid: ta.uuid ?? [UInt8](repeating: 0, count: 16), keys: [Self.key.publicKey])
                _ = try? NativeTAELF(bytes: ta.elf, requireHead: true)
                _ = try? NativeTAELF(bytes: ta.elf, requireHead: false)
            }
        }
    }
}

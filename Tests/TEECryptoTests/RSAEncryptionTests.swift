import Testing
import TEECrypto

@Suite struct RSAEncryptionTests {
    static func key(_ v: PKCS1EncryptionVector) throws -> RSAPrivateKey {
        try RSAPrivateKey(modulus: v.modulus, publicExponent: v.publicExponent, privateExponent: SecureBytes(v.privateExponent),
                          prime1: SecureBytes(v.prime1), prime2: SecureBytes(v.prime2))
    }

    /// Every published ciphertext decrypts to its message; the same key encrypts the message
    /// again (randomized, so compared by decrypting); one flipped ciphertext bit and the other
    /// padding are both refused.
    @Test(arguments: [("RSA_PKCS1v15_Encryption.txt", RSAEncryptionPadding.pkcs1v15, 300),
                      ("RSA_OAEP_SHA256.txt", .oaep(.sha256), 60),
                      ("RSA_OAEP_SHA384.txt", .oaep(.sha384), 60),
                      ("RSA_OAEP_SHA512.txt", .oaep(.sha512), 60)])
    func knownAnswers(file: String, padding: RSAEncryptionPadding, count: Int) throws {
        let vectors = try CAVP.pkcs1EncryptionVectors(file)
        #expect(vectors.count == count)
        let other: RSAEncryptionPadding = padding == .pkcs1v15 ? .oaep(.sha256) : .pkcs1v15
        for v in vectors {
            let key = try Self.key(v)
            #expect(try key.decrypt(v.ciphertext, padding: padding).unsafeBytes == v.message, "line \(v.line)")
            let again = try key.publicKey.encrypt(v.message, padding: padding)
            #expect(again != v.ciphertext && again.count == v.ciphertext.count, "line \(v.line)")
            #expect(try key.decrypt(again, padding: padding).unsafeBytes == v.message, "line \(v.line)")
            var flipped = v.ciphertext
            flipped[flipped.count / 2] ^= 0x01
            #expect(throws: CryptoError(.decryptionFailed, "")) { try key.decrypt(flipped, padding: padding) }
            #expect(throws: CryptoError(.decryptionFailed, "")) { try key.decrypt(v.ciphertext, padding: other) }
        }
    }

    @Test func lengthsAreChecked() throws {
        let key = try Self.key(try #require(try CAVP.pkcs1EncryptionVectors("RSA_PKCS1v15_Encryption.txt").last))
        #expect(key.publicKey.byteCount == 256)
        // v1.5 carries at most k − 11 bytes; OAEP-SHA-256 at most k − 2·32 − 2.
        _ = try key.publicKey.encrypt([UInt8](repeating: 7, count: 245), padding: .pkcs1v15)
        #expect(throws: CryptoError(.invalidArgument, "")) { try key.publicKey.encrypt([UInt8](repeating: 7, count: 246), padding: .pkcs1v15) }
        _ = try key.publicKey.encrypt([UInt8](repeating: 7, count: 190), padding: .oaep(.sha256))
        #expect(throws: CryptoError(.invalidArgument, "")) { try key.publicKey.encrypt([UInt8](repeating: 7, count: 191), padding: .oaep(.sha256)) }
        // A ciphertext that is not exactly the modulus length is refused before mbedTLS sees it.
        #expect(throws: CryptoError(.invalidLength, "")) { try key.decrypt([UInt8](repeating: 1, count: 255), padding: .pkcs1v15) }
        #expect(throws: CryptoError(.invalidLength, "")) { try key.decrypt([UInt8](repeating: 1, count: 257), padding: .pkcs1v15) }
    }

    /// The sizes a TA may generate (TEE_GenerateKey): any even size from 256 to 4096 bits; the
    /// firmware-key initializer keeps to 2048/3072/4096.
    @Test func anySizeGenerationForTAs() throws {
        for bits in [512, 1024, 1026] {
            let key = try RSAPrivateKey(generatingAnySize: bits)
            #expect(key.publicKey.bitCount == bits && key.publicKey.byteCount == (bits + 7) / 8)
            let c = try key.publicKey.encrypt(Array("hi".utf8), padding: .pkcs1v15)
            #expect(try key.decrypt(c, padding: .pkcs1v15).unsafeBytes == Array("hi".utf8))
        }
        for bits in [255, 1025, 4098] {
            #expect(throws: CryptoError(.unsupportedKey, "")) { try RSAPrivateKey(generatingAnySize: bits) }
        }
        #expect(throws: CryptoError(.unsupportedKey, "")) { try RSAPrivateKey(generatingBits: 1024) }
    }
}

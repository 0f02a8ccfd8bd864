import Testing
import TEECrypto

@Suite struct KeyTests {
    @Test(arguments: ["rsa2048-pkcs1.pem", "rsa2048-pkcs8.pem", "rsa2048-pkcs8.der"])
    func rsaPrivateKeyEncodings(file: String) throws {
        let key = try PrivateKey(pemOrDER: try Fixtures.key(file))
        guard case .rsa(let rsa) = key else { Issue.record("not RSA"); return }
        #expect(rsa.bitCount == 2048)
        // Every encoding of the same key has the same public half.
        let reference = try PublicKey(pemOrDER: try Fixtures.key("rsa2048-spki.pem"))
        #expect(key.publicKey.derRepresentation == reference.derRepresentation)
    }

    @Test(arguments: ["rsa2048-spki.pem", "rsa2048-spki.der", "rsa2048-pkcs1-public.pem"])
    func rsaPublicKeyEncodings(file: String) throws {
        let key = try PublicKey(pemOrDER: try Fixtures.key(file))
        #expect(key.algorithmDescription == "RSA-2048")
        #expect(key.derRepresentation == (try Fixtures.key("rsa2048-spki.der")))
        guard case .rsa(let rsa) = key else { Issue.record("not RSA"); return }
        #expect(rsa.publicExponent == [0x01, 0x00, 0x01])
        #expect(rsa.modulus.count == 256)
        #expect(rsa.byteCount == 256)
    }

    @Test(arguments: ["rsa2048-pkcs8-encrypted.pem", "rsa2048-legacy-encrypted.pem", "p384-pkcs8-encrypted.pem"])
    func encryptedKeys(file: String) throws {
        let data = try Fixtures.key(file)
        #expect(throws: CryptoError(.passwordRequired, "")) { try PrivateKey(pemOrDER: data) }
        #expect(throws: CryptoError(.wrongPassword, "")) { try PrivateKey(pemOrDER: data, password: SecureBytes(Array("wrong".utf8))) }
        let key = try PrivateKey(pemOrDER: data, password: SecureBytes(Array("rproc-tee".utf8)))
        let plainName = file.hasPrefix("p384") ? "p384-pkcs8.pem" : "rsa2048-pkcs8.pem"
        let plain = try PrivateKey(pemOrDER: try Fixtures.key(plainName))
        #expect(key.publicKey.derRepresentation == plain.publicKey.derRepresentation)
    }

    @Test func aesEncryptedPKCS8IsRefusedClearly() throws {
        let data = try Fixtures.key("rsa2048-pkcs8-aes256-encrypted.pem")
        do {
            _ = try PrivateKey(pemOrDER: data, password: SecureBytes(Array("rproc-tee".utf8)))
            Issue.record("mbedTLS 2.28 was not expected to decrypt AES PBES2")
        } catch let error as CryptoError {
            #expect(error.code == .unsupportedKey)
            #expect(error.reason.contains("des3"))
            #expect(error.reason.contains("-traditional"), "OpenSSL 3 writes AES PKCS#8 again without it")
        }
    }

    @Test func ecKeyEncodings() throws {
        let sec1 = try PrivateKey(pemOrDER: try Fixtures.key("p256-sec1.pem"))
        let pkcs8 = try PrivateKey(pemOrDER: try Fixtures.key("p256-pkcs8.pem"))
        let spki = try PublicKey(pemOrDER: try Fixtures.key("p256-spki.pem"))
        #expect(sec1.publicKey.derRepresentation == spki.derRepresentation)
        #expect(pkcs8.publicKey.derRepresentation == spki.derRepresentation)
        #expect(spki.algorithmDescription == "ECDSA P-256")
        guard case .ec(let ec) = try PrivateKey(pemOrDER: try Fixtures.key("p384-pkcs8.pem")) else { Issue.record("not EC"); return }
        #expect(ec.curve == .p384)
        #expect(ec.privateValue.count == 48)
    }

    @Test func unsupportedKeys() throws {
        // secp256k1 parses in mbedTLS but is not a curve we sign or verify with.
        #expect(throws: CryptoError(.unsupportedKey, "")) { try PrivateKey(pemOrDER: try Fixtures.key("secp256k1.pem")) }
        // Ed25519 is unknown to mbedTLS 2.28.
        #expect(throws: CryptoError(.unsupportedKey, "")) { try PrivateKey(pemOrDER: try Fixtures.key("ed25519.pem")) }
        #expect(throws: CryptoError(.unsupportedKey, "")) { try PrivateKey(pemOrDER: try Fixtures.key("rsa768.pem")) }
    }

    @Test func malformedKeys() throws {
        var pem = try Fixtures.key("rsa2048-pkcs1.pem")
        #expect(throws: CryptoError(.malformedKey, "")) { try PrivateKey(pemOrDER: [UInt8]()) }
        #expect(throws: CryptoError(.malformedKey, "")) { try PrivateKey(pemOrDER: Array("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n".utf8)) }
        // A damaged base64 character inside the body.
        pem[100] = UInt8(ascii: "*")
        #expect(throws: CryptoError(.malformedKey, "")) { try PrivateKey(pemOrDER: pem) }
        // DER with a trailing byte.
        let der = try Fixtures.key("rsa2048-spki.der") + [0]
        #expect(throws: CryptoError(.malformedKey, "")) { try PublicKey(pemOrDER: der) }
        // A truncated DER key.
        #expect(throws: CryptoError(.malformedKey, "")) { try PublicKey(pemOrDER: try Fixtures.key("rsa2048-spki.der").dropLast(10)) }
        // A private key where a public key is expected.
        #expect(throws: CryptoError(.malformedKey, "")) { try PublicKey(pemOrDER: try Fixtures.key("rsa2048-pkcs8.der")) }
    }

    @Test func devKeysPairUp() throws {
        for name in ["dev-rsa2048", "dev-rsa4096", "dev-ecdsa-p256", "dev-ecdsa-p384"] {
            let privateKey = try PrivateKey(pemOrDER: try Fixtures.bytes("Keys/\(name).pem"))
            let publicKey = try PublicKey(pemOrDER: try Fixtures.bytes("Keys/\(name).pub.pem"))
            #expect(privateKey.publicKey.derRepresentation == publicKey.derRepresentation, "\(name)")
        }
    }

    @Test(arguments: KeyType.allCases)
    func generateExportReimport(type: KeyType) throws {
        let key = try PrivateKey(generating: type)
        let pem = key.pemRepresentation
        let again = try PrivateKey(pemOrDER: pem.unsafeBytes)
        #expect(again.publicKey.derRepresentation == key.publicKey.derRepresentation)
        #expect(try PrivateKey(pemOrDER: key.derRepresentation.unsafeBytes).publicKey.derRepresentation == key.publicKey.derRepresentation)
        let publicPEM = key.publicKey.pemRepresentation
        #expect(publicPEM.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        #expect(try PublicKey(pem: publicPEM).derRepresentation == key.publicKey.derRepresentation)
        #expect(key.publicKey.fingerprint == Digest.hash(.sha256, key.publicKey.derRepresentation))
        switch (type, key) {
        case (.rsa2048, .rsa(let k)): #expect(k.bitCount == 2048)
        case (.rsa3072, .rsa(let k)): #expect(k.bitCount == 3072)
        case (.rsa4096, .rsa(let k)): #expect(k.bitCount == 4096)
        case (.ecdsaP256, .ec(let k)): #expect(k.curve == .p256)
        case (.ecdsaP384, .ec(let k)): #expect(k.curve == .p384)
        default: Issue.record("generated the wrong kind of key for \(type)")
        }
    }

    @Test func rsaComponentsRoundTrip() throws {
        guard case .rsa(let key) = try PrivateKey(pemOrDER: try Fixtures.key("rsa2048-pkcs1.pem")) else { Issue.record("the fixture is not an RSA key"); return }
        let parts = key.privateComponents
        let rebuilt = try RSAPrivateKey(modulus: key.publicKey.modulus, publicExponent: key.publicKey.publicExponent,
                                        privateExponent: parts.privateExponent, prime1: parts.prime1, prime2: parts.prime2)
        #expect(rebuilt.publicKey.derRepresentation == key.publicKey.derRepresentation)
        // n, e, d alone: mbedTLS recovers the primes.
        let fromD = try RSAPrivateKey(modulus: key.publicKey.modulus, publicExponent: key.publicKey.publicExponent, privateExponent: parts.privateExponent)
        let digest = Digest.hash(.sha256, [1, 2, 3])
        #expect(try fromD.signature(for: digest, padding: .pkcs1v15) == key.signature(for: digest, padding: .pkcs1v15))
        // A private exponent that does not match.
        var wrong = parts.privateExponent.unsafeBytes
        wrong[wrong.count - 1] ^= 0x02
        #expect(throws: CryptoError(.invalidKey, "")) {
            try RSAPrivateKey(modulus: key.publicKey.modulus, publicExponent: key.publicKey.publicExponent, privateExponent: SecureBytes(wrong),
                              prime1: parts.prime1, prime2: parts.prime2)
        }
        #expect(throws: CryptoError(.invalidKey, "")) { try RSAPublicKey(modulus: key.publicKey.modulus, publicExponent: [0x02]) }
    }

    @Test func ecComponentsRoundTrip() throws {
        let key = try ECPrivateKey(generating: .p384)
        let (x, y) = key.publicKey.coordinates
        #expect(x.count == 48 && y.count == 48)
        let rebuilt = try ECPrivateKey(curve: .p384, privateValue: key.privateValue, x: x, y: y)
        #expect(rebuilt.publicKey.derRepresentation == key.publicKey.derRepresentation)
        let publicOnly = try ECPublicKey(curve: .p384, x: x, y: y)
        #expect(publicOnly.derRepresentation == key.publicKey.derRepresentation)
        var badY = y
        badY[47] ^= 1
        #expect(throws: CryptoError(.invalidKey, "")) { try ECPublicKey(curve: .p384, x: x, y: badY) }
        #expect(throws: CryptoError(.invalidKey, "")) { try ECPrivateKey(curve: .p384, privateValue: key.privateValue, x: x, y: badY) }
        #expect(throws: CryptoError(.invalidKey, "")) { try ECPrivateKey(curve: .p256, privateValue: SecureBytes(count: 32)) }
        #expect(throws: CryptoError(.invalidLength, "")) { try ECPublicKey(curve: .p256, x: x, y: y) }
    }
}

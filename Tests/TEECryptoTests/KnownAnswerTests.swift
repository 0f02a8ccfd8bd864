import Testing
import TEECrypto

/// NIST CAVP and RFC vectors (provenance and licence: Tests/Vectors/README.md). Every record is
/// checked; the counts guard against a parser that silently skips records.
@Suite struct KnownAnswerTests {
    @Test(arguments: [
        ("SHA256ShortMsg.rsp", DigestAlgorithm.sha256, 65),
        ("SHA256LongMsg.rsp", .sha256, 64),
        ("SHA384ShortMsg.rsp", .sha384, 129),
        ("SHA512ShortMsg.rsp", .sha512, 129),
        ("SHA224ShortMsg.rsp", .sha224, 65),
        ("SHA1ShortMsg.rsp", .sha1, 65),
        ("MD5_RFC1321.txt", .md5, 7),
        ("SHA3_224ShortMsg.rsp", .sha3_224, 145),
        ("SHA3_256ShortMsg.rsp", .sha3_256, 137),
        ("SHA3_384ShortMsg.rsp", .sha3_384, 105),
        ("SHA3_512ShortMsg.rsp", .sha3_512, 73),
    ])
    func shaMessages(file: String, algorithm: DigestAlgorithm, expectedCount: Int) throws {
        // Every backend that implements the function answers every record.
        for backend in algorithm.backends {
            var checked = 0
            for record in try CAVP.records(file) where record.has("MD") {
                let bits = try record.int("Len")
                let message = Array(try record.hex("Msg").prefix(bits / 8))
                let expected = try record.hex("MD")
                #expect(Digest.hash(algorithm, message, backend: backend).bytes == expected, "\(file) \(backend) line \(record.line)")
                // Streaming in uneven pieces, and a copy taken half-way, give the same digest.
                var hasher = DigestHasher(algorithm, backend: backend)
                var rest = message[...]
                var piece = 1
                var fromCopy: [UInt8]?
                while !rest.isEmpty {
                    hasher.update(rest.prefix(piece))
                    rest = rest.dropFirst(piece)
                    piece = piece * 3 + 1
                    if fromCopy == nil, rest.count <= message.count / 2 {
                        var c = hasher.copy()
                        c.update(rest)
                        fromCopy = c.finalize().bytes
                    }
                }
                #expect(hasher.finalize().bytes == expected, "\(file) \(backend) streaming, line \(record.line)")
                if let fromCopy { #expect(fromCopy == expected, "\(file) \(backend) copy, line \(record.line)") }
                checked += 1
            }
            #expect(checked == expectedCount, "\(file) \(backend)")
        }
    }

    /// SHAKE128/256 (FIPS 202) ShortMsg: 128 and 256 output bits; a longer read starts with the
    /// same bytes, and a copy reads the same output.
    @Test(arguments: [("SHAKE128ShortMsg.rsp", ExtendableOutputAlgorithm.shake128, 337), ("SHAKE256ShortMsg.rsp", .shake256, 273)])
    func shakeMessages(file: String, algorithm: ExtendableOutputAlgorithm, expectedCount: Int) throws {
        var checked = 0
        for record in try CAVP.records(file) where record.has("Output") {
            let bits = try record.int("Len")
            let message = Array(try record.hex("Msg").prefix(bits / 8))
            let expected = try record.hex("Output")
            var hasher = ExtendableOutputHasher(algorithm)
            hasher.update(message.prefix(message.count / 3))
            let copy = hasher.copy()
            hasher.update(message.dropFirst(message.count / 3))
            #expect(hasher.output(count: expected.count) == expected, "\(file) line \(record.line)")
            #expect(Array(hasher.output(count: expected.count + 100).prefix(expected.count)) == expected, "\(file) longer read, line \(record.line)")
            var fromCopy = copy
            fromCopy.update(message.dropFirst(message.count / 3))
            #expect(fromCopy.output(count: expected.count) == expected, "\(file) copy, line \(record.line)")
            checked += 1
        }
        #expect(checked == expectedCount)
    }

    /// SHAVS Monte Carlo: MD_i = SHA(MD_{i-3} ‖ MD_{i-2} ‖ MD_{i-1}), 1000 per checkpoint.
    @Test func sha256MonteCarlo() throws {
        let records = try CAVP.records("SHA256Monte.rsp")
        var seed = try #require(records.first { $0.has("Seed") }).hex("Seed")
        var checked = 0
        for record in records where record.has("MD") {
            var md = [seed, seed, seed]
            for _ in 0..<1000 {
                let next = Digest.hash(.sha256, md[0] + md[1] + md[2]).bytes
                md = [md[1], md[2], next]
            }
            seed = md[2]
            #expect(seed == (try record.hex("MD")), "COUNT \(record["COUNT"] ?? "?")")
            checked += 1
        }
        #expect(checked == 100)
    }

    @Test func ecdsaSigVer() throws {
        var passes = 0, failures = 0
        for record in try CAVP.records("ECDSA_SigVer_186-3.rsp") where record.has("Result") {
            let curve = try #require(ECCurve(rawValue: String(record.section.dropFirst().prefix(5))))
            let digest = Digest.hash(curve.matchingDigest, try record.hex("Msg"))
            let expectPass = record["Result"]!.hasPrefix("P")
            let verified: Bool
            do {
                let key = try ECPublicKey(curve: curve, x: try record.hex("Qx"), y: try record.hex("Qy"))
                let signature = try ECDSASignature(curve: curve, r: try record.hex("R"), s: try record.hex("S"))
                try key.verify(signature: signature, for: digest)
                verified = true
            } catch let error as CryptoError {
                #expect([.signatureMismatch, .invalidKey, .malformedSignature].contains(error.code))
                verified = false
            }
            #expect(verified == expectPass, "\(record.section) line \(record.line): \(record["Result"]!)")
            if expectPass { passes += 1 } else { failures += 1 }
        }
        #expect(passes + failures == 75)
        #expect(passes > 0 && failures > 0)
    }

    @Test(arguments: [("RSA_SigVer15_186-3_SHA256.rsp", false), ("RSA_SigVerPSS_186-3_SHA256.rsp", true)])
    func rsaSigVer(file: String, pss: Bool) throws {
        var modulus: [UInt8] = []
        var passes = 0, failures = 0
        for record in try CAVP.records(file) {
            if record.has("n") { modulus = try record.hex("n") }
            guard record.has("Result") else { continue }
            #expect(record["SHAAlg"] == "SHA256")
            let digest = Digest.hash(.sha256, try record.hex("Msg"))
            let padding: RSASignaturePadding = pss ? .pss(saltLength: .exactly(try record.hex("SaltVal").count)) : .pkcs1v15
            let expectPass = record["Result"]!.hasPrefix("P")
            let verified: Bool
            do {
                let key = try RSAPublicKey(modulus: modulus, publicExponent: try record.hex("e"))
                try key.verify(signature: try record.hex("S"), for: digest, padding: padding)
                verified = true
            } catch let error as CryptoError {
                #expect([.signatureMismatch, .invalidKey, .malformedSignature].contains(error.code), "\(error)")
                verified = false
            }
            #expect(verified == expectPass, "\(file) line \(record.line): \(record["Result"]!)")
            if expectPass { passes += 1 } else { failures += 1 }
        }
        #expect(passes + failures == 54)
        #expect(passes > 0 && failures > 0)
    }

    /// PKCS#1 v1.5 signing is deterministic: our signature must equal NIST's byte for byte.
    @Test func rsaSigGen15Signing() throws {
        var n: [UInt8] = [], e: [UInt8] = [], d: [UInt8] = []
        var checked = 0
        for record in try CAVP.records("RSA_SigGen15_186-2_SHA256.txt") {
            if record.has("n") { n = try record.hex("n") }
            if record.has("e") { e = try record.hex("e") }
            if record.has("d") { d = try record.hex("d") }
            guard record.has("S") else { continue }
            let key = try RSAPrivateKey(modulus: n, publicExponent: e, privateExponent: SecureBytes(d))
            let digest = Digest.hash(.sha256, try record.hex("Msg"))
            let signature = try key.signature(for: digest, padding: .pkcs1v15)
            #expect(signature == (try record.hex("S")), "line \(record.line)")
            try key.publicKey.verify(signature: signature, for: digest, padding: .pkcs1v15)
            checked += 1
        }
        #expect(checked == 30)
    }

    /// SigGen15_186-3 publishes no private keys; every signature in it is valid by construction.
    @Test func rsaSigGen15Verification() throws {
        var n: [UInt8] = [], e: [UInt8] = []
        var checked = 0
        for record in try CAVP.records("RSA_SigGen15_186-3_SHA256.rsp") {
            if record.has("n") { n = try record.hex("n") }
            if record.has("e") { e = try record.hex("e") }
            guard record.has("S") else { continue }
            let key = try RSAPublicKey(modulus: n, publicExponent: e)
            let digest = Digest.hash(.sha256, try record.hex("Msg"))
            try key.verify(signature: try record.hex("S"), for: digest, padding: .pkcs1v15)
            var flipped = try record.hex("S")
            flipped[flipped.count / 2] ^= 0x01
            #expect(throws: CryptoError(.signatureMismatch, "")) {
                try key.verify(signature: flipped, for: digest, padding: .pkcs1v15)
            }
            checked += 1
        }
        #expect(checked == 30)
    }

    @Test func hkdfRFC5869() throws {
        var checked = 0
        // RFC 5869's test cases have blank lines inside a case: merge records from COUNT to COUNT.
        for record in try CAVP.records("HKDF_RFC5869_SHA256.txt", mergingFrom: "COUNT") where record.has("OKM") {
            let okm = try HKDF.deriveKey(.sha256, inputKeyMaterial: SecureBytes(try record.hex("IKM")),
                                         salt: try record.hex("salt"), info: try record.hex("info"),
                                         outputLength: try record.int("L"))
            #expect(okm.unsafeBytes == (try record.hex("OKM")), "COUNT \(record["COUNT"] ?? "?")")
            checked += 1
        }
        #expect(checked == 3)
    }

    /// RFC 5869 appendix A.4–A.7 (HKDF over SHA-1), the file's records unchanged.
    @Test func hkdfSHA1() throws {
        var checked = 0
        for record in try CAVP.records("HKDF_RFC5869_SHA1.txt", mergingFrom: "COUNT") where record.has("OKM") {
            let okm = try HKDF.deriveKey(.sha1, inputKeyMaterial: SecureBytes(try record.hex("IKM")),
                                         salt: record.has("salt") ? try record.hex("salt") : [], info: record.has("info") ? try record.hex("info") : [],
                                         outputLength: try record.int("L"))
            #expect(okm.unsafeBytes == (try record.hex("OKM")), "COUNT \(record["COUNT"] ?? "?")")
            checked += 1
        }
        #expect(checked == 4)
    }

    /// RFC 6070's PBKDF2-HMAC-SHA1 vectors (the 16,777,216-iteration one is left to xtest's
    /// level 15: it takes seconds); RFC 7914 §11's PBKDF2-HMAC-SHA256 vector (c = 1, 64 bytes).
    @Test func pbkdf2() throws {
        var checked = 0
        for record in try CAVP.records("PBKDF2_RFC6070_SHA1.txt") where record.has("DERIVED_KEY") {
            let iterations = try record.int("ITERATIONS")
            guard iterations < 1_000_000 else { continue }
            func text(_ key: String) -> [UInt8] { Array((record[key] ?? "").replacingOccurrences(of: "\\0", with: "\0").utf8) }
            let key = try PBKDF2.deriveKey(.sha1, password: SecureBytes(text("PASSWORD")), salt: text("SALT"), iterations: iterations, outputLength: try record.int("LENGTH"))
            #expect(key.unsafeBytes == (try record.hex("DERIVED_KEY")), "COUNT \(record["COUNT"] ?? "?")")
            checked += 1
        }
        #expect(checked == 5)
        let sha256 = try PBKDF2.deriveKey(.sha256, password: SecureBytes(Array("passwd".utf8)), salt: Array("salt".utf8), iterations: 1, outputLength: 64)
        #expect(sha256.unsafeBytes == unhex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"))
        #expect(throws: CryptoError.self) { try PBKDF2.deriveKey(.sha1, password: SecureBytes([1]), salt: [], iterations: 0, outputLength: 16) }
        #expect(throws: CryptoError.self) { try PBKDF2.deriveKey(.sha1, password: SecureBytes([1]), salt: [], iterations: PBKDF2.maxIterations + 1, outputLength: 16) }
    }

    /// RFC 7518 appendix C (JWA's ECDH-ES example): the Concat KDF over SHA-256 of its Z and
    /// OtherInfo (AlgorithmID "A128GCM", PartyUInfo "Alice", PartyVInfo "Bob", SuppPubInfo 128)
    /// is "VqqN6vgjbSBcIijNcacQGg" (base64url).
    @Test func concatKDF() throws {
        let z = SecureBytes(unhex("9e56d91d817135d372834283bf84269cfb316ea3da806a48f6daa7798cfe90c4"))
        let otherInfo = unhex("000000074131323847434d00000005416c69636500000003426f6200000080")
        #expect(try ConcatKDF.deriveKey(.sha256, sharedSecret: z, otherInfo: otherInfo, outputLength: 16).unsafeBytes == unhex("56aa8deaf8236d205c2228cd71a7101a"))
        // Longer than one hash: the blocks follow the counter (a prefix of the longer output).
        let long = try ConcatKDF.deriveKey(.sha256, sharedSecret: z, otherInfo: otherInfo, outputLength: 70).unsafeBytes
        #expect(long.count == 70 && Array(long.prefix(16)) == unhex("56aa8deaf8236d205c2228cd71a7101a"))
        #expect(Array(long[32..<64]) == Digest.hash(.sha256, [0, 0, 0, 2] + z.unsafeBytes + otherInfo).bytes, "block 2 is Hash(2 ‖ Z ‖ OtherInfo)")
    }

    @Test(arguments: ["AES_ECBMMT128.rsp", "AES_ECBMMT192.rsp", "AES_ECBMMT256.rsp"])
    func aesECB(file: String) throws {
        var checked = 0
        for record in try CAVP.records(file) where record.has("CIPHERTEXT") {
            let key = SecureBytes(try record.hex("KEY"))
            let pt = try record.hex("PLAINTEXT"), ct = try record.hex("CIPHERTEXT")
            if record.section == "[ENCRYPT]" {
                #expect(try AESCipher.process(mode: .ecb, direction: .encrypt, key: key, iv: [], data: pt) == ct, "\(file) line \(record.line)")
                let cipher = try AESCipher(mode: .ecb, direction: .encrypt, key: key, iv: [])
                #expect(try cipher.update(pt.prefix(21)) + cipher.finalize(pt.dropFirst(21)) == ct, "\(file) streaming, line \(record.line)")
            } else {
                #expect(try AESCipher.process(mode: .ecb, direction: .decrypt, key: key, iv: [], data: ct) == pt, "\(file) line \(record.line)")
            }
            checked += 1
        }
        #expect(checked == 20)
        #expect(throws: CryptoError(.invalidLength, "")) { try AESCipher(mode: .ecb, direction: .encrypt, key: SecureBytes([UInt8](repeating: 0, count: 16)), iv: [UInt8](repeating: 0, count: 16)) }
    }

    @Test(arguments: ["AES_CBCMMT128.rsp", "AES_CBCMMT256.rsp"])
    func aesCBC(file: String) throws {
        var checked = 0
        for record in try CAVP.records(file) where record.has("CIPHERTEXT") {
            let key = SecureBytes(try record.hex("KEY"))
            let iv = try record.hex("IV"), pt = try record.hex("PLAINTEXT"), ct = try record.hex("CIPHERTEXT")
            if record.section == "[ENCRYPT]" {
                #expect(try AESCipher.process(mode: .cbc, direction: .encrypt, key: key, iv: iv, data: pt) == ct)
                // Streaming with a split inside a block.
                let cipher = try AESCipher(mode: .cbc, direction: .encrypt, key: key, iv: iv)
                let out = try cipher.update(pt.prefix(7)) + cipher.finalize(pt.dropFirst(7))
                #expect(out == ct)
            } else {
                #expect(try AESCipher.process(mode: .cbc, direction: .decrypt, key: key, iv: iv, data: ct) == pt)
            }
            checked += 1
        }
        #expect(checked == 20)
    }

    @Test(arguments: ["AES_CTR_128.txt", "AES_CTR_256.txt"])
    func aesCTR(file: String) throws {
        var checked = 0
        for record in try CAVP.records(file) where record.has("CIPHERTEXT") {
            let key = SecureBytes(try record.hex("KEY"))
            let iv = try record.hex("IV"), pt = try record.hex("PLAINTEXT"), ct = try record.hex("CIPHERTEXT")
            #expect(try AESCipher.process(mode: .ctr, direction: .encrypt, key: key, iv: iv, data: pt) == ct)
            let cipher = try AESCipher(mode: .ctr, direction: .decrypt, key: key, iv: iv)
            #expect(try cipher.update(ct.prefix(5)) + cipher.update(ct.dropFirst(5).prefix(20)) + cipher.finalize(ct.dropFirst(25)) == pt)
            checked += 1
        }
        #expect(checked >= 1)
    }

    @Test(arguments: ["AES_GCM_EncryptExtIV128.rsp", "AES_GCM_EncryptExtIV256.rsp"])
    func aesGCMEncrypt(file: String) throws {
        var checked = 0
        for record in try CAVP.records(file) where record.has("Tag") {
            let key = SecureBytes(try record.hex("Key"))
            let (ct, tag) = try AESGCM.seal(try record.hex("PT"), key: key, iv: try record.hex("IV"), aad: try record.hex("AAD"))
            #expect(ct == (try record.hex("CT")), "\(file) line \(record.line)")
            #expect(tag == (try record.hex("Tag")), "\(file) line \(record.line)")
            checked += 1
        }
        #expect(checked == 375)
    }

    @Test(arguments: ["AES_GCM_Decrypt128.rsp", "AES_GCM_Decrypt256.rsp"])
    func aesGCMDecrypt(file: String) throws {
        var passes = 0, failures = 0
        for record in try CAVP.records(file) where record.has("Tag") {
            let key = SecureBytes(try record.hex("Key"))
            do {
                let pt = try AESGCM.open(try record.hex("CT"), key: key, iv: try record.hex("IV"), aad: try record.hex("AAD"), tag: try record.hex("Tag"))
                #expect(!record.has("FAIL"), "\(file) line \(record.line) should have failed")
                #expect(pt == (try record.hex("PT")), "\(file) line \(record.line)")
                passes += 1
            } catch let error as CryptoError {
                #expect(error.code == .authenticationFailure)
                #expect(record.has("FAIL"), "\(file) line \(record.line): \(error)")
                failures += 1
            }
        }
        #expect(passes + failures == 375)
        #expect(passes > 0 && failures > 0)
    }
}

/// The bytes of a hex string written in a test (vectors quoted from an RFC).
private func unhex(_ text: String) -> [UInt8] {
    var out: [UInt8] = [], chars = Array(text.utf8)
    if chars.count % 2 == 1 { chars.insert(UInt8(ascii: "0"), at: 0) }
    for i in stride(from: 0, to: chars.count, by: 2) { out.append(UInt8(String(decoding: chars[i..<(i + 2)], as: UTF8.self), radix: 16)!) }
    return out
}

import Testing
import TEECrypto

@Suite struct SymmetricTests {
    /// RFC 4231 test case 2 (HMAC-SHA-256, key "Jefe"), RFC text, IETF Trust.
    @Test func hmacRFC4231() throws {
        let key = SecureBytes(Array("Jefe".utf8))
        let data = Array("what do ya want for nothing?".utf8)
        let expected = bytesFromHex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")!
        #expect(try HMAC.authenticationCode(.sha256, key: key, data: data) == expected)
        var mac = try HMAC(.sha256, key: key)
        mac.update(data.prefix(10))
        mac.update(data.dropFirst(10))
        try mac.verify(tag: expected)
        var bad = try HMAC(.sha256, key: key)
        bad.update(data)
        var wrong = expected
        wrong[31] ^= 1
        #expect(verifyError(bad, wrong) == .authenticationFailure)
        var short = try HMAC(.sha256, key: key)
        short.update(data)
        #expect(verifyError(short, Array(expected.prefix(16))) == .invalidLength)
    }

    /// The code `verify` throws, or nil if it accepts (closures cannot consume a captured HMAC).
    private func verifyError(_ mac: consuming HMAC, _ tag: [UInt8]) -> CryptoError.Code? {
        do {
            try mac.verify(tag: tag)
            return nil
        } catch let error as CryptoError {
            return error.code
        } catch {
            return CryptoError.Code(rawValue: "unexpected")
        }
    }

    @Test func hkdfLimits() throws {
        let ikm = SecureBytes(count: 32)
        #expect(throws: CryptoError(.invalidLength, "")) { try HKDF.deriveKey(inputKeyMaterial: ikm, salt: [UInt8](), info: [UInt8](), outputLength: 0) }
        #expect(throws: CryptoError(.invalidLength, "")) { try HKDF.deriveKey(inputKeyMaterial: ikm, salt: [UInt8](), info: [UInt8](), outputLength: 255 * 32 + 1) }
        let a = try HKDF.deriveKey(inputKeyMaterial: ikm, salt: [1], info: Array("ta-a".utf8), outputLength: 32)
        let b = try HKDF.deriveKey(inputKeyMaterial: ikm, salt: [1], info: Array("ta-b".utf8), outputLength: 32)
        #expect(a != b)
    }

    @Test func gcmRoundTripShortTagsAndRefusals() throws {
        let key = try RandomGenerator.shared.secureBytes(count: 32)
        let iv = try RandomGenerator.shared.bytes(count: 12)
        let plaintext = try RandomGenerator.shared.bytes(count: 1000)
        let aad = Array("header".utf8)
        for tagLength in [16, 12, 8, 4] {
            let (ct, tag) = try AESGCM.seal(plaintext, key: key, iv: iv, aad: aad, tagLength: tagLength)
            #expect(tag.count == tagLength)
            #expect(try AESGCM.open(ct, key: key, iv: iv, aad: aad, tag: tag) == plaintext)
            var badTag = tag
            badTag[0] ^= 1
            #expect(throws: CryptoError(.authenticationFailure, "")) { try AESGCM.open(ct, key: key, iv: iv, aad: aad, tag: badTag) }
            var badCT = ct
            badCT[500] ^= 1
            #expect(throws: CryptoError(.authenticationFailure, "")) { try AESGCM.open(badCT, key: key, iv: iv, aad: aad, tag: tag) }
            #expect(throws: CryptoError(.authenticationFailure, "")) { try AESGCM.open(ct, key: key, iv: iv, aad: [1], tag: tag) }
        }
        // A tag of another length than the operation was set up with is refused, never compared as a prefix.
        let (ct, tag) = try AESGCM.seal(plaintext, key: key, iv: iv, tagLength: 16)
        let op = try AESGCM(direction: .decrypt, key: key, iv: iv, tagLength: 16)
        #expect(throws: CryptoError(.authenticationFailure, "")) { try op.finalizeDecryption(ct, tag: tag.prefix(12)) }
        // Streaming in odd pieces matches one-shot.
        let enc = try AESGCM(direction: .encrypt, key: key, iv: iv)
        var streamed = try enc.update(plaintext.prefix(7))
        streamed += try enc.update(plaintext.dropFirst(7).prefix(300))
        let last = try enc.finalizeEncryption(plaintext.dropFirst(307))
        #expect(streamed + last.ciphertext == ct && last.tag == tag)
        #expect(throws: CryptoError(.invalidLength, "")) { try AESGCM.seal(plaintext, key: SecureBytes(count: 20), iv: iv) }
        #expect(throws: CryptoError(.invalidLength, "")) { try AESGCM.seal(plaintext, key: key, iv: iv, tagLength: 17) }
        #expect(throws: CryptoError(.invalidLength, "")) { try AESGCM.seal(plaintext, key: key, iv: [], tagLength: 16) }
    }

    @Test func cipherRefusals() throws {
        let key = SecureBytes(count: 16)
        #expect(throws: CryptoError(.invalidLength, "")) { try AESCipher(mode: .cbc, direction: .encrypt, key: SecureBytes(count: 15), iv: [UInt8](repeating: 0, count: 16)) }
        #expect(throws: CryptoError(.invalidLength, "")) { try AESCipher(mode: .ctr, direction: .encrypt, key: key, iv: [UInt8](repeating: 0, count: 12)) }
        #expect(throws: CryptoError(.invalidLength, "")) { try AESCipher.process(mode: .cbc, direction: .encrypt, key: key, iv: [UInt8](repeating: 0, count: 16), data: [UInt8](repeating: 0, count: 17)) }
        let cipher = try AESCipher(mode: .ctr, direction: .encrypt, key: key, iv: [UInt8](repeating: 0, count: 16))
        _ = try cipher.finalize([1, 2, 3])
        #expect(throws: CryptoError(.invalidArgument, "")) { try cipher.update([1]) }
    }

    @Test func secureBytes() {
        var a = SecureBytes([1, 2, 3])
        let b = a
        #expect(a == b)
        a.withUnsafeMutableBytes { $0[0] = 9 }
        #expect(a != b, "copy on write keeps the copy intact")
        #expect(b.unsafeBytes == [1, 2, 3])
        #expect(a.description == "SecureBytes(3 bytes)")
        #expect(SecureBytes([1, 2]) != SecureBytes([1, 2, 0]))
        var source: [UInt8] = [7, 7, 7]
        let taken = SecureBytes(consuming: &source)
        #expect(source.isEmpty && taken.unsafeBytes == [7, 7, 7])
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]) && !constantTimeEquals([1, 2, 3], [1, 2, 4]) && constantTimeEquals([UInt8](), []))
    }

    @Test func randomGenerator() throws {
        let rng = try RandomGenerator(personalization: Array("test".utf8))
        let a = try rng.bytes(count: 5000), b = try rng.bytes(count: 5000)
        #expect(a != b)
        // 5000 random bytes contain every byte value with overwhelming probability.
        #expect(Set(a).count == 256)
    }
}

/// HMAC-SHA1 known answers: RFC 2202 §3, test cases 1 and 2 (IETF Trust, BSD-style licence).
@Suite struct HMACSHA1Tests {
    @Test func rfc2202() throws {
        var one = try HMAC(sha1Key: SecureBytes([UInt8](repeating: 0x0b, count: 20)))
        one.update(Array("Hi There".utf8))
        #expect(hexString(one.finalize()) == "b617318655057264e28bc0b6fb378c8ef146be00")
        var two = try HMAC(sha1Key: SecureBytes(Array("Jefe".utf8)))
        two.update(Array("what do ya want for nothing?".utf8))
        #expect(hexString(two.finalize()) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        #expect(throws: CryptoError.self) {
            let three = try HMAC(sha1Key: SecureBytes(Array("Jefe".utf8)))
            try three.verify(tag: [UInt8](repeating: 0, count: 32))
        }
    }
}

/// AES-CMAC: NIST SP 800-38B appendix D (Tests/Vectors/AES_CMAC_*.txt, public domain), one-shot
/// and fed a byte at a time; HMAC-SHA-384/512: RFC 4231 test case 2 (IETF Trust).
@Suite struct MACTests {
    @Test(arguments: ["AES_CMAC_128.txt", "AES_CMAC_192.txt", "AES_CMAC_256.txt"])
    func cmacKnownAnswers(file: String) throws {
        let records = try CAVP.records(file)
        #expect(records.count == 4)
        for r in records {
            let key = SecureBytes(try r.hex("KEY")), message = try r.hex("MESSAGE"), expected = try r.hex("OUTPUT")
            #expect(try AESCMAC.authenticationCode(key: key, data: message) == expected, "line \(r.line)")
            let streamed = try AESCMAC(key: key)
            for byte in message { streamed.update([byte]) }
            #expect(streamed.finalize() == expected, "line \(r.line)")
            var flipped = message + [0]
            flipped[0] ^= 1
            #expect(try AESCMAC.authenticationCode(key: key, data: flipped) != expected)
        }
        #expect(throws: CryptoError(.invalidLength, "")) { try AESCMAC(key: SecureBytes([UInt8](repeating: 1, count: 15))) }
    }

    @Test func hmacSHA384AndSHA512() throws {
        let key = SecureBytes(Array("Jefe".utf8)), data = Array("what do ya want for nothing?".utf8)
        #expect(hexString(try HMAC.authenticationCode(.sha384, key: key, data: data))
                == "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649")
        #expect(hexString(try HMAC.authenticationCode(.sha512, key: key, data: data))
                == "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")
    }
}

/// MACComputation on both backends: HMAC over every digest both have (RFC 2202 and RFC 4231
/// cases), CMAC over AES and 3DES (SP 800-38B), CBC-MAC checked against CBC encryption vectors
/// (CBC-MAC with the record's IV is the last ciphertext block); and copies taken mid-way.
@Suite struct MACComputationTests {
    @Test(arguments: [
        ("HMAC_RFC_2202_MD5.txt", DigestAlgorithm.md5, 7), ("HMAC_RFC_2202_SHA1.txt", .sha1, 7),
        ("HMAC_RFC_4231_SHA224.txt", .sha224, 6), ("HMAC_RFC_4231_SHA256.txt", .sha256, 6),
        ("HMAC_RFC_4231_SHA384.txt", .sha384, 6), ("HMAC_RFC_4231_SHA512.txt", .sha512, 6),
    ])
    func hmacVectors(file: String, digest: DigestAlgorithm, count: Int) throws {
        for backend in digest.backends {
            var checked = 0
            for r in try CAVP.records(file) where r.has("MD") {
                let key = SecureBytes(try r.hex("Key")), message = try r.hex("Msg"), expected = try r.hex("MD")
                let mac = try MACComputation(.hmac(digest), key: key, backend: backend)
                mac.update(Array(message.prefix(3)))
                let copy = try mac.copy()
                mac.update(Array(message.dropFirst(3)))
                copy.update(Array(message.dropFirst(3)))
                #expect(try mac.finalize() == expected, "\(file) \(backend) line \(r.line)")
                #expect(try copy.finalize() == expected, "\(file) \(backend) copy, line \(r.line)")
                checked += 1
            }
            #expect(checked == count)
        }
    }

    @Test(arguments: [("AES_CMAC_128.txt", 4), ("AES_CMAC_192.txt", 4), ("AES_CMAC_256.txt", 4), ("TDES_CMAC.txt", 8)])
    func cmacVectors(file: String, count: Int) throws {
        var checked = 0
        for r in try CAVP.records(file) {
            let key = r.has("KEY") ? try r.hex("KEY") : try r.hex("KEY1") + r.hex("KEY2") + r.hex("KEY3")
            let cipher: BlockCipherAlgorithm = r.has("KEY") ? .aes : .des3
            let message = try r.hex("MESSAGE"), expected = try r.hex("OUTPUT")
            for backend in [CryptoBackend.mbedTLS, .openSSL] {
                let mac = try MACComputation(.cmac(cipher), key: SecureBytes(key), backend: backend)
                for byte in message { mac.update([byte]) }
                #expect(try mac.finalize() == expected, "\(file) \(backend) line \(r.line)")
            }
            let served = try MACComputation(.cmac(cipher), key: SecureBytes(key))
            served.update(Array(message.prefix(5)))
            let copy = try served.copy()
            copy.update(Array(message.dropFirst(5)))
            #expect(try copy.finalize() == expected, "\(file) copy, line \(r.line)")
            checked += 1
        }
        #expect(checked == count)
    }

    @Test(arguments: ["AES_CBCMMT128.rsp", "AES_CBCMMT256.rsp", "TDES_CBCMMT2.rsp", "TDES_CBCMMT3.rsp"])
    func cbcMACAgainstCBCEncryption(file: String) throws {
        var checked = 0
        for r in try CAVP.records(file) where r.has("CIPHERTEXT") && r.section == "[ENCRYPT]" {
            let aes = r.has("KEY")
            let key = aes ? try r.hex("KEY") : try r.hex("KEY1") + r.hex("KEY2") + r.hex("KEY3")
            let iv = try r.hex("IV"), pt = try r.hex("PLAINTEXT"), ct = try r.hex("CIPHERTEXT")
            let mac = try MACComputation(.cbcMAC(aes ? .aes : .des3, pkcs5: false), key: SecureBytes(key), iv: iv)
            mac.update(Array(pt.prefix(5)))
            let copy = try mac.copy()
            mac.update(Array(pt.dropFirst(5)))
            copy.update(Array(pt.dropFirst(5)))
            #expect(try mac.finalize() == Array(ct.suffix(aes ? 16 : 8)), "\(file) line \(r.line)")
            #expect(try copy.finalize() == Array(ct.suffix(aes ? 16 : 8)), "\(file) copy, line \(r.line)")
            // PKCS#5: the padded message's CBC-MAC is the next block — one more CBC step.
            let padded = try MACComputation(.cbcMAC(aes ? .aes : .des3, pkcs5: true), key: SecureBytes(key), iv: iv)
            padded.update(pt)
            let n = aes ? 16 : 8
            let step = try BlockCipher(aes ? .aes : .des3, key: SecureBytes(key), direction: .encrypt).process(zip(ct.suffix(n), [UInt8](repeating: UInt8(n), count: n)).map { $0 ^ $1 })
            #expect(try padded.finalize() == step, "\(file) PKCS#5, line \(r.line)")
            checked += 1
        }
        #expect(checked == 10)
        let partial = try MACComputation(.cbcMAC(.aes, pkcs5: false), key: SecureBytes([UInt8](repeating: 1, count: 16)))
        partial.update([1, 2, 3])
        #expect(throws: CryptoError(.invalidLength, "")) { try partial.finalize() }
    }
}

/// CipherComputation (ECB, CBC, CTR chained over one block call): NIST vectors for AES, 3DES
/// and single DES (the TDES variable-key KATs use one key thrice), streamed in pieces with a copy
/// taken mid-stream; and the same bytes as mbedTLS's own AES modes (AESCipher) on random data.
@Suite struct CipherComputationTests {
    static func key(_ r: CAVPRecord) throws -> (BlockCipherAlgorithm, [UInt8]) {
        if r.has("KEY") { return (.aes, try r.hex("KEY")) }
        if r.has("KEYs") { return (.des, try r.hex("KEYs")) }
        return (.des3, try r.hex("KEY1") + r.hex("KEY2") + r.hex("KEY3"))
    }

    @Test(arguments: [
        ("AES_ECBMMT128.rsp", CipherComputation.Mode.ecb, 20), ("AES_ECBMMT256.rsp", .ecb, 20), ("AES_CBCMMT128.rsp", .cbc, 20),
        ("AES_CBCMMT256.rsp", .cbc, 20), ("AES_CTR_128.txt", .ctr, 3), ("AES_CTR_256.txt", .ctr, 3), ("TDES_ECBMMT3.rsp", .ecb, 20),
        ("TDES_CBCMMT2.rsp", .cbc, 20), ("TDES_CBCMMT3.rsp", .cbc, 20), ("TDES_CBCvarkey.rsp", .cbc, 112), ("TDES_ECBvarkey.rsp", .ecb, 112),
    ])
    func vectors(file: String, mode: CipherComputation.Mode, count: Int) throws {
        var checked = 0
        for r in try CAVP.records(file) where r.has("CIPHERTEXT") {
            let (cipher, keyBytes) = try Self.key(r)
            let key = SecureBytes(keyBytes)
            let iv = mode == .ecb ? [] : try r.hex("IV")
            let pt = try r.hex("PLAINTEXT"), ct = try r.hex("CIPHERTEXT")
            let decrypt = r.section == "[DECRYPT]"
            let (input, expected) = decrypt ? (ct, pt) : (pt, ct)
            let c = try CipherComputation(cipher, mode: mode, direction: decrypt ? .decrypt : .encrypt, key: key, iv: iv)
            let first = c.update(Array(input.prefix(5)))
            // CTR releases every byte at once; ECB and CBC hold a partial block back.
            #expect(first.count == (mode == .ctr ? min(5, input.count) : 0))
            #expect(c.outputLength(adding: input.count - 5) == input.count - first.count, "\(file) line \(r.line)")
            let copy = c.copy()
            let rest = try c.finalize(Array(input.dropFirst(5)))
            #expect(first + rest == expected, "\(file) line \(r.line)")
            #expect(try first + copy.finalize(Array(input.dropFirst(5))) == expected, "\(file) copy, line \(r.line)")
            checked += 1
        }
        #expect(checked == count, "\(file)")
    }

    @Test func aesModesAgreeWithMbedTLSOwn() throws {
        for (mode, native) in [(CipherComputation.Mode.ecb, AESCipher.Mode.ecb), (.cbc, .cbc), (.ctr, .ctr)] {
            for length in [0, 16, 48, 160, 4096] {
                let key = SecureBytes(try RandomGenerator.shared.bytes(count: 32))
                let iv = mode == .ecb ? [] : try RandomGenerator.shared.bytes(count: 16)
                let data = try RandomGenerator.shared.bytes(count: mode == .ctr ? length + 7 : length)
                for direction in [CipherDirection.encrypt, .decrypt] {
                    let ours = try CipherComputation(.aes, mode: mode, direction: direction, key: key, iv: iv).finalize(data)
                    #expect(ours == (try AESCipher.process(mode: native, direction: direction, key: key, iv: iv, data: data)), "\(mode) \(direction) \(length)")
                }
            }
        }
        let partial = try CipherComputation(.des, mode: .cbc, direction: .encrypt, key: SecureBytes([UInt8](repeating: 1, count: 8)), iv: [UInt8](repeating: 0, count: 8))
        #expect(throws: CryptoError(.invalidLength, "")) { try partial.finalize([1, 2, 3]) }
        #expect(throws: CryptoError(.unsupportedAlgorithm, "")) { try CipherComputation(.des3, mode: .ctr, direction: .encrypt, key: SecureBytes([UInt8](repeating: 1, count: 24)), iv: [UInt8](repeating: 0, count: 8)) }
    }
}

/// AES-XTS (NIST XTSVS: byte-length data units, encrypt and decrypt, streamed with a copy) and
/// AES-CTS (CS3): checked against mbedTLS's own CBC — CS3 is CBC over the zero-padded message
/// with the last two blocks swapped and the final one cut to the message's length.
@Suite struct StealingModeTests {
    @Test func xtsVectors() throws {
        var checked = 0
        for r in try CAVP.records("AES_XTSGenAES128.rsp") where r.has("CT") {
            guard try r.int("DataUnitLen") % 8 == 0 else { continue }
            let keys = try r.hex("Key"), tweak = try r.hex("i"), pt = try r.hex("PT"), ct = try r.hex("CT")
            let decrypt = r.section == "[DECRYPT]"
            let (input, expected) = decrypt ? (ct, pt) : (pt, ct)
            let c = try CipherComputation(.aes, mode: .xts, direction: decrypt ? .decrypt : .encrypt,
                                          key: SecureBytes(Array(keys.prefix(16))), iv: tweak, key2: SecureBytes(Array(keys.dropFirst(16))))
            let first = c.update(Array(input.prefix(7)))
            let copy = c.copy()
            #expect(try first + c.finalize(Array(input.dropFirst(7))) == expected, "line \(r.line)")
            #expect(try first + copy.finalize(Array(input.dropFirst(7))) == expected, "copy, line \(r.line)")
            checked += 1
        }
        #expect(checked == 800)
    }

    @Test func ctsIsCBCWithTheLastTwoBlocksSwapped() throws {
        let key = SecureBytes(Array("chicken teriyaki".utf8)), iv = [UInt8](repeating: 0, count: 16)
        let message = Array("I would like the General Gau's Chicken, please, and wonton soup.".utf8)
        for length in [16, 17, 31, 32, 47, 48, 64] {
            let p = Array(message.prefix(length))
            let padded = p + [UInt8](repeating: 0, count: (16 - length % 16) % 16)
            let cbc = try AESCipher.process(mode: .cbc, direction: .encrypt, key: key, iv: iv, data: padded)
            let expected: [UInt8]
            if length == 16 {
                expected = cbc
            } else {
                let n = cbc.count, d = length - (n - 16)
                expected = Array(cbc[..<(n - 32)]) + cbc[(n - 16)...] + cbc[(n - 32)..<(n - 32 + d)]
            }
            for split in [1, 15, 17, length - 1] where split > 0 && split < length {
                let enc = try CipherComputation(.aes, mode: .cts, direction: .encrypt, key: key, iv: iv)
                let first = enc.update(Array(p.prefix(split)))
                let copy = enc.copy()
                #expect(try first + enc.finalize(Array(p.dropFirst(split))) == expected, "\(length) bytes, split \(split)")
                #expect(try first + copy.finalize(Array(p.dropFirst(split))) == expected, "\(length) bytes, copy")
                let dec = try CipherComputation(.aes, mode: .cts, direction: .decrypt, key: key, iv: iv)
                #expect(try dec.update(Array(expected.prefix(split))) + dec.finalize(Array(expected.dropFirst(split))) == p, "\(length) bytes back")
            }
        }
        #expect(throws: CryptoError(.invalidLength, "")) { try CipherComputation(.aes, mode: .cts, direction: .encrypt, key: key, iv: iv).finalize([1, 2, 3]) }
    }
}

/// AEComputation: AES-CCM (composed here) against NIST CCMVS — every AAD, nonce, payload and tag
/// length — streamed with a copy mid-way, and decrypted back with the tag checked; AES-GCM
/// (OpenSSL) against mbedTLS's AESGCM on random inputs, copies included.
@Suite struct AEComputationTests {
    @Test(arguments: [("AES_CCM_VADT128.rsp", 330), ("AES_CCM_VNT128.rsp", 70), ("AES_CCM_VPT128.rsp", 250), ("AES_CCM_VTT128.rsp", 70)])
    func ccmVectors(file: String, count: Int) throws {
        var lengths: [String: Int] = [:]
        var key: [UInt8] = [], nonce: [UInt8] = []
        var checked = 0
        for r in try CAVP.records(file) {
            if let m = r.section.firstMatch(of: /\[(\w+) = (\d+)\]/) { lengths[String(m.1)] = Int(m.2) }
            for name in ["Alen", "Plen", "Nlen", "Tlen"] where r.has(name) { lengths[name] = try r.int(name) }
            if r.has("Key") { key = try r.hex("Key") }
            if r.has("Nonce") { nonce = try r.hex("Nonce") }
            guard r.has("CT"), r.has("Count") else { continue }
            let aad = Array(try r.hex("Adata").prefix(lengths["Alen"]!)), payload = Array(try r.hex("Payload").prefix(lengths["Plen"]!))
            let ct = try r.hex("CT"), t = lengths["Tlen"]!
            let enc = try AEComputation(.ccm, direction: .encrypt, key: SecureBytes(key), nonce: nonce, tagLength: t, aadLength: aad.count, payloadLength: payload.count)
            try enc.updateAAD(Array(aad.prefix(3)))
            try enc.updateAAD(Array(aad.dropFirst(3)))
            let first = try enc.update(Array(payload.prefix(5)))
            let copy = try enc.copy()
            let (rest, tag) = try enc.finalizeEncryption(Array(payload.dropFirst(5)))
            #expect(first + rest + tag == ct, "\(file) line \(r.line)")
            let (rest2, tag2) = try copy.finalizeEncryption(Array(payload.dropFirst(5)))
            #expect(first + rest2 + tag2 == ct, "\(file) copy, line \(r.line)")
            let dec = try AEComputation(.ccm, direction: .decrypt, key: SecureBytes(key), nonce: nonce, tagLength: t, aadLength: aad.count, payloadLength: payload.count)
            try dec.updateAAD(aad)
            #expect(try dec.finalizeDecryption(Array(ct.dropLast(t)), tag: Array(ct.suffix(t))) == payload, "\(file) decrypt, line \(r.line)")
            var bad = Array(ct.suffix(t))
            bad[0] ^= 1
            let dec2 = try AEComputation(.ccm, direction: .decrypt, key: SecureBytes(key), nonce: nonce, tagLength: t, aadLength: aad.count, payloadLength: payload.count)
            try dec2.updateAAD(aad)
            #expect(throws: CryptoError(.authenticationFailure, "")) { try dec2.finalizeDecryption(Array(ct.dropLast(t)), tag: bad) }
            checked += 1
        }
        #expect(checked == count)
    }

    @Test func gcmAgreesWithMbedTLS() throws {
        for (length, aadLength, tagLength) in [(0, 0, 16), (1, 20, 16), (64, 0, 12), (100, 17, 16), (1000, 64, 13)] {
            let key = SecureBytes(try RandomGenerator.shared.bytes(count: 32))
            let iv = try RandomGenerator.shared.bytes(count: 12), aad = try RandomGenerator.shared.bytes(count: aadLength)
            let data = try RandomGenerator.shared.bytes(count: length)
            let reference = try AESGCM.seal(data, key: key, iv: iv, aad: aad, tagLength: tagLength)
            let enc = try AEComputation(.gcm, direction: .encrypt, key: key, nonce: iv, tagLength: tagLength)
            try enc.updateAAD(aad)
            let first = try enc.update(Array(data.prefix(7)))
            let copy = try enc.copy()
            let (rest, tag) = try enc.finalizeEncryption(Array(data.dropFirst(7)))
            #expect(first + rest == reference.ciphertext && tag == reference.tag, "\(length) bytes")
            let (rest2, tag2) = try copy.finalizeEncryption(Array(data.dropFirst(7)))
            #expect(first + rest2 == reference.ciphertext && tag2 == reference.tag, "\(length) bytes, copy")
            let dec = try AEComputation(.gcm, direction: .decrypt, key: key, nonce: iv, tagLength: tagLength)
            try dec.updateAAD(aad)
            #expect(try dec.finalizeDecryption(reference.ciphertext, tag: reference.tag) == data)
            let bad = try AEComputation(.gcm, direction: .decrypt, key: key, nonce: iv, tagLength: tagLength)
            try bad.updateAAD(aad)
            #expect(throws: CryptoError(.authenticationFailure, "")) { try bad.finalizeDecryption(reference.ciphertext, tag: reference.tag.map { $0 ^ 1 }) }
            let late = try AEComputation(.gcm, direction: .encrypt, key: key, nonce: iv, tagLength: tagLength)
            _ = try late.update([1])
            #expect(throws: CryptoError(.invalidArgument, "")) { try late.updateAAD([1]) }
        }
    }
}

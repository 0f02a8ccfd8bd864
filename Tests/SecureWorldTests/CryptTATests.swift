import Foundation
import OPTEETestTAs
import OPTEETestTAInterface
import Testing
import TEECrypto
import TEEEmbedded
import TEEInternalAPI

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        var it = hex.makeIterator()
        while let h = it.next(), let l = it.next() { bytes.append(UInt8(String([h, l]), radix: 16)!) }
        self = bytes
    }
}

/// A client of the crypt TA over the embedded world: one function per TA_CRYPT_CMD_*, the way
/// xtest's `ta_crypt_cmd_*` helpers drive it (handles in value.a, outputs as temp memrefs).
struct CryptClient {
    let session: TEESession

    static func open(_ world: SecureWorld) throws -> CryptClient {
        CryptClient(session: try TEEContext.embedded(world).openSession(CryptTA.uuid))
    }

    func call(_ command: CryptTA.Command, _ op: TEEOperation) throws(TEEClientError) {
        try session.invoke(command.rawValue, op)
    }

    func allocate(_ algorithm: Algorithm, _ mode: OperationMode, maxKeySize: UInt32 = 0) throws(TEEClientError) -> UInt32 {
        let op = TEEOperation(.valueInout(0, algorithm.rawValue), .valueInput(mode.rawValue, maxKeySize))
        try call(.allocateOperation, op)
        return op.value(0)!.a
    }

    func update(_ handle: UInt32, _ data: [UInt8]) throws(TEEClientError) {
        try call(.digestUpdate, TEEOperation(.valueInput(handle), .tempInput(data)))
    }

    /// The digest (or SHORT_BUFFER's needed size through `size`).
    func doFinal(_ handle: UInt32, _ data: [UInt8]?, capacity: Int) throws(TEEClientError) -> [UInt8] {
        let chunk: OperationParameter = data.map { .tempInput($0) } ?? .temp(.memrefInput, bytes: nil, size: 0)
        let op = TEEOperation(.valueInput(handle), chunk, .tempOutput(capacity: capacity))
        try call(.digestDoFinal, op)
        return op.output(2) ?? []
    }

    func extract(_ handle: UInt32, capacity: Int) throws(TEEClientError) -> [UInt8] {
        let op = TEEOperation(.valueInput(handle), .tempOutput(capacity: capacity))
        try call(.digestExtract, op)
        return op.output(1) ?? []
    }

    func copy(to destination: UInt32, from source: UInt32) throws(TEEClientError) {
        try call(.copyOperation, TEEOperation(.valueInput(destination, source)))
    }

    /// A transient object of `type` holding `secret` (TEE_ATTR_SECRET_VALUE).
    func secretKey(_ type: ObjectType, bits: UInt32, _ secret: [UInt8]) throws(TEEClientError) -> UInt32 {
        let allocate = TEEOperation(.valueInput(type.rawValue, bits), .valueOutput)
        try call(.allocateTransientObject, allocate)
        let object = allocate.value(1)!.a
        let attributes = CryptTA.packAttributes([(id: AttributeID.secretValue, value: nil, bytes: secret)])
        try call(.populateTransientObject, TEEOperation(.valueInput(object), .tempInput(attributes)))
        return object
    }

    func macFinal(_ handle: UInt32, _ data: [UInt8], capacity: Int = 64) throws(TEEClientError) -> [UInt8] {
        let op = TEEOperation(.valueInput(handle), .tempInput(data), .tempOutput(capacity: capacity))
        try call(.macFinalCompute, op)
        return op.output(2) ?? []
    }

    func info(_ handle: UInt32) throws(TEEClientError) -> [UInt32] {
        let op = TEEOperation(.valueInput(handle), .tempOutput(capacity: 32))
        try call(.getOperationInfo, op)
        let bytes = op.output(1) ?? []
        return stride(from: 0, to: bytes.count, by: 4).map { at in (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
    }
}

@Suite struct CryptTATests {
    static func world() -> SecureWorld {
        let world = SecureWorld()
        world.register(CryptTAImplementation.self)
        return world
    }

    static let message = Array("The quick brown fox jumps over the lazy dog, twice over: the quick brown fox".utf8)

    /// xtest 4001's sequence for every digest rproc-tee has: update + copy + DoFinal on the copy,
    /// reset + DoFinal twice (the state starts over), then Extract in two pieces on the original
    /// and a copy taken between them.
    @Test(arguments: [
        (Algorithm.md5, 16), (.sha1, 20), (.sha224, 28), (.sha256, 32), (.sha384, 48), (.sha512, 64),
        (.sha3_224, 28), (.sha3_256, 32), (.sha3_384, 48), (.sha3_512, 64), (.shake128, 32), (.shake256, 64),
    ])
    func digestStateMachine(algorithm: Algorithm, length: Int) throws {
        let crypt = try CryptClient.open(Self.world())
        let expected = Self.reference(algorithm, Self.message, count: length)
        let op1 = try crypt.allocate(algorithm, .digest), op2 = try crypt.allocate(algorithm, .digest)
        #expect(op1 != op2 && op1 != 0)
        try crypt.update(op1, Array(Self.message.prefix(5)))
        try crypt.copy(to: op2, from: op1)
        #expect(try crypt.doFinal(op2, Array(Self.message.dropFirst(5)), capacity: length) == expected)
        try crypt.call(.resetOperation, TEEOperation(.valueInput(op1)))
        #expect(try crypt.doFinal(op1, Self.message, capacity: length) == expected)
        #expect(try crypt.doFinal(op1, Self.message, capacity: length) == expected, "DoFinal started the operation over")

        try crypt.update(op1, Self.message)
        let split = 7
        #expect(try crypt.extract(op1, capacity: split) == Array(expected.prefix(split)))
        try crypt.copy(to: op2, from: op1)
        #expect(try crypt.doFinal(op1, nil, capacity: length - split) == Array(expected.dropFirst(split)), "DoFinal after Extract gives the rest")
        #expect(try crypt.extract(op2, capacity: length - split) == Array(expected.dropFirst(split)), "the copy extracts from the same place")
        for handle in [op1, op2] { try crypt.call(.freeOperation, TEEOperation(.valueInput(handle))) }
    }

    static func reference(_ algorithm: Algorithm, _ data: [UInt8], count: Int) -> [UInt8] {
        let fixed: [Algorithm: DigestAlgorithm] = [.md5: .md5, .sha1: .sha1, .sha224: .sha224, .sha256: .sha256, .sha384: .sha384, .sha512: .sha512,
                                                    .sha3_224: .sha3_224, .sha3_256: .sha3_256, .sha3_384: .sha3_384, .sha3_512: .sha3_512]
        if let d = fixed[algorithm] { return Digest.hash(d, data).bytes }
        var xof = ExtendableOutputHasher(algorithm == .shake128 ? .shake128 : .shake256)
        xof.update(data)
        return xof.output(count: count)
    }

    /// SHORT_BUFFER reports the digest's size and leaves the state as it was; a fixed digest never
    /// extracts more than it has; SHAKE reads on.
    @Test func shortBufferAndExtractLimits() throws {
        let crypt = try CryptClient.open(Self.world())
        let op = try crypt.allocate(.sha256, .digest)
        try crypt.update(op, Self.message)
        let probe = TEEOperation(.valueInput(op), .tempInput([]), .tempOutput(capacity: 31))
        #expect(clientError { () throws(TEEClientError) in try crypt.call(.digestDoFinal, probe) } == TEEClientError(.shortBuffer, origin: .trustedApp))
        #expect(probe.size(2) == 32)
        #expect(try crypt.doFinal(op, [], capacity: 32) == Digest.hash(.sha256, Self.message).bytes, "the short call changed nothing")
        try crypt.update(op, Self.message)
        #expect(try crypt.extract(op, capacity: 100) == Digest.hash(.sha256, Self.message).bytes, "at most the digest")
        #expect(try crypt.extract(op, capacity: 10) == [], "nothing left")

        let shake = try crypt.allocate(.shake128, .digest)
        try crypt.update(shake, Self.message)
        let long = Self.reference(.shake128, Self.message, count: 5000)
        var read: [UInt8] = []
        for piece in [1, 100, 3000, 1899] { read += try crypt.extract(shake, capacity: piece) }
        #expect(read == long)
    }

    /// xtest 4002's sequence — three operations, a key object freed once set, init, a copy
    /// before and one after the updates, ComputeFinal on the copy, re-init and ComputeFinal,
    /// CompareFinal on the first copy — for each MAC family; the reference is TEECrypto on
    /// mbedTLS (the TA computes on OpenSSL where it serves), DES keys sized the GP 1.0 way.
    @Test(arguments: [
        (Algorithm.hmacMD5, ObjectType.hmacMD5, 16, UInt32(128)), (.hmacSHA1, .hmacSHA1, 20, 160), (.hmacSHA224, .hmacSHA224, 28, 224),
        (.hmacSHA256, .hmacSHA256, 32, 256), (.hmacSHA512, .hmacSHA512, 64, 512), (.hmacSHA256, .genericSecret, 32, 256),
        (.aesCMAC, .aes, 16, 128), (.des3CMAC, .des3, 24, 168), (.aesCBCMACNoPad, .aes, 32, 256), (.aesCBCMACPKCS5, .aes, 16, 128),
        (.desCBCMACNoPad, .des, 8, 56), (.desCBCMACPKCS5, .des, 8, 64), (.des3CBCMACPKCS5, .des3, 16, 112),
    ])
    func macSequence(algorithm: Algorithm, keyType: ObjectType, keyBytes: Int, keyBits: UInt32) throws {
        let crypt = try CryptClient.open(Self.world())
        let key = (0..<keyBytes).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) }
        let nopad = [Algorithm.aesCBCMACNoPad, .desCBCMACNoPad].contains(algorithm)
        let message = nopad ? Array(Self.message.prefix(64)) : Self.message
        let expected = try Self.referenceMAC(algorithm, key: key, message)
        let op1 = try crypt.allocate(algorithm, .mac, maxKeySize: keyBits)
        let op2 = try crypt.allocate(algorithm, .mac, maxKeySize: keyBits)
        let op3 = try crypt.allocate(algorithm, .mac, maxKeySize: keyBits)
        let object = try crypt.secretKey(keyType, bits: keyBits, key)
        try crypt.call(.setOperationKey, TEEOperation(.valueInput(op1, object)))
        try crypt.call(.freeTransientObject, TEEOperation(.valueInput(object)))
        try crypt.call(.macInit, TEEOperation(.valueInput(op1)))
        try crypt.copy(to: op3, from: op1)
        let split = nopad ? 16 : 13
        try crypt.call(.macUpdate, TEEOperation(.valueInput(op1), .tempInput(Array(message.prefix(split)))))
        try crypt.copy(to: op2, from: op1)
        #expect(try crypt.macFinal(op2, Array(message.dropFirst(split))) == expected, "the copy taken mid-way")
        try crypt.call(.macInit, TEEOperation(.valueInput(op1)))
        #expect(try crypt.macFinal(op1, message) == expected, "after a fresh init")
        try crypt.call(.macFinalCompare, TEEOperation(.valueInput(op3), .tempInput(message), .tempInput(expected)))
        // A wrong tag: MAC_INVALID (re-init first: compare ended the computation).
        try crypt.call(.macInit, TEEOperation(.valueInput(op3)))
        var wrong = expected
        wrong[0] ^= 1
        #expect(clientError { () throws(TEEClientError) in
            try crypt.call(.macFinalCompare, TEEOperation(.valueInput(op3), .tempInput(message), .tempInput(wrong)))
        } == TEEClientError(.macInvalid, origin: .trustedApp))
        // The key size the operation reports: DES without parity when sized that way.
        #expect(try crypt.info(op1)[5] == keyBits)
    }

    /// xtest 4003's sequence — set the key(s), free the objects, init, update a first piece,
    /// copy, DoFinal on both — for each cipher family, against TEECrypto computed directly.
    @Test(arguments: [
        (Algorithm.aesECBNoPad, 16, 0), (.aesCBCNoPad, 32, 16), (.aesCTR, 16, 16), (.aesCTS, 16, 16), (.desECBNoPad, 8, 0),
        (.desCBCNoPad, 8, 8), (.des3ECBNoPad, 24, 0), (.des3CBCNoPad, 16, 8), (.aesXTS, 16, 16),
    ])
    func cipherSequence(algorithm: Algorithm, keyBytes: Int, ivBytes: Int) throws {
        let crypt = try CryptClient.open(Self.world())
        let (block, mode) = Self.ciphers[algorithm]!
        let type: ObjectType = block == .aes ? .aes : block == .des ? .des : .des3
        let bits = UInt32(block == .aes ? keyBytes * 8 : keyBytes * 7)
        let key = (0..<keyBytes).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }, key2 = key.map { $0 ^ 0x5A }
        let iv = (0..<ivBytes).map { UInt8($0) }
        let whole = [.ecb, .cbc].contains(mode)
        let data = Array((Self.message + Self.message).prefix(whole ? 64 : 77))
        let two = mode == .xts
        let op = try crypt.allocate(algorithm, .encrypt, maxKeySize: two ? 2 * bits : bits)
        let op2 = try crypt.allocate(algorithm, .encrypt, maxKeySize: two ? 2 * bits : bits)
        let k1 = try crypt.secretKey(type, bits: bits, key)
        if two {
            let k2 = try crypt.secretKey(type, bits: bits, key2)
            #expect(clientError { () throws(TEEClientError) in try crypt.call(.setOperationKey2, TEEOperation(.valueInput(op, k1), .valueInput(k1))) }
                    == TEEClientError(.security, origin: .trustedApp), "the same key twice")
            try crypt.call(.setOperationKey2, TEEOperation(.valueInput(op, k1), .valueInput(k2)))
            #expect(try crypt.info(op)[5] == 0, "GetOperationInfo hides a two-key operation's key size")
            try crypt.call(.freeTransientObject, TEEOperation(.valueInput(k2)))
        } else {
            try crypt.call(.setOperationKey, TEEOperation(.valueInput(op, k1)))
        }
        try crypt.call(.freeTransientObject, TEEOperation(.valueInput(k1)))
        try crypt.call(.cipherInit, ivBytes == 0 ? TEEOperation(.valueInput(op)) : TEEOperation(.valueInput(op), .tempInput(iv)))
        let update = TEEOperation(.valueInput(op), .tempInput(Array(data.prefix(21))), .tempOutput(capacity: 128))
        try crypt.call(.cipherUpdate, update)
        try crypt.copy(to: op2, from: op)
        let first = update.output(2) ?? []
        func final(_ handle: UInt32) throws -> [UInt8] {
            let f = TEEOperation(.valueInput(handle), .tempInput(Array(data.dropFirst(21))), .tempOutput(capacity: 128))
            try crypt.call(.cipherDoFinal, f)
            return f.output(2) ?? []
        }
        let expected = try CipherComputation(block, mode: mode, direction: .encrypt, key: SecureBytes(key), iv: iv, key2: two ? SecureBytes(key2) : nil).finalize(data)
        #expect(try first + final(op) == expected)
        #expect(try first + final(op2) == expected, "the copy")
        if algorithm == .aesCBCNoPad || algorithm == .aesCTR || algorithm == .aesECBNoPad {
            // And the same bytes as mbedTLS's own AES modes.
            let native: AESCipher.Mode = algorithm == .aesCBCNoPad ? .cbc : algorithm == .aesCTR ? .ctr : .ecb
            #expect(expected == (try AESCipher.process(mode: native, direction: .encrypt, key: SecureBytes(key), iv: iv, data: data)))
        }
    }

    /// xtest 4017's pattern: a cipher fed one byte at a time, each update first with a NULL
    /// output — SUCCESS and nothing written while the byte completes no block, else SHORT_BUFFER
    /// with the exact size and the byte NOT consumed — then with room; DoFinal likewise. (The
    /// first version answered SHORT_BUFFER for a NULL output even when nothing was produced,
    /// after consuming the byte: xtest fed every byte twice and the final ECB length panicked.)
    @Test(arguments: [Algorithm.aesECBNoPad, .aesCBCNoPad, .aesCTR])
    func blockBufferingThroughANullOutput(algorithm: Algorithm) throws {
        let crypt = try CryptClient.open(Self.world())
        let (block, mode) = Self.ciphers[algorithm]!
        let key = (0..<16).map { UInt8($0 + 1) }, iv = algorithm == .aesECBNoPad ? [] : (0..<16).map { UInt8($0 + 1) }
        let data = (0..<96).map { UInt8($0 + 1) }
        let op = try crypt.allocate(algorithm, .encrypt, maxKeySize: 128)
        let k = try crypt.secretKey(.aes, bits: 128, key)
        try crypt.call(.setOperationKey, TEEOperation(.valueInput(op, k)))
        try crypt.call(.cipherInit, iv.isEmpty ? TEEOperation(.valueInput(op)) : TEEOperation(.valueInput(op), .tempInput(iv)))
        let step = algorithm == .aesCTR ? 1 : 16
        func size(_ o: TEEOperation) -> Int? { if case .temp(_, _, let n) = o.params[2] { n } else { nil } }
        var produced: [UInt8] = []
        for i in 0..<40 {
            let probe = TEEOperation(.valueInput(op), .tempInput([data[i]]), .temp(.memrefOutput, bytes: nil, size: 0))
            if (i + 1) % step == 0 {
                #expect(clientError { () throws(TEEClientError) in try crypt.call(.cipherUpdate, probe) } == TEEClientError(.shortBuffer, origin: .trustedApp), "byte \(i) completes a block")
                #expect(size(probe) == step, "the exact size is reported")
                let real = TEEOperation(.valueInput(op), .tempInput([data[i]]), .tempOutput(capacity: step))
                try crypt.call(.cipherUpdate, real)
                produced += real.output(2) ?? []
            } else {
                try crypt.call(.cipherUpdate, probe)
                #expect(size(probe) == 0, "byte \(i): nothing produced")
            }
        }
        let probe = TEEOperation(.valueInput(op), .tempInput(Array(data.dropFirst(40))), .temp(.memrefOutput, bytes: nil, size: 0))
        #expect(clientError { () throws(TEEClientError) in try crypt.call(.cipherDoFinal, probe) } == TEEClientError(.shortBuffer, origin: .trustedApp))
        #expect(size(probe) == 96 - produced.count, "held back + input")
        let final = TEEOperation(.valueInput(op), .tempInput(Array(data.dropFirst(40))), .tempOutput(capacity: 96))
        try crypt.call(.cipherDoFinal, final)
        let expected = try CipherComputation(block, mode: mode, direction: .encrypt, key: SecureBytes(key), iv: iv, key2: nil).finalize(data)
        #expect(produced + (final.output(2) ?? []) == expected, "every byte enciphered once")
    }

    /// xtest 8001–8003's sequence for OP-TEE's key-derivation extensions through the crypt TA:
    /// an input-secret object, SetOperationKey, DeriveKey into a GENERIC_SECRET, the secret read
    /// back — RFC 5869 A.1 (HKDF-SHA256, with the OP-TEE and the GP 1.3 attribute IDs), RFC 7518
    /// appendix C (Concat KDF-SHA256), RFC 6070 #2 (PBKDF2-HMAC-SHA1); each algorithm reported
    /// supported, Concat KDF over MD5 not (OP-TEE has none).
    @Test func keyDerivationExtensions() throws {
        let crypt = try CryptClient.open(Self.world())
        func derive(_ algorithm: UInt32, input type: ObjectType, _ secretAttribute: UInt32, _ secret: [UInt8],
                    _ params: [(id: UInt32, value: (a: UInt32, b: UInt32)?, bytes: [UInt8]?)], length: Int) throws -> [UInt8] {
            let op = try crypt.allocate(Algorithm(rawValue: algorithm), .derive, maxKeySize: 2048)
            let allocate = TEEOperation(.valueInput(type.rawValue, 2048), .valueOutput)
            try crypt.call(.allocateTransientObject, allocate)
            let key = allocate.value(1)!.a
            try crypt.call(.populateTransientObject, TEEOperation(.valueInput(key), .tempInput(CryptTA.packAttributes([(id: secretAttribute, value: nil, bytes: secret)]))))
            try crypt.call(.setOperationKey, TEEOperation(.valueInput(op, key)))
            let out = TEEOperation(.valueInput(ObjectType.genericSecret.rawValue, UInt32(length * 8)), .valueOutput)
            try crypt.call(.allocateTransientObject, out)
            try crypt.call(.deriveKey, TEEOperation(.valueInput(op, out.value(1)!.a), .tempInput(CryptTA.packAttributes(params))))
            let read = TEEOperation(.valueInput(out.value(1)!.a, AttributeID.secretValue), .tempOutput(capacity: 256))
            try crypt.call(.getObjectBufferAttribute, read)
            return read.output(1) ?? []
        }
        let ikm = [UInt8](repeating: 0x0b, count: 22), salt = Array(0x00...0x0c) as [UInt8], info = Array(0xf0...0xf9) as [UInt8]
        let okm = Array(hex: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        for (saltID, infoID) in [(AttributeID.hkdfSalt, AttributeID.hkdfInfo), (AttributeID.gpHKDFSalt, AttributeID.gpHKDFInfo)] {
            #expect(try derive(0x8000_40C0, input: .hkdfIKM, AttributeID.hkdfIKM, ikm,
                               [(saltID, nil, salt), (infoID, nil, info), (AttributeID.hkdfOKMLength, (42, 0), nil)], length: 42) == okm)
        }
        let z = Array(hex: "9e56d91d817135d372834283bf84269cfb316ea3da806a48f6daa7798cfe90c4")
        let otherInfo = Array(hex: "000000074131323847434d00000005416c69636500000003426f6200000080")
        #expect(try derive(0x8000_40C1, input: .concatKDFZ, AttributeID.concatKDFZ, z,
                           [(AttributeID.concatKDFOtherInfo, nil, otherInfo), (AttributeID.concatKDFDKMLength, (16, 0), nil)], length: 16)
                == Array(hex: "56aa8deaf8236d205c2228cd71a7101a"))
        #expect(try derive(0x8000_20C2, input: .pbkdf2Password, AttributeID.pbkdf2Password, Array("password".utf8),
                           [(AttributeID.pbkdf2Salt, nil, Array("salt".utf8)), (AttributeID.pbkdf2IterationCount, (2, 0), nil), (AttributeID.pbkdf2DKMLength, (20, 0), nil)], length: 20)
                == Array(hex: "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"))
        for algorithm in [0x8000_10C0, 0x8000_60C0, 0x8000_20C1, 0x8000_60C1, 0x8000_20C2, 0x8000_60C2] as [UInt32] {
            let supported = TEEOperation(.valueInput(algorithm, 0), .valueOutput)
            try crypt.call(.isAlgorithmSupported, supported)
            #expect(supported.value(1)?.a == TEEResult.success.rawValue, "\(String(algorithm, radix: 16))")
        }
        let md5Concat = TEEOperation(.valueInput(0x8000_10C1, 0), .valueOutput)
        try crypt.call(.isAlgorithmSupported, md5Concat)
        #expect(md5Concat.value(1)?.a == TEEResult.notSupported.rawValue, "no Concat KDF over MD5 (OP-TEE has none)")
    }

    /// xtest 4005's sequence for GCM and CCM: init with the lengths, AAD in two pieces, a first
    /// update, a copy, EncryptFinal on both (SHORT_BUFFER for a small tag buffer first, both
    /// sizes reported), DecryptFinal back, and MAC_INVALID for a flipped tag.
    @Test(arguments: [(Algorithm.aesGCM, 12, 16), (.aesGCM, 12, 12), (.aesCCM, 13, 16), (.aesCCM, 7, 4)])
    func aeSequence(algorithm: Algorithm, nonceBytes: Int, tagBytes: Int) throws {
        let crypt = try CryptClient.open(Self.world())
        let key = (0..<16).map { UInt8($0 &* 7) }, nonce = (0..<nonceBytes).map { UInt8($0 &+ 0x40) }
        let aad = Array("header bytes, authenticated".utf8), data = Self.message
        func operation(_ mode: OperationMode) throws -> UInt32 {
            let op = try crypt.allocate(algorithm, mode, maxKeySize: 128)
            try crypt.call(.setOperationKey, TEEOperation(.valueInput(op, try crypt.secretKey(.aes, bits: 128, key))))
            try crypt.call(.aeInit, TEEOperation(.valueInput(op, UInt32(tagBytes)), .tempInput(nonce), .valueInput(UInt32(aad.count), UInt32(data.count))))
            try crypt.call(.aeUpdateAAD, TEEOperation(.valueInput(op), .tempInput(Array(aad.prefix(10)))))
            try crypt.call(.aeUpdateAAD, TEEOperation(.valueInput(op), .tempInput(Array(aad.dropFirst(10)))))
            return op
        }
        let enc = try operation(.encrypt)
        let update = TEEOperation(.valueInput(enc), .tempInput(Array(data.prefix(20))), .tempOutput(capacity: 128))
        try crypt.call(.aeUpdate, update)
        let first = update.output(2) ?? []
        #expect(first.count == (algorithm == .aesCCM ? 16 : 20), "CCM releases whole blocks, GCM every byte")
        let copy = try crypt.allocate(algorithm, .encrypt, maxKeySize: 128)
        try crypt.copy(to: copy, from: enc)
        let short = TEEOperation(.valueInput(enc), .tempInput(Array(data.dropFirst(20))), .tempOutput(capacity: 128), .tempOutput(capacity: tagBytes - 1))
        #expect(clientError { () throws(TEEClientError) in try crypt.call(.aeEncryptFinal, short) } == TEEClientError(.shortBuffer, origin: .trustedApp))
        #expect(short.size(3) == tagBytes)
        func seal(_ op: UInt32) throws -> ([UInt8], [UInt8]) {
            let f = TEEOperation(.valueInput(op), .tempInput(Array(data.dropFirst(20))), .tempOutput(capacity: 128), .tempOutput(capacity: 16))
            try crypt.call(.aeEncryptFinal, f)
            return (first + (f.output(2) ?? []), f.output(3) ?? [])
        }
        let (ciphertext, tag) = try seal(enc)
        #expect(try seal(copy) == (ciphertext, tag), "the copy")
        let reference = try AEComputation(algorithm == .aesGCM ? .gcm : .ccm, direction: .encrypt, key: SecureBytes(key), nonce: nonce,
                                          tagLength: tagBytes, aadLength: aad.count, payloadLength: data.count)
        try reference.updateAAD(aad)
        let sealed = try reference.finalizeEncryption(data)
        #expect(ciphertext == sealed.ciphertext && tag == sealed.tag)
        if algorithm == .aesGCM {
            let mbed = try AESGCM.seal(data, key: SecureBytes(key), iv: nonce, aad: aad, tagLength: tagBytes)
            #expect(ciphertext == mbed.ciphertext && tag == mbed.tag, "and mbedTLS's GCM")
        }
        for flip in [false, true] {
            let dec = try operation(.decrypt)
            let back = TEEOperation(.valueInput(dec), .tempInput(ciphertext), .tempOutput(capacity: 128), .tempInput(flip ? tag.map { $0 ^ 0x80 } : tag))
            if flip {
                #expect(clientError { () throws(TEEClientError) in try crypt.call(.aeDecryptFinal, back) } == TEEClientError(.macInvalid, origin: .trustedApp))
            } else {
                try crypt.call(.aeDecryptFinal, back)
                #expect(back.output(2) == data)
            }
        }
        // GP's GCM tag lengths: 96…128 bits.
        let gcm = try crypt.allocate(.aesGCM, .encrypt, maxKeySize: 128)
        try crypt.call(.setOperationKey, TEEOperation(.valueInput(gcm, try crypt.secretKey(.aes, bits: 128, key))))
        #expect(clientError { () throws(TEEClientError) in
            try crypt.call(.aeInit, TEEOperation(.valueInput(gcm, 8), .tempInput(nonce), .valueInput(0, 0)))
        } == TEEClientError(.notSupported, origin: .trustedApp))
    }

    /// RSA through the crypt TA, as xtest 4006/4007/4011 drive it: a 512-bit key generated and
    /// read back (CRT attributes included), NOPAD both ways (leading zeros dropped, as OP-TEE
    /// gives it), PKCS#1 v1.5 and PSS (salt attribute) over each hash, OAEP with a label, an
    /// MGF1 hash other than the label's refused as NOT_SUPPORTED; signatures checked by TEECrypto.
    @Test func rsaThroughTheTA() throws {
        let crypt = try CryptClient.open(Self.world())
        let allocate = TEEOperation(.valueInput(ObjectType.rsaKeyPair.rawValue, 512), .valueOutput)
        try crypt.call(.allocateTransientObject, allocate)
        let pair = allocate.value(1)!.a
        try crypt.call(.generateKey, TEEOperation(.valueInput(pair, 512), .tempInput([])))
        func attribute(_ id: UInt32) throws -> [UInt8] {
            let op = TEEOperation(.valueInput(pair, id), .tempOutput(capacity: 512))
            try crypt.call(.getObjectBufferAttribute, op)
            return op.output(1) ?? []
        }
        let n = try attribute(AttributeID.rsaModulus), e = try attribute(AttributeID.rsaPublicExponent)
        #expect(n.count == 64 && e == [1, 0, 1])
        for id in [AttributeID.rsaPrivateExponent, AttributeID.rsaPrime1, AttributeID.rsaPrime2, AttributeID.rsaExponent1, AttributeID.rsaExponent2, AttributeID.rsaCoefficient] {
            let value = try attribute(id)
            #expect(!value.isEmpty && value.count <= 64 && value.contains { $0 != 0 }, "attribute 0x\(String(id, radix: 16))")
        }
        let publicKey = try RSAPublicKey(modulus: n, publicExponent: e, minimumBits: 256)
        func run(_ algorithm: Algorithm, _ mode: OperationMode, _ command: CryptTA.Command, attributes: [UInt8] = [], _ input: [UInt8], capacity: Int = 64) throws(TEEClientError) -> [UInt8] {
            let op = try crypt.allocate(algorithm, mode, maxKeySize: 512)
            try crypt.call(.setOperationKey, TEEOperation(.valueInput(op, pair)))
            let call = TEEOperation(.valueInput(op), .tempInput(attributes), .tempInput(input), .tempOutput(capacity: capacity))
            try crypt.call(command, call)
            return call.output(3) ?? []
        }
        // NOPAD: c = m^e; m back; a small m gives a short c only by chance, so check m = 2 round trips.
        let encrypted = try run(.rsaNoPad, .encrypt, .asymmetricEncrypt, [2])
        #expect(try run(.rsaNoPad, .decrypt, .asymmetricDecrypt, encrypted) == [2], "leading zeros dropped")
        for (algorithm, hash, pss) in [(Algorithm.rsaPKCS1v15SHA1, DigestAlgorithm.sha1, false), (.rsaPKCS1v15SHA224, .sha224, false), (.rsaPKCS1v15MD5, .md5, false),
                                       (.rsaPSSSHA1, .sha1, true), (.rsaPSSSHA256, .sha256, true)] {
            let digest = Digest.hash(hash, Self.message)
            let salt = CryptTA.packAttributes([(id: AttributeID.rsaPSSSaltLength, value: (10, 0), bytes: nil)])
            let signature = try run(algorithm, .sign, .asymmetricSignDigest, attributes: pss ? salt : [], digest.bytes)
            try publicKey.verify(signature: signature, for: digest, padding: pss ? .pss(saltLength: .exactly(10)) : .pkcs1v15)
            let verify = try crypt.allocate(algorithm, .verify, maxKeySize: 512)
            try crypt.call(.setOperationKey, TEEOperation(.valueInput(verify, pair)))
            try crypt.call(.asymmetricVerifyDigest, TEEOperation(.valueInput(verify), .tempInput(pss ? salt : []), .tempInput(digest.bytes), .tempInput(signature)))
            var bad = signature
            bad[5] ^= 1
            #expect(clientError { () throws(TEEClientError) in
                try crypt.call(.asymmetricVerifyDigest, TEEOperation(.valueInput(verify), .tempInput(pss ? salt : []), .tempInput(digest.bytes), .tempInput(bad)))
            } == TEEClientError(.signatureInvalid, origin: .trustedApp))
        }
        let label = CryptTA.packAttributes([(id: AttributeID.rsaOAEPLabel, value: nil, bytes: Array("label".utf8))])
        let sealed = try run(.rsaesOAEPSHA1, .encrypt, .asymmetricEncrypt, attributes: label, Array("secret".utf8))
        #expect(try run(.rsaesOAEPSHA1, .decrypt, .asymmetricDecrypt, attributes: label, sealed) == Array("secret".utf8))
        #expect(clientError { () throws(TEEClientError) in _ = try run(.rsaesOAEPSHA1, .decrypt, .asymmetricDecrypt, sealed) } == TEEClientError(.badParameters, origin: .trustedApp), "the wrong label")
        let mgfSHA256 = CryptTA.packAttributes([(id: AttributeID.rsaOAEPMGFHash, value: nil, bytes: [0x04, 0x00, 0x00, 0x50])])
        #expect(clientError { () throws(TEEClientError) in _ = try run(.rsaesOAEPSHA1, .decrypt, .asymmetricDecrypt, attributes: mgfSHA256, sealed) } == TEEClientError(.notSupported, origin: .trustedApp))
    }

    /// DH through the crypt TA as xtest 4007_dh and 4008 drive it: generate in a group with
    /// X_BITS and read every attribute back, then derive both ways into GENERIC_SECRETs.
    @Test func dhThroughTheTA() throws {
        let crypt = try CryptClient.open(Self.world())
        // RFC 5114 A.1's group (1024-bit p, 160-bit q): Tests/Vectors/DH_RFC5114.txt.
        let p = Array(hex: "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B616073E28675A23D189838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BFACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371")
        let g = Array(hex: "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31266FEA1E5C41564B777E690F5504F213160217B4B01B886A5E91547F9E2749F4D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F531DBF0A0169B6A28AD662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5")
        func generate() throws -> UInt32 {
            let allocate = TEEOperation(.valueInput(ObjectType.dhKeyPair.rawValue, 1024), .valueOutput)
            try crypt.call(.allocateTransientObject, allocate)
            let key = allocate.value(1)!.a
            let group = CryptTA.packAttributes([(id: AttributeID.dhPrime, value: nil, bytes: p), (id: AttributeID.dhBase, value: nil, bytes: g),
                                                (id: AttributeID.dhXBits, value: (160, 0), bytes: nil)])
            try crypt.call(.generateKey, TEEOperation(.valueInput(key, 1024), .tempInput(group)))
            return key
        }
        func attribute(_ key: UInt32, _ id: UInt32) throws -> [UInt8] {
            let op = TEEOperation(.valueInput(key, id), .tempOutput(capacity: 256))
            try crypt.call(.getObjectBufferAttribute, op)
            return op.output(1) ?? []
        }
        let a = try generate(), b = try generate()
        let prime = try attribute(a, AttributeID.dhPrime), base = try attribute(a, AttributeID.dhBase)
        #expect(prime == p && base == g)
        #expect(try attribute(a, AttributeID.dhPrivateValue).count == 20)
        let xBits = TEEOperation(.valueInput(a, AttributeID.dhXBits), .valueOutput)
        try crypt.call(.getObjectValueAttribute, xBits)
        #expect(xBits.value(1)?.a == 160)
        func derive(_ mine: UInt32, _ peer: UInt32) throws -> [UInt8] {
            let op = try crypt.allocate(.dhDeriveSharedSecret, .derive, maxKeySize: 1024)
            try crypt.call(.setOperationKey, TEEOperation(.valueInput(op, mine)))
            let secret = TEEOperation(.valueInput(ObjectType.genericSecret.rawValue, 1024), .valueOutput)
            try crypt.call(.allocateTransientObject, secret)
            let peerValue = CryptTA.packAttributes([(id: AttributeID.dhPublicValue, value: nil, bytes: try attribute(peer, AttributeID.dhPublicValue))])
            try crypt.call(.deriveKey, TEEOperation(.valueInput(op, secret.value(1)!.a), .tempInput(peerValue)))
            return try attribute(secret.value(1)!.a, AttributeID.secretValue)
        }
        let ab = try derive(a, b), ba = try derive(b, a)
        #expect(!ab.isEmpty && ab == ba)
    }

    /// DSA through the crypt TA as xtest 4006_dsa and 4007_dsa drive it: generate in a domain
    /// (TEE_GenerateKey with P, Q, G), sign, verify with the public half, refuse a changed
    /// signature; OP-TEE's size rule for DSA-SHA1 (512…1024 bits in steps of 64).
    @Test func dsaThroughTheTA() throws {
        let crypt = try CryptClient.open(Self.world())
        // The 1024-bit domain of NIST's FIPS 186-3 SigVer vectors (Tests/Vectors/DSA_SigVer_186-3.rsp).
        let lines = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/DSA_SigVer_186-3.rsp"), encoding: .utf8).split(separator: "\n")
        func field(_ name: String) -> [UInt8] { Array(hex: String(lines.first { $0.hasPrefix(name + " = ") }!.dropFirst(name.count + 3))) }
        let p = field("P"), q = field("Q"), g = field("G")
        let allocate = TEEOperation(.valueInput(ObjectType.dsaKeyPair.rawValue, 1024), .valueOutput)
        try crypt.call(.allocateTransientObject, allocate)
        let pair = allocate.value(1)!.a
        let domain = CryptTA.packAttributes([(id: AttributeID.dsaPrime, value: nil, bytes: p), (id: AttributeID.dsaSubprime, value: nil, bytes: q),
                                             (id: AttributeID.dsaBase, value: nil, bytes: g)])
        try crypt.call(.generateKey, TEEOperation(.valueInput(pair, 1024), .tempInput(domain)))
        let digest = Digest.hash(.sha1, Self.message).bytes
        let sign = try crypt.allocate(.dsaSHA1, .sign, maxKeySize: 1024)
        try crypt.call(.setOperationKey, TEEOperation(.valueInput(sign, pair)))
        let signed = TEEOperation(.valueInput(sign), .tempInput([]), .tempInput(digest), .tempOutput(capacity: 64))
        try crypt.call(.asymmetricSignDigest, signed)
        let signature = try #require(signed.output(3))
        #expect(signature.count == 40)
        // The public half, copied from the pair, verifies.
        let publicAllocate = TEEOperation(.valueInput(ObjectType.dsaPublicKey.rawValue, 1024), .valueOutput)
        try crypt.call(.allocateTransientObject, publicAllocate)
        try crypt.call(.copyObjectAttributes, TEEOperation(.valueInput(publicAllocate.value(1)!.a, pair)))
        let verify = try crypt.allocate(.dsaSHA1, .verify, maxKeySize: 1024)
        try crypt.call(.setOperationKey, TEEOperation(.valueInput(verify, publicAllocate.value(1)!.a)))
        try crypt.call(.asymmetricVerifyDigest, TEEOperation(.valueInput(verify), .tempInput([]), .tempInput(digest), .tempInput(signature)))
        var bad = signature
        bad[39] ^= 1
        #expect(clientError { () throws(TEEClientError) in
            try crypt.call(.asymmetricVerifyDigest, TEEOperation(.valueInput(verify), .tempInput([]), .tempInput(digest), .tempInput(bad)))
        } == TEEClientError(.signatureInvalid, origin: .trustedApp))
        for size in [UInt32(448), 1088, 2048] {
            #expect(clientError { () throws(TEEClientError) in _ = try crypt.allocate(.dsaSHA1, .sign, maxKeySize: size) } == TEEClientError(.notSupported, origin: .trustedApp))
        }
    }

    static let ciphers: [Algorithm: (BlockCipherAlgorithm, CipherComputation.Mode)] = [
        .aesECBNoPad: (.aes, .ecb), .aesCBCNoPad: (.aes, .cbc), .aesCTR: (.aes, .ctr), .aesCTS: (.aes, .cts), .aesXTS: (.aes, .xts),
        .desECBNoPad: (.des, .ecb), .desCBCNoPad: (.des, .cbc), .des3ECBNoPad: (.des3, .ecb), .des3CBCNoPad: (.des3, .cbc),
    ]

    static func referenceMAC(_ algorithm: Algorithm, key: [UInt8], _ message: [UInt8]) throws -> [UInt8] {
        let table: [Algorithm: MACAlgorithm] = [
            .hmacMD5: .hmac(.md5), .hmacSHA1: .hmac(.sha1), .hmacSHA224: .hmac(.sha224), .hmacSHA256: .hmac(.sha256), .hmacSHA512: .hmac(.sha512),
            .aesCMAC: .cmac(.aes), .des3CMAC: .cmac(.des3), .aesCBCMACNoPad: .cbcMAC(.aes, pkcs5: false), .aesCBCMACPKCS5: .cbcMAC(.aes, pkcs5: true),
            .desCBCMACNoPad: .cbcMAC(.des, pkcs5: false), .desCBCMACPKCS5: .cbcMAC(.des, pkcs5: true), .des3CBCMACPKCS5: .cbcMAC(.des3, pkcs5: true),
        ]
        let mac = try MACComputation(table[algorithm]!, key: SecureBytes(key), backend: .mbedTLS)
        mac.update(message)
        return try mac.finalize()
    }

    /// TEE_GetOperationInfo's 32 bytes, as a C TA's caller reads them, through a digest's life.
    @Test func operationInfo() throws {
        let crypt = try CryptClient.open(Self.world())
        let op = try crypt.allocate(.sha384, .digest, maxKeySize: 0)
        // algorithm, class DIGEST, mode DIGEST, digest length, max key, key size, usage, handle state KEY_SET|INITIALIZED
        #expect(try crypt.info(op) == [Algorithm.sha384.rawValue, 5, 5, 48, 0, 0, 0, 0x0006_0000])
        try crypt.update(op, [1])
        _ = try crypt.extract(op, capacity: 1)
        #expect(try crypt.info(op)[7] == 0x0016_0000, "EXTRACTING joins the handle state")
        let mac = try crypt.allocate(.hmacSHA256, .mac, maxKeySize: 256)
        #expect(try crypt.info(mac) == [Algorithm.hmacSHA256.rawValue, 3, 4, 32, 256, 0, KeyUsage.mac.rawValue, 0])
        let short = TEEOperation(.valueInput(op), .tempOutput(capacity: 31))
        #expect(clientError { () throws(TEEClientError) in try crypt.call(.getOperationInfo, short) } == TEEClientError(.shortBuffer, origin: .trustedApp))
    }

    /// TEE_IsAlgorithmSupported as xtest asks it: SM3 and the Edwards curves are not here, every
    /// digest is, a curve element is checked.
    @Test func algorithmSupport() throws {
        let crypt = try CryptClient.open(Self.world())
        func supported(_ algorithm: UInt32, _ element: UInt32 = 0) throws -> Bool {
            let op = TEEOperation(.valueInput(algorithm, element), .valueOutput)
            try crypt.call(.isAlgorithmSupported, op)
            return op.value(1)!.a == TEEResult.success.rawValue
        }
        for algorithm in [Algorithm.md5, .sha1, .sha224, .sha256, .sha3_512, .shake256, .hmacSHA256, .aesECBNoPad, .aesGCM] {
            #expect(try supported(algorithm.rawValue), "0x\(String(algorithm.rawValue, radix: 16))")
        }
        #expect(try !supported(Algorithm.sm3.rawValue))
        #expect(try !supported(0x7000_6043))   // TEE_ALG_ED25519
        #expect(try supported(Algorithm.ecdsaP256.rawValue, ECCCurveID.p256))
        #expect(try !supported(Algorithm.ecdsaP256.rawValue, 0x300))   // TEE_ECC_CURVE_25519
        try crypt.call(.allocateOperation, TEEOperation(.valueInout(0, Algorithm.sha256.rawValue), .valueInput(OperationMode.digest.rawValue, 0)))
        #expect(clientError { () throws(TEEClientError) in
            try crypt.call(.allocateOperation, TEEOperation(.valueInout(0, 0x1234_5678), .valueInput(OperationMode.digest.rawValue, 0)))
        } == TEEClientError(.notSupported, origin: .trustedApp))
    }

    /// xtest 1004's fixed-key AES-256 ECB and SHA-256, and 4004's random numbers.
    @Test func xtest1004AndRandom() throws {
        let crypt = try CryptClient.open(Self.world())
        let input = Array(0..<32).map { UInt8($0) }
        let enc = TEEOperation(.tempInput(input), .tempOutput(capacity: 32))
        try crypt.call(.aes256ECBEncrypt, enc)
        // xtest 1004 "AES-256 ECB encrypt (32B, fixed key)": its expected bytes.
        #expect(enc.output(1) == [0x5A, 0x6E, 0x04, 0x57, 0x08, 0xFB, 0x71, 0x96, 0xF0, 0x2E, 0x55, 0x3D, 0x02, 0xC3, 0xA6, 0x92,
                                  0xE9, 0xC3, 0xEF, 0x8A, 0xB2, 0x34, 0x53, 0xE6, 0xF0, 0x74, 0x9C, 0xD6, 0x36, 0xE7, 0xA8, 0x8E])
        let dec = TEEOperation(.tempInput(enc.output(1)!), .tempOutput(capacity: 32))
        try crypt.call(.aes256ECBDecrypt, dec)
        #expect(dec.output(1) == input)
        let sha = TEEOperation(.tempInput(Array("abc".utf8)), .tempOutput(capacity: 32))
        try crypt.call(.sha256, sha)
        #expect(sha.output(1) == Digest.hash(.sha256, Array("abc".utf8)).bytes)
        let shortSHA = TEEOperation(.tempInput([1]), .tempOutput(capacity: 27))
        #expect(clientError { () throws(TEEClientError) in try crypt.call(.sha224, shortSHA) } == TEEClientError(.badParameters, origin: .trustedApp))
        let random1 = TEEOperation(.tempOutput(capacity: 64)), random2 = TEEOperation(.tempOutput(capacity: 64))
        try crypt.call(.randomNumberGenerate, random1)
        try crypt.call(.randomNumberGenerate, random2)
        #expect(random1.output(0) != random2.output(0))
        #expect(random1.output(0)?.count == 64)
    }

    /// The packed attribute list: values, references by offset, and a hostile buffer's refusals.
    @Test func attributeUnpacking() throws {
        let packed = CryptTA.packAttributes([(id: AttributeID.secretValue, value: nil, bytes: [1, 2, 3]), (id: AttributeID.eccCurve, value: (3, 0), bytes: nil)])
        let attributes = try CryptTAImplementation.unpackAttributes(packed)
        #expect(attributes == [.ref(AttributeID.secretValue, [1, 2, 3]), .value(AttributeID.eccCurve, a: 3, b: 0)])
        func le(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let hostile: [(String, [UInt8])] = [
            ("a count larger than the buffer holds", le(1_000_000) + [UInt8](repeating: 0, count: 12)),
            ("a truncated count", [1, 0]),
            ("a reference past the end", le(1) + le(AttributeID.secretValue) + le(16) + le(1)),
            ("a reference whose offset plus length wraps", le(1) + le(AttributeID.secretValue) + le(8) + le(0xFFFF_FFFF)),
        ]
        for (name, bytes) in hostile {
            #expect(throws: TEEResult.badParameters, "\(name)") { try CryptTAImplementation.unpackAttributes(bytes) }
        }
    }
}

/// GP's panics on misuse, through the crypt TA: each ends the (embedded) process naming the
/// reason. Exit tests run each in a child process.
@Suite struct CryptTAPanicTests {
    static func run(_ body: (CryptClient) throws -> Void) throws {
        try body(try CryptClient.open(CryptTATests.world()))
    }

    @Test(arguments: [
        ("an unknown operation handle", 0),
        ("DigestUpdate after DigestExtract", 1),
        ("DigestDoFinal with data after DigestExtract", 2),
        ("CopyOperation between algorithms", 3),
        ("DigestUpdate on a MAC operation", 4),
        ("ResetOperation before a MAC key is set", 5),
        ("CipherDoFinal of AES-CBC-NOPAD with a partial block", 6),
        ("a key larger than its object's maximum (xtest 4010)", 7),
        ("an EC key of a larger curve than its object's maximum", 8),
    ])
    func misusePanics(name: String, index: Int) async throws {
        let expected = ["invalid handle 0x9", "TEE_DigestUpdate after TEE_DigestExtract", "TEE_DigestDoFinal with data after TEE_DigestExtract",
                        "different algorithms or modes", "not a digest", "before a key was set", "is not a whole number of 16-byte blocks", "a 8192-bit key in an object of at most 1024 bits", "a P-384 key in an object of at most 256 bits"][index]
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [index] in
            try CryptTAPanicTests.run { crypt in
                switch index {
                case 0: try crypt.update(9, [1])
                case 1, 2:
                    let op = try crypt.allocate(.sha256, .digest)
                    _ = try crypt.extract(op, capacity: 1)
                    if index == 1 { try crypt.update(op, [1]) } else { _ = try crypt.doFinal(op, [1], capacity: 32) }
                case 3: try crypt.copy(to: try crypt.allocate(.sha256, .digest), from: try crypt.allocate(.sha512, .digest))
                case 4: try crypt.update(try crypt.allocate(.hmacSHA256, .mac, maxKeySize: 256), [1])
                case 5: try crypt.call(.resetOperation, TEEOperation(.valueInput(try crypt.allocate(.hmacSHA256, .mac, maxKeySize: 256))))
                case 7: _ = try crypt.secretKey(.hmacSHA256, bits: 1024, [UInt8](repeating: 1, count: 1024))
                case 8:
                    let allocate = TEEOperation(.valueInput(ObjectType.ecdsaPublicKey.rawValue, 256), .valueOutput)
                    try crypt.call(.allocateTransientObject, allocate)
                    let attributes = CryptTA.packAttributes([(id: AttributeID.eccCurve, value: (ECCCurveID.p384, 0), bytes: nil),
                                                             (id: AttributeID.eccPublicX, value: nil, bytes: [1]), (id: AttributeID.eccPublicY, value: nil, bytes: [2])])
                    try crypt.call(.populateTransientObject, TEEOperation(.valueInput(allocate.value(1)!.a), .tempInput(attributes)))
                default:
                    let op = try crypt.allocate(.aesCBCNoPad, .encrypt, maxKeySize: 128)
                    let key = TEEOperation(.valueInput(ObjectType.aes.rawValue, 128), .valueOutput)
                    try crypt.call(.allocateTransientObject, key)
                    let object = key.value(1)!.a
                    let attributes = CryptTA.packAttributes([(id: AttributeID.secretValue, value: nil, bytes: [UInt8](repeating: 7, count: 16))])
                    try crypt.call(.populateTransientObject, TEEOperation(.valueInput(object), .tempInput(attributes)))
                    try crypt.call(.setOperationKey, TEEOperation(.valueInput(op, object)))
                    try crypt.call(.cipherInit, TEEOperation(.valueInput(op), .tempInput([UInt8](repeating: 0, count: 16))))
                    try crypt.call(.cipherDoFinal, TEEOperation(.valueInput(op), .tempInput([UInt8](repeating: 1, count: 20)), .tempOutput(capacity: 32)))
                }
            }
        }
        let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("panicked"), "\(name): \(stderr)")
        #expect(stderr.contains(expected), "\(name): \(stderr)")
    }
}

/// TEE_GetOperationInfoMultiple and TEE_GetObjectInfo1 (no TA command carries them in xtest's
/// crypt TA: the Internal API directly).
@Suite struct OperationInfoMultipleTests {
    @Test func keysAndLayout() throws {
        let digest = try CryptoOperation(algorithm: .sha256, mode: .digest)
        let d = try digest.operationInfoMultiple(capacity: 32)
        #expect(d.keys.isEmpty && d.operationState == .initial && d.encoded.count == 32)
        #expect(throws: TEEResult.badParameters) { try digest.operationInfoMultiple(capacity: 31) }

        let xts = try CryptoOperation(algorithm: .aesXTS, mode: .encrypt, maxKeySize: 256)
        #expect(throws: TEEResult.shortBuffer) { try xts.operationInfoMultiple(capacity: 40) }
        let k1 = try TransientObject(type: .aes, maxKeySize: 128), k2 = try TransientObject(type: .aes, maxKeySize: 128)
        try k1.populate([.ref(AttributeID.secretValue, [UInt8](repeating: 1, count: 16))])
        try k2.populate([.ref(AttributeID.secretValue, [UInt8](repeating: 2, count: 16))])
        try xts.setOperationKey2(k1, k2)
        let x = try xts.operationInfoMultiple(capacity: 48)
        #expect(x.keys.map(\.keySize) == [128, 128] && x.keys.allSatisfy { $0.requiredKeyUsage == .encrypt })
        #expect(x.encoded.count == 48 && Array(x.encoded[28..<32]) == [2, 0, 0, 0], "numberOfKeys")
        #expect(x.handleState.contains(.keySet) && x.handleState.contains(.expectTwoKeys))

        #expect(k1.info == ObjectInfo(objectType: .aes, objectSize: 128, maxObjectSize: 128, objectUsage: .all, handleFlags: .initialized))
        k1.restrictUsage([.encrypt, .decrypt])
        #expect(k1.info.objectUsage == [.encrypt, .decrypt])
        k1.reset()
        #expect(k1.info == ObjectInfo(objectType: .aes, objectSize: 0, maxObjectSize: 128, objectUsage: .all, handleFlags: []))
    }
}

/// FuzzCryptAttributes' seeds and fail cases through the harness's own check: every seed decodes,
/// and whatever decodes re-packs to the same list.
@Suite struct CryptAttributeFuzzReplayTests {
    @Test func seedsAndFailCases() throws {
        var count = 0
        for kind in ["Seeds", "FailCases"] {
            let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fuzz/\(kind)/crypt-attributes")
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where !name.hasPrefix(".") {
                let bytes = Array(try Data(contentsOf: dir.appendingPathComponent(name)))
                let decoded = try? CryptTAImplementation.unpackAttributes(bytes)
                if kind == "Seeds" { #expect(decoded != nil, "seed \(name) decodes") }
                if let decoded {
                    let repacked = CryptTA.packAttributes(decoded.map { ($0.id, $0.value, $0.buffer) })
                    #expect((try? CryptTAImplementation.unpackAttributes(repacked)) == decoded, "\(kind)/\(name)")
                }
                count += 1
            }
        }
        #expect(count >= 6)
    }
}

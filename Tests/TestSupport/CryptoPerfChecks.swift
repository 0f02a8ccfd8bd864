import OPTEETestTAInterface
import TEEClient
import TEECore
import TEECrypto

/// What `xtest --aes-perf`, `--hash-perf` and `--asym-perf` do with the crypto_perf TA port, the
/// same calls in the same order, with the outputs checked (xtest only times them): embedded by
/// SecureWorldTests, across processes by DaemonTests. The buffers are the client's allocated
/// shared memory, as xtest's are. Throws the first check that fails.
public enum CryptoPerfChecks {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    static func check(_ ok: Bool, _ what: @autoclosure () -> String) throws { if !ok { throw Failure(description: what()) } }

    /// The call's result code: success, or the error's.
    static func result(_ body: () throws(TEEClientError) -> Void) -> TEEResult {
        do throws(TEEClientError) {
            try body()
            return .success
        } catch {
            return error.result
        }
    }

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = [], chars = Array(text.utf8)
        while chars.count >= 2 {
            bytes.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
            chars.removeFirst(2)
        }
        return bytes
    }

    typealias Command = CryptoPerfTA.Command

    static func prepareKey(_ s: TEESession, _ mode: CryptoPerfTA.CipherMode, bits: UInt32, decrypt: Bool) throws(TEEClientError) {
        try s.invoke(Command.cipherPrepareKey.rawValue, TEEOperation(.valueInput(decrypt ? 1 : 0, bits), .valueInput(mode.rawValue)))
    }

    /// One timed call as xtest makes it: in and out are partial in/out references to two
    /// allocated shared memories of `input.count` bytes.
    static func process(_ client: TEEContext, _ s: TEESession, _ input: [UInt8], times: UInt32 = 1, unit: UInt32 = 0) throws -> [UInt8] {
        let inShm = try client.allocateSharedMemory(size: input.count, flags: [.input, .output])
        let outShm = try client.allocateSharedMemory(size: input.count, flags: [.input, .output])
        try inShm.write(input)
        try s.invoke(Command.cipherProcess.rawValue, TEEOperation(.partial(.memrefPartialInout, inShm, offset: 0, size: input.count),
                                                                  .partial(.memrefPartialInout, outShm, offset: 0, size: input.count),
                                                                  .valueInput(times, unit)))
        return outShm.bytes
    }

    /// `--aes-perf`: every AES mode encrypts what the reference computes — with updates of the
    /// whole buffer and of 512 bytes, two calls continuing one stream — and decrypts it back;
    /// FIPS-197's known answers for ECB; the refusals.
    public static func aesPerf(_ client: TEEContext) throws {
        let s = try client.openSession(CryptoPerfTA.uuid)
        defer { s.close() }
        // FIPS-197 (public domain, NIST), appendix C.1 and C.3: the plaintext 00112233…ff under
        // the keys 00 01 … 0f and 00 01 … 1f — the TA's fixed key cut to 128 and 256 bits.
        let block = hex("00112233445566778899aabbccddeeff")
        for (bits, expected) in [(UInt32(128), "69c4e0d86a7b0430d8cdb78070b4c55a"), (256, "8ea2b7ca516745bfeafc49904b496089")] {
            try prepareKey(s, .aesECB, bits: bits, decrypt: false)
            try check(try process(client, s, block) == hex(expected), "AES-\(bits)-ECB of FIPS-197's block")
        }
        let input = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        for bits in [UInt32(128), 192, 256] {
            let key = SecureBytes(Array(CryptoPerfTA.cipherKey.prefix(Int(bits) / 8)))
            let references: [(CryptoPerfTA.CipherMode, [UInt8])] = [
                (.aesECB, try AESCipher.process(mode: .ecb, direction: .encrypt, key: key, iv: [], data: input + input)),
                (.aesCBC, try AESCipher.process(mode: .cbc, direction: .encrypt, key: key, iv: CryptoPerfTA.iv, data: input + input)),
                (.aesCTR, try AESCipher.process(mode: .ctr, direction: .encrypt, key: key, iv: CryptoPerfTA.iv, data: input + input)),
                (.aesGCM, try AESGCM.seal(input + input, key: key, iv: CryptoPerfTA.iv).ciphertext),
            ]
            for (mode, reference) in references {
                for unit in [UInt32(0), 512] {
                    try prepareKey(s, mode, bits: bits, decrypt: false)
                    let first = try process(client, s, input, unit: unit), second = try process(client, s, input, unit: unit)
                    try check(first + second == reference, "AES-\(bits) \(mode), updates of \(unit == 0 ? "the whole buffer" : "\(unit) bytes"): two calls are one stream")
                }
                guard mode != .aesGCM else { continue }   // GCM decrypts only with its tag: not what the TA times
                try prepareKey(s, mode, bits: bits, decrypt: true)
                try check(try process(client, s, Array(reference.prefix(input.count))) == input, "AES-\(bits) \(mode) decrypts")
            }
            guard bits != 192 else { continue }   // XTS takes two 128- or two 256-bit keys
            // An XTS update holds its last two blocks back for the final one's ciphertext
            // stealing (as OP-TEE's does): a call releases 32 bytes less than it takes, the next
            // call releases them first.
            try prepareKey(s, .aesXTS, bits: bits, decrypt: false)
            let first = try process(client, s, input), second = try process(client, s, input)
            try check(first.suffix(32) == [UInt8](repeating: 0, count: 32), "AES-\(bits)-XTS holds two blocks back")
            let sealed = Array(first.prefix(input.count - 32)) + second
            try check(Array(sealed.prefix(input.count)) != input, "AES-\(bits)-XTS encrypts")
            try prepareKey(s, .aesXTS, bits: bits, decrypt: true)
            let opened = Array(try process(client, s, Array(sealed.prefix(input.count))).prefix(input.count - 32))
                + (try process(client, s, Array(sealed.suffix(from: input.count)) + [UInt8](repeating: 0, count: 32)))
            try check(opened == Array((input + input).prefix(sealed.count)), "AES-\(bits)-XTS decrypts")
        }
        // Three passes over the buffer in one call: the stream goes on from where it was, each
        // pass from the start of the input; the output holds the last.
        try prepareKey(s, .aesCTR, bits: 128, decrypt: false)
        let key = SecureBytes(Array(CryptoPerfTA.cipherKey.prefix(16)))
        let stream = try AESCipher.process(mode: .ctr, direction: .encrypt, key: key, iv: CryptoPerfTA.iv, data: input + input + input)
        try check(try process(client, s, input, times: 3, unit: 1000) == Array(stream.suffix(input.count)), "three passes, updates of 1000 bytes")

        try check(result { () throws(TEEClientError) in try prepareKey(s, .aesECB, bits: 100, decrypt: false) } == .notSupported, "a 100-bit AES key")
        try check(result { () throws(TEEClientError) in try prepareKey(s, .sm4ECB, bits: 128, decrypt: false) } == .notSupported, "SM4 (not in rproc-tee's GP API)")
        try check(result { () throws(TEEClientError) in try s.invoke(Command.cipherPrepareKey.rawValue, TEEOperation(.valueInput(0, 128), .valueInput(9))) } == .badParameters, "an unknown mode")
        try prepareKey(s, .aesCBC, bits: 128, decrypt: false)
        let short = try client.allocateSharedMemory(size: 32, flags: [.input, .output])
        try check(result { () throws(TEEClientError) in try s.invoke(Command.cipherProcess.rawValue, TEEOperation(.partial(.memrefPartialInout, short, offset: 0, size: 32),
                                                                                                             .partial(.memrefPartialInout, short, offset: 0, size: 16),
                                                                                                             .valueInput(1, 0))) } == .shortBuffer, "an output smaller than the input")
        try check(result { () throws(TEEClientError) in try s.invoke(Command.cipherProcess.rawValue, TEEOperation(.valueInput(1, 0))) } == .badParameters, "wrong parameter types")
        try check(result { () throws(TEEClientError) in try s.invoke(Command.cipherProcessSDP.rawValue, TEEOperation()) } == .notSupported, "secure data path buffers")
        try check(result { () throws(TEEClientError) in try s.invoke(99, TEEOperation()) } == .badParameters, "an unknown command")
    }

    /// `--hash-perf`: each digest and HMAC of the input past xtest's offset, computed several
    /// times in one call, against FIPS 180-2's known answer and the reference; the refusals.
    public static func hashPerf(_ client: TEEContext) throws {
        let s = try client.openSession(CryptoPerfTA.uuid)
        defer { s.close() }
        func digest(_ algorithm: CryptoPerfTA.HashAlgorithm, _ message: [UInt8], offset: Int, times: UInt32 = 3, capacity: Int = 64) throws -> [UInt8] {
            try s.invoke(Command.hashPrepareOperation.rawValue, TEEOperation(.valueInput(algorithm.rawValue)))
            let inShm = try client.allocateSharedMemory(size: offset + message.count, flags: [.input])
            let outShm = try client.allocateSharedMemory(size: capacity, flags: [.output])
            try inShm.write([UInt8](repeating: 0xEE, count: offset) + message)
            try s.invoke(Command.hashProcess.rawValue, TEEOperation(.partial(.memrefPartialInput, inShm, offset: 0, size: offset + message.count),
                                                                    .partial(.memrefPartialOutput, outShm, offset: 0, size: capacity),
                                                                    .valueInput(times, UInt32(offset))))
            return outShm.bytes
        }
        // FIPS 180-2 (public domain, NIST), appendix B.1: SHA-256("abc").
        let abc = Array("abc".utf8)
        let known = hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        try check(Array(try digest(.sha256, abc, offset: 5, capacity: 32)) == known, "SHA-256(\"abc\") past an offset of 5")
        let message = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let digests: [(CryptoPerfTA.HashAlgorithm, DigestAlgorithm)] = [(.sha1, .sha1), (.sha224, .sha224), (.sha256, .sha256), (.sha384, .sha384), (.sha512, .sha512)]
        for (algorithm, reference) in digests {
            let expected = Digest.hash(reference, message).bytes
            try check(Array(try digest(algorithm, message, offset: 16).prefix(expected.count)) == expected, "\(algorithm)")
        }
        let macs: [(CryptoPerfTA.HashAlgorithm, DigestAlgorithm)] = [(.hmacSHA1, .sha1), (.hmacSHA224, .sha224), (.hmacSHA256, .sha256), (.hmacSHA384, .sha384), (.hmacSHA512, .sha512)]
        for (algorithm, reference) in macs {
            let expected = try HMAC.authenticationCode(reference, key: SecureBytes(CryptoPerfTA.macKey), data: message)
            try check(Array(try digest(algorithm, message, offset: 0).prefix(expected.count)) == expected, "\(algorithm): each pass a whole MAC")
        }
        try check(result { () throws(TEEClientError) in try s.invoke(Command.hashPrepareOperation.rawValue, TEEOperation(.valueInput(CryptoPerfTA.HashAlgorithm.sm3.rawValue))) } == .notSupported, "SM3 (not in rproc-tee's GP API)")
        try check(result { () throws(TEEClientError) in try s.invoke(Command.hashPrepareOperation.rawValue, TEEOperation(.valueInput(12))) } == .badParameters, "an unknown algorithm")
        try s.invoke(Command.hashPrepareOperation.rawValue, TEEOperation(.valueInput(CryptoPerfTA.HashAlgorithm.sha256.rawValue)))
        let eight = try client.allocateSharedMemory(size: 8, flags: [.input, .output])
        try check(result { () throws(TEEClientError) in try s.invoke(Command.hashProcess.rawValue, TEEOperation(.partial(.memrefPartialInput, eight, offset: 0, size: 8),
                                                                                                           .tempOutput(capacity: 32), .valueInput(1, 9))) } == .badParameters, "an offset past the input")
        try check(result { () throws(TEEClientError) in try s.invoke(Command.hashProcess.rawValue, TEEOperation(.partial(.memrefPartialInput, eight, offset: 0, size: 8),
                                                                                                           .tempOutput(capacity: 31), .valueInput(1, 0))) } == .shortBuffer, "a digest buffer of 31 bytes")
    }

    /// `--asym-perf`: RSA-OAEP decrypts what its prepare encrypted, RSA-PSS and ECDSA (OP-TEE's
    /// IDs by curve) verify what theirs signed — the signature in the output reference, as
    /// xtest passes it — and a changed signature is SIGNATURE_INVALID; key pairs are generated
    /// in a loop; the refusals.
    public static func asymPerf(_ client: TEEContext) throws {
        let s = try client.openSession(CryptoPerfTA.uuid)
        defer { s.close() }
        typealias Algorithm = CryptoPerfTA.AsymmetricAlgorithm
        typealias Mode = CryptoPerfTA.AsymmetricMode
        let inShm = try client.allocateSharedMemory(size: 64, flags: [.input, .output])
        let hashShm = try client.allocateSharedMemory(size: 64, flags: [.input, .output])
        let outShm = try client.allocateSharedMemory(size: 512, flags: [.input, .output])
        let message = Array("crypto_perf's message".utf8)
        try inShm.write(message)
        func prepare(_ algorithm: Algorithm, bits: UInt32, mode: Mode, variant: UInt32 = 0, attributes: [UInt8] = []) throws {
            try s.invoke(Command.asymmetricPrepareObject.rawValue, TEEOperation(.valueInput(algorithm.rawValue, bits), .valueInput(mode.rawValue)))
            try s.invoke(Command.asymmetricPrepareKeyPair.rawValue, TEEOperation(.valueInput(bits, mode.rawValue), .valueInput(algorithm.rawValue, variant), .tempInput(attributes)))
        }
        /// PREPARE_HASH into hashShm; returns the digest's size.
        func prepareHash(_ algorithm: Algorithm) throws -> Int {
            let op = TEEOperation(.valueInput(algorithm.rawValue), .partial(.memrefPartialInput, inShm, offset: 0, size: message.count),
                                  .partial(.memrefPartialInout, hashShm, offset: 0, size: 64))
            try s.invoke(Command.asymmetricPrepareHash.rawValue, op)
            return op.size(2) ?? 0
        }
        /// PREPARE_ENC_SIGN of `input` into outShm; returns the output's size.
        func encryptOrSign(_ input: OperationParameter, mode: Mode, attributes: [UInt8] = []) throws -> Int {
            let op = TEEOperation(input, .partial(.memrefPartialOutput, outShm, offset: 0, size: 512), .valueInput(mode.rawValue), .tempInput(attributes))
            try s.invoke(Command.asymmetricPrepareEncryptOrSign.rawValue, op)
            return op.size(1) ?? 0
        }
        func timed(_ mode: Mode, _ input: OperationParameter, _ output: OperationParameter, times: UInt32 = 2) throws(TEEClientError) {
            try s.invoke(Command.asymmetricProcess.rawValue, TEEOperation(.valueInput(times, mode.rawValue), input, output))
        }
        func attributes(_ list: [(id: UInt32, value: (a: UInt32, b: UInt32)?, bytes: [UInt8]?)]) throws {
            try s.invoke(Command.asymmetricPrepareAttributes.rawValue, TEEOperation(.tempInout(CryptTA.packAttributes(list))))
        }

        // RSA-OAEP-SHA256, 1024 bits: the timed decrypt recovers the message.
        try prepare(.rsa, bits: 1024, mode: .decrypt, variant: CryptoPerfTA.RSAMode.oaepSHA256.rawValue)
        let ciphertext = try encryptOrSign(.partial(.memrefPartialInput, inShm, offset: 0, size: message.count), mode: .decrypt)
        try check(ciphertext == 128, "an RSA-1024 ciphertext is 128 bytes, not \(ciphertext)")
        let plain = try client.allocateSharedMemory(size: 128, flags: [.input, .output])
        try timed(.decrypt, .partial(.memrefPartialInput, outShm, offset: 0, size: ciphertext), .partial(.memrefPartialOutput, plain, offset: 0, size: 128))
        try check(Array(plain.bytes.prefix(message.count)) == message, "RSA-OAEP decrypts its prepared ciphertext")
        try prepare(.rsa, bits: 1024, mode: .encrypt, variant: CryptoPerfTA.RSAMode.oaepSHA256.rawValue)
        try timed(.encrypt, .partial(.memrefPartialInput, inShm, offset: 0, size: message.count), .partial(.memrefPartialOutput, plain, offset: 0, size: 128))
        try check(Array(plain.bytes.prefix(message.count)) != message, "and encrypts")

        // RSA-PSS-SHA256 with a salt of 32 bytes, and ECDSA on P-256: the timed verify accepts
        // the prepared signature and refuses it changed.
        let signers: [(Algorithm, UInt32, UInt32, Int, [(id: UInt32, value: (a: UInt32, b: UInt32)?, bytes: [UInt8]?)])] = [
            (.rsa, 1024, CryptoPerfTA.RSAMode.pssSHA256.rawValue, 32, [(id: 0xF000_0A30, value: (32, 0), bytes: nil)]),
            (.ecdsa, 256, 0, 20, [(id: 0xF000_0441, value: (3, 0), bytes: nil)]),
        ]
        for (algorithm, bits, variant, digestSize, extra) in signers {
            let generation = algorithm == .ecdsa ? CryptTA.packAttributes(extra) : []
            try prepare(algorithm, bits: bits, mode: .verify, variant: variant, attributes: generation)
            let size = try prepareHash(algorithm)
            try check(size == digestSize, "\(algorithm): a digest of \(digestSize) bytes, not \(size)")
            let signed = try encryptOrSign(.partial(.memrefPartialInput, hashShm, offset: 0, size: size), mode: .verify,
                                           attributes: algorithm == .rsa ? CryptTA.packAttributes(extra) : [])
            if algorithm == .rsa { try attributes(extra) }
            let digest = OperationParameter.partial(.memrefPartialInput, hashShm, offset: 0, size: size)
            try timed(.verify, digest, .partial(.memrefPartialOutput, outShm, offset: 0, size: signed))
            var changed = outShm.bytes
            changed[signed / 2] ^= 0x01
            try outShm.write(changed)
            try check(result { () throws(TEEClientError) in try timed(.verify, digest, .partial(.memrefPartialOutput, outShm, offset: 0, size: signed)) } == .signatureInvalid,
                      "\(algorithm): a changed signature")
            try s.invoke(Command.asymmetricFreeAttributes.rawValue, TEEOperation())
            // The timed sign, as --asym-perf -m sign does it.
            try prepare(algorithm, bits: bits, mode: .sign, variant: variant, attributes: generation)
            _ = try prepareHash(algorithm)
            if algorithm == .rsa { try attributes(extra) }
            try timed(.sign, digest, .partial(.memrefPartialOutput, outShm, offset: 0, size: 512))
            try s.invoke(Command.asymmetricFreeAttributes.rawValue, TEEOperation())
        }

        // Key pairs in a loop: ECDSA P-256 (its curve an attribute), DH is refused without its
        // domain, X25519 is not in rproc-tee's GP API.
        try s.invoke(Command.asymmetricPrepareObject.rawValue, TEEOperation(.valueInput(Algorithm.ecdsa.rawValue, 256), .valueInput(Mode.generateKeyPair.rawValue)))
        try attributes([(id: 0xF000_0441, value: (3, 0), bytes: nil)])
        try s.invoke(Command.asymmetricProcessGenerateKeyPair.rawValue, TEEOperation(.valueInput(256, 3)))
        try s.invoke(Command.asymmetricFreeAttributes.rawValue, TEEOperation())
        try check(result { () throws(TEEClientError) in
            try s.invoke(Command.asymmetricPrepareObject.rawValue, TEEOperation(.valueInput(Algorithm.x25519.rawValue, 256), .valueInput(Mode.generateKeyPair.rawValue)))
        } == .notSupported, "X25519")
        try check(result { () throws(TEEClientError) in
            try s.invoke(Command.asymmetricPrepareObject.rawValue, TEEOperation(.valueInput(9, 256), .valueInput(0)))
        } == .badParameters, "an unknown algorithm")
        try check(result { () throws(TEEClientError) in
            try s.invoke(Command.asymmetricPrepareKeyPair.rawValue, TEEOperation(.valueInput(1024, Mode.encrypt.rawValue), .valueInput(Algorithm.rsa.rawValue, 99), .tempInput([])))
        } == .badParameters, "an unknown RSA mode")
        try check(result { () throws(TEEClientError) in
            try s.invoke(Command.asymmetricPrepareAttributes.rawValue, TEEOperation(.tempInout([5, 0, 0, 0, 1, 2])))
        } == .badParameters, "attributes that claim more than they hold")
    }
}

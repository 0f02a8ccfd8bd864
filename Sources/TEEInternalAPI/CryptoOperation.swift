import TEECrypto

/// A GP crypto operation (`TEE_AllocateOperation` … `TEE_FreeOperation`) on TEECrypto.
///
/// Output functions follow GP's SHORT_BUFFER rule: `outputLength` carries the caller's capacity
/// in and the produced (or needed) length out; when it is too small the operation's state is
/// unchanged, so the caller can retry with a larger buffer. Programming errors (wrong mode for
/// the function, no key, a digest of the wrong length) panic, as they do in OP-TEE.
public final class CryptoOperation: @unchecked Sendable {
    // @unchecked: an operation belongs to one TA instance, whose entry points never run concurrently.
    public let algorithm: Algorithm
    public let mode: OperationMode
    public let maxKeySize: Int
    /// `TEE_GetOperationInfo`'s answer, kept current by every call.
    public private(set) var info: OperationInfo
    /// `TEE_OPERATION_STATE_*`: initial until data goes in, extracting once a digest is read out.
    public private(set) var state: OperationState = .initial
    private var key: TransientObject?
    /// AES-XTS's tweak key (TEE_SetOperationKey2).
    private var key2: TransientObject?
    private var digest: DigestState?
    private var mac: MACComputation?
    private var cipher: CipherComputation?
    private var ae: AEComputation?
    /// CCM's bytes held back until a block is complete (OP-TEE buffers CCM by blocks).
    private var aePending: [UInt8] = []

    /// NOT_SUPPORTED for an algorithm/mode pair rproc-tee does not implement.
    /// OP-TEE's own IDs for ECDSA and ECDH by curve (`__OPTEE_ALG_ECDSA_P*`, `__OPTEE_ALG_ECDH_P*`)
    /// are taken as OP-TEE takes them: each only with its curve's key size, computed as GP 1.3's
    /// algorithm, reported by `info` as the ID the TA asked for.
    public init(algorithm requested: Algorithm, mode: OperationMode, maxKeySize: Int = 0) throws(TEEResult) {
        var algorithm = requested
        if let (translated, keySize) = requested.opteeCompatibility {
            guard maxKeySize == keySize else { throw .notSupported }
            algorithm = translated
        }
        let allowed: [OperationMode]
        var usage: KeyUsage = []
        switch algorithm {
        case _ where DigestState.Kind(algorithm) != nil: allowed = [.digest]
        case _ where Self.macAlgorithm(algorithm) != nil: allowed = [.mac]; usage = .mac
        case _ where Self.cipherAlgorithm(algorithm) != nil, .aesGCM, .aesCCM: allowed = [.encrypt, .decrypt]; usage = mode == .encrypt ? .encrypt : .decrypt
        case .rsaNoPad: allowed = [.encrypt, .decrypt]; usage = mode == .encrypt ? [.encrypt, .verify] : [.decrypt, .sign]
        case .dsaSHA1, .dsaSHA224, .dsaSHA256:
            // OP-TEE's sizes: SHA-1 with 512…1024 bits in steps of 64, SHA-224 with 2048,
            // SHA-256 with 2048 or 3072.
            let sizes: Bool = switch algorithm {
            case .dsaSHA1: (512...1024).contains(maxKeySize) && maxKeySize % 64 == 0
            case .dsaSHA224: maxKeySize == 2048
            default: maxKeySize == 2048 || maxKeySize == 3072
            }
            guard sizes else { throw .notSupported }
            allowed = [.sign, .verify]; usage = mode == .sign ? .sign : .verify
        case _ where Self.rsaEncryption(algorithm) != nil: allowed = [.encrypt, .decrypt]; usage = mode == .encrypt ? .encrypt : .decrypt
        case _ where Self.rsaSignature(algorithm) != nil: allowed = [.sign, .verify]; usage = mode == .sign ? .sign : .verify
        case _ where Self.ecdsaCurve(algorithm) != nil:
            // OP-TEE: an ECDSA algorithm's maximum key size is its curve's, exactly.
            guard maxKeySize == Self.ecdsaCurve(algorithm)!.bitCount else { throw .notSupported }
            allowed = [.sign, .verify]; usage = mode == .sign ? .sign : .verify
        case .ecdhDeriveSharedSecret:
            guard maxKeySize <= 521 else { throw .notSupported }
            allowed = [.derive]; usage = .derive
        case .dhDeriveSharedSecret: allowed = [.derive]; usage = .derive
        case _ where algorithm.keyDerivationFunction != nil: allowed = [.derive]; usage = .derive
        default: throw .notSupported
        }
        guard allowed.contains(mode), let operationClass = algorithm.operationClass else { throw .notSupported }
        // The caller's maximum, bounded before anything is sized by it (GP keys stop at 4096
        // bits here; a digest ignores it).
        guard maxKeySize >= 0, maxKeySize <= 8192 else { throw .notSupported }
        self.algorithm = algorithm
        self.mode = mode
        self.maxKeySize = maxKeySize
        info = OperationInfo(algorithm: requested, operationClass: operationClass, mode: mode,
                             digestLength: UInt32(Self.digestLength(algorithm)), maxKeySize: UInt32(maxKeySize), keySize: 0,
                             requiredKeyUsage: usage, handleState: [])
        if algorithm == .aesXTS { info.handleState = [.expectTwoKeys] }
        if let kind = DigestState.Kind(algorithm) {
            digest = DigestState(kind)
            // GP 1.1 on: a digest needs no key and is initialized from the start.
            info.handleState = [.keySet, .initialized]
        }
    }

    /// `TEE_ALG_GET_DIGEST_SIZE`: a digest's or MAC's output length; 0 for the rest (and SHAKE).
    static func digestLength(_ algorithm: Algorithm) -> Int {
        switch algorithm {
        case _ where macAlgorithm(algorithm) != nil: macAlgorithm(algorithm)!.tagLength
        default:
            if case .fixed(let d)? = DigestState.Kind(algorithm) { d.byteCount } else { 0 }
        }
    }

    /// The MAC a `TEE_ALG_*` MAC algorithm computes, and the key type it takes (an HMAC also
    /// takes a GENERIC_SECRET).
    static func macAlgorithm(_ algorithm: Algorithm) -> MACAlgorithm? {
        switch algorithm {
        case .hmacMD5: .hmac(.md5)
        case .hmacSHA1: .hmac(.sha1)
        case .hmacSHA224: .hmac(.sha224)
        case .hmacSHA256: .hmac(.sha256)
        case .hmacSHA384: .hmac(.sha384)
        case .hmacSHA512: .hmac(.sha512)
        case .hmacSHA3_224: .hmac(.sha3_224)
        case .hmacSHA3_256: .hmac(.sha3_256)
        case .hmacSHA3_384: .hmac(.sha3_384)
        case .hmacSHA3_512: .hmac(.sha3_512)
        case .aesCMAC: .cmac(.aes)
        case .des3CMAC: .cmac(.des3)
        case .aesCBCMACNoPad: .cbcMAC(.aes, pkcs5: false)
        case .aesCBCMACPKCS5: .cbcMAC(.aes, pkcs5: true)
        case .desCBCMACNoPad: .cbcMAC(.des, pkcs5: false)
        case .desCBCMACPKCS5: .cbcMAC(.des, pkcs5: true)
        case .des3CBCMACNoPad: .cbcMAC(.des3, pkcs5: false)
        case .des3CBCMACPKCS5: .cbcMAC(.des3, pkcs5: true)
        default: nil
        }
    }

    /// The block cipher and mode of a `TEE_ALG_*` cipher algorithm.
    static func cipherAlgorithm(_ algorithm: Algorithm) -> (BlockCipherAlgorithm, CipherComputation.Mode)? {
        switch algorithm {
        case .aesECBNoPad: (.aes, .ecb)
        case .aesCBCNoPad: (.aes, .cbc)
        case .aesCTR: (.aes, .ctr)
        case .aesCTS: (.aes, .cts)
        case .aesXTS: (.aes, .xts)
        case .desECBNoPad: (.des, .ecb)
        case .desCBCNoPad: (.des, .cbc)
        case .des3ECBNoPad: (.des3, .ecb)
        case .des3CBCNoPad: (.des3, .cbc)
        default: nil
        }
    }

    static func macKeyType(_ algorithm: Algorithm) -> ObjectType? {
        switch macAlgorithm(algorithm) {
        case .hmac?: ObjectType(rawValue: 0xA000_0000 | (algorithm.rawValue & 0xFF))
        case .cmac(let c)?, .cbcMAC(let c, _)?: c == .aes ? .aes : c == .des ? .des : .des3
        case nil: nil
        }
    }

    /// An RSA signature algorithm's padding and hash (nil hash: no DigestInfo, the caller's bytes).
    static func rsaSignature(_ algorithm: Algorithm) -> (pss: Bool, hash: DigestAlgorithm?)? {
        switch algorithm {
        case .rsaPKCS1v15MD5: (false, .md5)
        case .rsaPKCS1v15SHA1: (false, .sha1)
        case .rsaPKCS1v15SHA224: (false, .sha224)
        case .rsaPKCS1v15SHA256: (false, .sha256)
        case .rsaPKCS1v15SHA384: (false, .sha384)
        case .rsaPKCS1v15SHA512: (false, .sha512)
        case .rsaPKCS1v15Unhashed: (false, nil)
        case .rsaPSSMD5: (true, .md5)
        case .rsaPSSSHA1: (true, .sha1)
        case .rsaPSSSHA224: (true, .sha224)
        case .rsaPSSSHA256: (true, .sha256)
        case .rsaPSSSHA384: (true, .sha384)
        case .rsaPSSSHA512: (true, .sha512)
        default: nil
        }
    }

    /// An RSA encryption algorithm's OAEP hash (nil: PKCS#1 v1.5).
    static func rsaEncryption(_ algorithm: Algorithm) -> DigestAlgorithm?? {
        switch algorithm {
        case .rsaesPKCS1v15: .some(nil)
        case .rsaesOAEPMD5: .md5
        case .rsaesOAEPSHA1: .sha1
        case .rsaesOAEPSHA224: .sha224
        case .rsaesOAEPSHA256: .sha256
        case .rsaesOAEPSHA384: .sha384
        case .rsaesOAEPSHA512: .sha512
        default: nil
        }
    }

    /// The hash a DSA algorithm's digest is.
    static func dsaHash(_ algorithm: Algorithm) -> DigestAlgorithm? {
        switch algorithm {
        case .dsaSHA1: .sha1
        case .dsaSHA224: .sha224
        case .dsaSHA256: .sha256
        default: nil
        }
    }

    /// The curve an ECDSA algorithm signs on.
    static func ecdsaCurve(_ algorithm: Algorithm) -> ECCurve? {
        switch algorithm {
        case .ecdsaP192: .p192
        case .ecdsaP224: .p224
        case .ecdsaP256: .p256
        case .ecdsaP384: .p384
        case .ecdsaP521: .p521
        default: nil
        }
    }

    private func fail(_ code: UInt32, _ reason: String) -> Never { TEE.current.panic(code, reason) }

    /// A MAC, cipher or AE computation began (`…Init`) or ended (its final call), as GP's
    /// operation info and state record it.
    private func began() {
        info.handleState.insert(.initialized)
        state = .active
    }

    private func ended() {
        info.handleState.remove(.initialized)
        state = .initial
    }

    // MARK: Keys

    /// `TEE_SetOperationKey`. A key of the wrong type or above `maxKeySize` panics.
    public func setKey(_ object: TransientObject) {
        guard !info.handleState.contains(.expectTwoKeys) else { fail(TEEResult.badParameters.rawValue, "TEE_SetOperationKey on an operation that takes two keys") }
        guard object.isInitialized, object.keySize <= maxKeySize else { fail(0xBAD0_0020, "key not initialized or larger than the operation's maximum") }
        let fits: Bool
        switch algorithm {
        case _ where Self.macKeyType(algorithm) != nil:
            let wanted = Self.macKeyType(algorithm)!
            fits = object.type == wanted || (wanted.hmacDigest != nil && object.type == .genericSecret)
        case .aesGCM, .aesCCM: fits = object.type == .aes
        case _ where Self.cipherAlgorithm(algorithm) != nil:
            let (cipher, _) = Self.cipherAlgorithm(algorithm)!
            fits = object.type == (cipher == .aes ? .aes : cipher == .des ? .des : .des3)
        case _ where algorithm == .rsaNoPad || Self.rsaEncryption(algorithm) != nil:
            fits = object.type == .rsaKeyPair || (object.type == .rsaPublicKey && mode == .encrypt)
        case _ where Self.rsaSignature(algorithm) != nil: fits = object.type == .rsaKeyPair || (object.type == .rsaPublicKey && mode == .verify)
        case _ where Self.ecdsaCurve(algorithm) != nil:
            fits = (object.type == .ecdsaKeyPair || (object.type == .ecdsaPublicKey && mode == .verify)) && object.keySize == Self.ecdsaCurve(algorithm)!.bitCount
        case .ecdhDeriveSharedSecret: fits = object.type == .ecdhKeyPair
        case .dhDeriveSharedSecret: fits = object.type == .dhKeyPair
        case _ where algorithm.keyDerivationFunction != nil: fits = object.type == algorithm.keyDerivationFunction!.kind.inputType
        case .dsaSHA1, .dsaSHA224, .dsaSHA256: fits = object.type == .dsaKeyPair || (object.type == .dsaPublicKey && mode == .verify)
        default: fits = false
        }
        guard fits else { fail(0xBAD0_0021, "key type \(String(object.type.rawValue, radix: 16)) does not fit the operation") }
        guard object.usage.isSuperset(of: info.requiredKeyUsage) else {
            fail(0xBAD0_003B, "the key's usage 0x\(String(object.usage.rawValue, radix: 16)) lacks 0x\(String(info.requiredKeyUsage.rawValue, radix: 16))")
        }
        // GP: the operation holds a copy of the key; what the TA does to the object afterwards
        // (reset, populate, free) does not touch it.
        guard let copy = try? TransientObject(type: object.type, maxKeySize: object.maxKeySize) else { fail(0xBAD0_0021, "key object type not supported") }
        copy.copyAttributes(from: object)
        key = copy
        info.keySize = UInt32(object.keySize)
        info.handleState.insert(.keySet)
        if state != .initial { reset() }
    }

    /// `TEE_SetOperationKey`: `key` nil clears the key. Panics (as GP mandates) on a digest or an
    /// operation already initialized, on a key that does not fit (type, size, usage).
    public func setOperationKey(_ key: TransientObject?) throws(TEEResult) {
        guard !info.handleState.contains(.initialized) else { fail(0xBAD0_003C, "TEE_SetOperationKey on an initialized operation") }
        guard let key else {
            self.key = nil
            info.handleState.remove(.keySet)
            info.keySize = 0
            if state != .initial { reset() }
            return
        }
        setKey(key)
    }

    /// `TEE_SetOperationKey2`: for the two-key algorithms (AES-XTS, SM2 key exchange), which
    /// rproc-tee does not implement — so, as GP mandates for an operation that expects one key,
    /// a panic (both NULL clears, as for one key).
    public func setOperationKey2(_ key1: TransientObject?, _ key2: TransientObject?) throws(TEEResult) {
        if let key1, key1 === key2 { throw .security }
        guard !info.handleState.contains(.initialized) else { fail(0xBAD0_003C, "TEE_SetOperationKey2 on an initialized operation") }
        guard info.handleState.contains(.expectTwoKeys) else { fail(0xBAD0_003D, "TEE_SetOperationKey2 on an operation that takes one key") }
        guard let key1, let key2 else {
            guard key1 == nil, key2 == nil else { fail(TEEResult.badParameters.rawValue, "TEE_SetOperationKey2 with one key NULL") }
            self.key = nil
            self.key2 = nil
            info.handleState.remove(.keySet)
            info.keySize = 0
            if state != .initial { reset() }
            return
        }
        // The operation's maximum covers both keys (OP-TEE halves it per key).
        for k in [key1, key2] {
            guard k.isInitialized, k.type == .aes, k.keySize <= maxKeySize / 2 else { fail(0xBAD0_0020, "an XTS key not initialized, not AES, or larger than half the operation's maximum") }
            guard k.usage.isSuperset(of: info.requiredKeyUsage) else { fail(0xBAD0_003B, "an XTS key's usage lacks 0x\(String(info.requiredKeyUsage.rawValue, radix: 16))") }
        }
        guard key1.keySize == key2.keySize else { fail(TEEResult.badParameters.rawValue, "XTS keys of \(key1.keySize) and \(key2.keySize) bits") }
        func copied(_ k: TransientObject) -> TransientObject {
            guard let c = try? TransientObject(type: k.type, maxKeySize: k.maxKeySize) else { fail(0xBAD0_0021, "key object type not supported") }
            c.copyAttributes(from: k)
            return c
        }
        self.key = copied(key1)
        self.key2 = copied(key2)
        info.keySize = UInt32(key1.keySize)
        info.handleState.insert(.keySet)
        if state != .initial { reset() }
    }

    /// `TEE_GetOperationInfoMultiple`: SHORT_BUFFER when `capacity` bytes cannot hold the header
    /// (32 bytes) and one 8-byte entry per key (BAD_PARAMETERS below the header, as OP-TEE).
    public func operationInfoMultiple(capacity: Int) throws(TEEResult) -> OperationInfoMultiple {
        guard capacity >= 32 else { throw .badParameters }
        let keys: [(keySize: UInt32, requiredKeyUsage: KeyUsage)]
        if mode == .digest {
            keys = []
        } else if info.handleState.contains(.expectTwoKeys) {
            keys = [(UInt32(key?.keySize ?? 0), info.requiredKeyUsage), (UInt32(key2?.keySize ?? 0), info.requiredKeyUsage)]
        } else {
            keys = [(UInt32(key?.keySize ?? 0), info.requiredKeyUsage)]
        }
        guard (capacity - 32) / 8 >= keys.count else { throw .shortBuffer }
        return OperationInfoMultiple(algorithm: algorithm, operationClass: info.operationClass, mode: mode, digestLength: info.digestLength,
                                     maxKeySize: info.maxKeySize, handleState: info.handleState, operationState: state, keys: keys)
    }

    /// `TEE_GetOperationInfo`'s view: for a two-key operation, keySize and requiredKeyUsage
    /// read 0 (GP: use TEE_GetOperationInfoMultiple for them).
    public var reportedInfo: OperationInfo {
        var i = info
        if i.handleState.contains(.expectTwoKeys) {
            i.keySize = 0
            i.requiredKeyUsage = []
        }
        return i
    }

    // MARK: Digest

    private func digestState(_ function: String) -> DigestState {
        guard let digest else { fail(0xBAD0_0022, "\(function) on an operation that is not a digest") }
        return digest
    }

    /// `TEE_DigestUpdate`. Panics once the digest is being extracted.
    public func digestUpdate(_ chunk: [UInt8]) {
        let digest = digestState("TEE_DigestUpdate")
        guard state != .extracting else { fail(0xBAD0_0034, "TEE_DigestUpdate after TEE_DigestExtract") }
        state = .active
        digest.update(chunk)
    }

    /// `TEE_DigestDoFinal`: the digest of everything fed in plus `chunk`, and the operation starts
    /// over. SHORT_BUFFER (state unchanged) when `outputLength` is below the digest's size. SHAKE
    /// gives exactly `outputLength` bytes. After `digestExtract`, the bytes not yet extracted
    /// (and `chunk` must be empty: a chunk then is a panic, as in OP-TEE).
    public func digestDoFinal(_ chunk: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        let digest = digestState("TEE_DigestDoFinal")
        guard state != .extracting || chunk.isEmpty else { fail(0xBAD0_0035, "TEE_DigestDoFinal with data after TEE_DigestExtract") }
        // The TA's requested length, bounded before anything is allocated by it.
        guard outputLength >= 0 else { fail(0xBAD0_0036, "negative digest length") }
        let out: [UInt8]
        switch digest.kind {
        case .fixed(let algorithm):
            if state == .extracting {
                out = digest.extract(outputLength)
            } else {
                guard outputLength >= algorithm.byteCount else {
                    outputLength = algorithm.byteCount
                    throw .shortBuffer
                }
                digest.update(chunk)
                out = digest.finish()
            }
        case .extendable:
            guard outputLength <= DigestState.maxExtendableOutput else { fail(0xBAD0_0037, "more than \(DigestState.maxExtendableOutput) bytes of SHAKE output") }
            if state != .extracting { digest.update(chunk) }
            out = digest.extract(outputLength)
        }
        outputLength = out.count
        digest.restart()
        state = .initial
        info.handleState.remove(.extracting)
        return out
    }

    public func digestDoFinal(_ chunk: [UInt8] = []) -> [UInt8] {
        var length = digest.map { if case .fixed(let a) = $0.kind { a.byteCount } else { 32 } } ?? 0
        return try! digestDoFinal(chunk, outputLength: &length)
    }

    /// `TEE_DigestExtract` (GP 1.3): the next `outputLength` bytes of the digest — of a fixed-size
    /// digest at most what is left of it, of SHAKE as many as asked. No more data goes in after.
    public func digestExtract(outputLength: inout Int) -> [UInt8] {
        let digest = digestState("TEE_DigestExtract")
        guard outputLength >= 0 else { fail(0xBAD0_0036, "negative digest length") }
        if case .extendable = digest.kind, digest.extractedCount + outputLength > DigestState.maxExtendableOutput {
            fail(0xBAD0_0037, "more than \(DigestState.maxExtendableOutput) bytes of SHAKE output")
        }
        if state != .extracting {
            digest.beginExtracting()
            state = .extracting
            info.handleState.insert(.extracting)
        }
        let out = digest.extract(outputLength)
        outputLength = out.count
        return out
    }

    // MARK: Copy

    /// `TEE_CopyOperation`: `self` becomes `source`'s state, key and info. Both must have the same
    /// algorithm and mode (a panic otherwise). An AE computation under way cannot be
    /// copied here yet (its mbedTLS context has no clone): that is a panic naming the reason.
    public func copy(from source: CryptoOperation) {
        guard source !== self else { return }
        guard info.algorithm == source.info.algorithm, mode == source.mode else { fail(0xBAD0_0038, "TEE_CopyOperation between operations of different algorithms or modes") }
        if let from = source.digest {
            digest = from.copy()
        } else if let from = source.ae {
            guard let copied = try? from.copy() else { fail(0xBAD0_0039, "TEE_CopyOperation: the AE computation could not be copied") }
            ae = copied
            aePending = source.aePending
            key = source.key
        } else if let from = source.cipher {
            cipher = from.copy()
            key = source.key
            key2 = source.key2
        } else if let from = source.mac {
            // OpenSSL's MAC contexts and CBC-MAC's chaining copy mid-computation.
            guard let copied = try? from.copy() else { fail(0xBAD0_0039, "TEE_CopyOperation: this MAC cannot be copied") }
            mac = copied
            key = source.key
        } else {
            guard source.state == .initial else { fail(0xBAD0_0039, "TEE_CopyOperation of a computation rproc-tee cannot copy") }
            guard source.key == nil || source.key!.keySize <= maxKeySize else { fail(0xBAD0_0020, "the source's key is larger than the destination's maximum") }
            key = source.key
            key2 = source.key2
        }
        state = source.state
        var copied = source.info
        copied.maxKeySize = info.maxKeySize
        info = copied
    }

    // MARK: MAC

    /// `TEE_MACInit`: (re)starts the MAC. `iv` is CBC-MAC's initial chaining block (zeros when
    /// empty); HMAC and CMAC ignore it, as GP says.
    public func macInit(iv: [UInt8] = []) {
        guard mode == .mac, let secret = key?.secret, let algorithm = Self.macAlgorithm(self.algorithm) else { fail(0xBAD0_0023, "MAC operation without a key") }
        do {
            if case .cbcMAC = algorithm {
                mac = try MACComputation(algorithm, key: secret, iv: iv)
            } else {
                mac = try MACComputation(algorithm, key: secret)
            }
        } catch {
            fail(TEEResult.badParameters.rawValue, "TEE_MACInit: \(error)")
        }
        began()
    }

    private var macLength: Int { Self.digestLength(algorithm) }

    /// `TEE_ResetOperation`: back to the initial state with the key kept — an unfinished
    /// digest, MAC or cipher is dropped.
    public func reset() {
        guard info.handleState.contains(.keySet) else { fail(0xBAD0_003A, "TEE_ResetOperation before a key was set") }
        mac = nil
        cipher = nil
        ae = nil
        aePending = []
        digest?.restart()
        state = .initial
        info.handleState.remove(.extracting)
        if digest == nil { info.handleState.remove(.initialized) }
    }

    public func macUpdate(_ chunk: [UInt8]) {
        guard let mac else { fail(0xBAD0_0024, "MAC not initialized") }
        mac.update(chunk)
    }

    /// `TEE_MACComputeFinal`.
    public func macComputeFinal(_ chunk: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard let mac else { fail(0xBAD0_0024, "MAC not initialized") }
        let tagLength = macLength
        guard outputLength >= tagLength else {
            outputLength = tagLength
            throw .shortBuffer
        }
        mac.update(chunk)
        outputLength = tagLength
        self.mac = nil
        ended()
        return finishMAC(mac)
    }

    /// `TEE_MACCompareFinal`: MAC_INVALID unless `expected` is the full tag (constant time).
    public func macCompareFinal(_ chunk: [UInt8], expected: [UInt8]) throws(TEEResult) {
        guard let mac else { fail(0xBAD0_0024, "MAC not initialized") }
        mac.update(chunk)
        self.mac = nil
        ended()
        let tag = finishMAC(mac)
        guard expected.count == tag.count, constantTimeEquals(tag, expected) else { throw .macInvalid }
    }

    /// The tag; an unpadded CBC-MAC over a partial block is a panic, as in OP-TEE.
    private func finishMAC(_ mac: MACComputation) -> [UInt8] {
        do { return try mac.finalize() } catch { fail(TEEResult.badParameters.rawValue, "TEE_MACComputeFinal: \(error)") }
    }

    // MARK: Cipher

    /// `TEE_CipherInit`: (re)starts the cipher with `iv` — one block for CBC and CTR; ECB ignores
    /// whatever it is given, as GP says. BAD_PARAMETERS for an IV of the wrong length (the TA's
    /// caller panics on it: TEE_CipherInit returns nothing).
    public func cipherInit(iv: [UInt8]) throws(TEEResult) {
        guard let (block, cipherMode) = Self.cipherAlgorithm(algorithm), let secret = key?.secret else { fail(0xBAD0_0025, "cipher operation without a key") }
        do {
            cipher = try CipherComputation(block, mode: cipherMode, direction: mode == .encrypt ? .encrypt : .decrypt, key: secret,
                                           iv: cipherMode == .ecb ? [] : iv, key2: cipherMode == .xts ? key2?.secret : nil)
            began()
        } catch {
            throw .badParameters
        }
    }

    /// `TEE_CipherUpdate`: ECB and CBC release whole blocks (what is held back plus the input,
    /// rounded down), CTR every byte — what OP-TEE asks room for; SHORT_BUFFER (state unchanged)
    /// below it.
    public func cipherUpdate(_ input: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard let cipher else { fail(0xBAD0_0026, "cipher not initialized") }
        let needed = cipher.outputLength(adding: input.count)
        guard outputLength >= needed else {
            outputLength = needed
            throw .shortBuffer
        }
        let out = cipher.update(input)
        outputLength = out.count
        return out
    }

    /// `TEE_CipherDoFinal`. SHORT_BUFFER (state unchanged) below what is held back plus the
    /// input; ECB/CBC data that does not end on a block is a panic, as in OP-TEE (GP: the client
    /// pads).
    public func cipherDoFinal(_ input: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard let cipher else { fail(0xBAD0_0026, "cipher not initialized") }
        let needed = cipher.mode == .ctr ? input.count : cipher.pendingBytes + input.count
        let blockSize = Self.cipherAlgorithm(algorithm)!.0.blockSize
        if cipher.mode == .ecb || cipher.mode == .cbc, needed % blockSize != 0 {
            fail(TEEResult.badParameters.rawValue, "TEE_CipherDoFinal: \(needed) bytes is not a whole number of \(blockSize)-byte blocks")
        }
        guard outputLength >= needed else {
            outputLength = needed
            throw .shortBuffer
        }
        // ECB/CBC whole blocks were checked above; CTS/XTS refuse less than one block (a panic, as
        // OP-TEE's core refuses it).
        let out: [UInt8]
        do { out = try cipher.finalize(input) } catch { fail(TEEResult.badParameters.rawValue, "TEE_CipherDoFinal: \(error)") }
        outputLength = out.count
        self.cipher = nil
        ended()
        return out
    }

    // MARK: Authenticated encryption (AES-GCM, AES-CCM)

    /// `TEE_AEInit`. GCM: a tag of 96…128 bits in steps of 8, else NOT_SUPPORTED (GP); CCM: the
    /// AAD and payload lengths to come, a tag of 32…128 bits in steps of 16 and a 7…13-byte
    /// nonce — anything else a panic, as OP-TEE's core refuses it.
    public func aeInit(nonce: [UInt8], tagBits: Int, aadLength: Int = 0, payloadLength: Int = 0) throws(TEEResult) {
        guard algorithm == .aesGCM || algorithm == .aesCCM, let secret = key?.secret else { fail(0xBAD0_0027, "AE operation without a key") }
        guard state == .initial else { fail(TEEResult.badParameters.rawValue, "TEE_AEInit on an operation under way") }
        if algorithm == .aesGCM, !(96...128).contains(tagBits) || tagBits % 8 != 0 { throw .notSupported }
        do {
            ae = try AEComputation(algorithm == .aesGCM ? .gcm : .ccm, direction: mode == .encrypt ? .encrypt : .decrypt, key: secret,
                                   nonce: nonce, tagLength: tagBits / 8, aadLength: aadLength, payloadLength: payloadLength)
        } catch {
            fail(TEEResult.badParameters.rawValue, "TEE_AEInit: \(error)")
        }
        aePending = []
        info.digestLength = UInt32(tagBits / 8)
        began()
    }

    private func aeState(_ function: String) -> AEComputation {
        guard let ae else { fail(0xBAD0_0028, "\(function) before TEE_AEInit") }
        return ae
    }

    /// `TEE_AEUpdateAAD`: only before the first data (a panic after, or past CCM's AAD length).
    public func aeUpdateAAD(_ aad: [UInt8]) {
        let ae = aeState("TEE_AEUpdateAAD")
        do { try ae.updateAAD(aad) } catch { fail(TEEResult.badParameters.rawValue, "TEE_AEUpdateAAD: \(error)") }
    }

    /// What `aeUpdate` with `count` more bytes releases: every byte (GCM), whole blocks (CCM).
    public func aeUpdateLength(adding count: Int) -> Int {
        algorithm == .aesCCM ? (aePending.count + count) / 16 * 16 : count
    }

    /// What a final call with `count` more bytes produces (besides the tag).
    public func aeFinalLength(adding count: Int) -> Int { aePending.count + count }

    /// `TEE_AEUpdate`. When decrypting, the output is not authentic until `aeDecryptFinal`.
    public func aeUpdate(_ input: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        let ae = aeState("TEE_AEUpdate")
        let needed = aeUpdateLength(adding: input.count)
        guard outputLength >= needed else {
            outputLength = needed
            throw .shortBuffer
        }
        var chunk = input
        if algorithm == .aesCCM {
            aePending += input
            chunk = Array(aePending.prefix(needed))
            aePending.removeFirst(needed)
        }
        let out: [UInt8]
        do { out = try ae.update(chunk) } catch { fail(TEEResult.badParameters.rawValue, "TEE_AEUpdate: \(error)") }
        outputLength = out.count
        return out
    }

    /// `TEE_AEEncryptFinal`: the last ciphertext and the tag. SHORT_BUFFER (state unchanged)
    /// when either buffer is too small: `outputLength` and `tagLength` then say what is needed.
    public func aeEncryptFinal(_ input: [UInt8], outputLength: inout Int, tagLength: inout Int) throws(TEEResult) -> (data: [UInt8], tag: [UInt8]) {
        let ae = aeState("TEE_AEEncryptFinal")
        guard mode == .encrypt else { fail(TEEResult.badParameters.rawValue, "TEE_AEEncryptFinal on a decrypting operation") }
        let needed = aeFinalLength(adding: input.count)
        let tooSmall = outputLength < needed || tagLength < ae.tagLength
        if outputLength < needed { outputLength = needed }
        if tagLength < ae.tagLength { tagLength = ae.tagLength }
        if tooSmall { throw .shortBuffer }
        let sealed: (ciphertext: [UInt8], tag: [UInt8])
        do { sealed = try ae.finalizeEncryption(aePending + input) } catch { fail(TEEResult.badParameters.rawValue, "TEE_AEEncryptFinal: \(error)") }
        outputLength = sealed.ciphertext.count
        tagLength = sealed.tag.count
        self.ae = nil
        aePending = []
        ended()
        return (sealed.ciphertext, sealed.tag)
    }

    public func aeEncryptFinal(_ input: [UInt8], outputLength: inout Int) throws(TEEResult) -> (data: [UInt8], tag: [UInt8]) {
        var tagLength = 16
        return try aeEncryptFinal(input, outputLength: &outputLength, tagLength: &tagLength)
    }

    /// `TEE_AEDecryptFinal`: MAC_INVALID (and no plaintext) unless the tag matches.
    public func aeDecryptFinal(_ input: [UInt8], tag: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        let ae = aeState("TEE_AEDecryptFinal")
        guard mode == .decrypt else { fail(TEEResult.badParameters.rawValue, "TEE_AEDecryptFinal on an encrypting operation") }
        let needed = aeFinalLength(adding: input.count)
        guard outputLength >= needed else {
            outputLength = needed
            throw .shortBuffer
        }
        defer {
            self.ae = nil
            aePending = []
            ended()
        }
        do {
            let data = try ae.finalizeDecryption(aePending + input, tag: tag)
            outputLength = data.count
            return data
        } catch let error as CryptoError where error.code == .authenticationFailure {
            throw .macInvalid
        } catch {
            fail(TEEResult.badParameters.rawValue, "TEE_AEDecryptFinal: \(error)")
        }
    }

    // MARK: Key derivation

    /// `TEE_DeriveKey` for ECDH: `params` carry the peer's TEE_ATTR_ECC_PUBLIC_VALUE_X and _Y;
    /// `derived` (an empty GENERIC_SECRET big enough) receives the shared secret, the x
    /// coordinate of d·Q. Like OP-TEE, every failure panics — TEE_DeriveKey returns nothing —
    /// a peer point off the key's curve included (the TA handed us an attacker's point).
    public func deriveKey(_ params: [Attribute], into derived: TransientObject) {
        if mode == .derive, let kdf = algorithm.keyDerivationFunction, let secret = key?.secret {
            deriveWithKDF(kdf.kind, kdf.digest, secret, params, into: derived)
            return
        }
        if mode == .derive, algorithm == .dhDeriveSharedSecret, let dh = key?.dh {
            guard let peer = params.first(where: { $0.id == AttributeID.dhPublicValue })?.buffer else {
                fail(0xBAD0_002F, "TEE_DeriveKey: the peer's TEE_ATTR_DH_PUBLIC_VALUE is mandatory")
            }
            guard derived.type == .genericSecret, !derived.isInitialized, derived.maxKeySize >= dh.bitCount else {
                fail(0xBAD0_0032, "TEE_DeriveKey: the output must be an empty GENERIC_SECRET of at least \(dh.bitCount) bits")
            }
            do { derived.setDerivedSecret(try dh.sharedSecret(with: peer)) } catch { fail(0xBAD0_0033, "TEE_DeriveKey: \(error)") }
            return
        }
        guard mode == .derive, algorithm == .ecdhDeriveSharedSecret, let pair = key?.ecPrivate else {
            fail(0xBAD0_002E, "not an ECDH derivation with a key pair")
        }
        guard let x = params.first(where: { $0.id == AttributeID.eccPublicX })?.buffer,
              let y = params.first(where: { $0.id == AttributeID.eccPublicY })?.buffer else {
            fail(0xBAD0_002F, "TEE_DeriveKey: the peer's TEE_ATTR_ECC_PUBLIC_VALUE_X and _Y are mandatory")
        }
        guard derived.type == .genericSecret, !derived.isInitialized, derived.maxKeySize >= pair.curve.byteCount * 8 else {
            fail(0xBAD0_0032, "TEE_DeriveKey: the output must be an empty GENERIC_SECRET of at least \(pair.curve.byteCount * 8) bits")
        }
        let secret: SecureBytes
        do {
            secret = try pair.sharedSecret(with: try ECPublicKey(curve: pair.curve, x: x, y: y))
        } catch {
            fail(0xBAD0_0033, "TEE_DeriveKey: the peer's point is not on \(pair.curve.rawValue): \(error)")
        }
        derived.setDerivedSecret(secret)
    }

    /// OP-TEE's HKDF, Concat KDF and PBKDF2, with OP-TEE's parameter rules: each attribute
    /// once (a repeat is ignored), any other attribute refused, the output length mandatory and
    /// within the output object's size. TEE_DeriveKey returns nothing, so a refusal panics (as
    /// OP-TEE's library panics on the core's BAD_PARAMETERS). Attacker: the TA's caller, who may
    /// choose salts, infos, lengths and iteration counts — every one is bounded here.
    private func deriveWithKDF(_ kind: KeyDerivationKind, _ digest: DigestAlgorithm, _ secret: SecureBytes, _ params: [Attribute], into derived: TransientObject) {
        var salt: [UInt8]?, info: [UInt8]?, length: UInt32?, iterations: UInt32?
        for p in params {
            switch (kind, p.id) {
            case (.hkdf, AttributeID.hkdfSalt), (.hkdf, AttributeID.gpHKDFSalt), (.pbkdf2, AttributeID.pbkdf2Salt): if salt == nil { salt = p.buffer ?? [] }
            case (.hkdf, AttributeID.hkdfInfo), (.hkdf, AttributeID.gpHKDFInfo), (.concat, AttributeID.concatKDFOtherInfo): if info == nil { info = p.buffer ?? [] }
            case (.hkdf, AttributeID.hkdfOKMLength), (.hkdf, AttributeID.kdfKeySize), (.concat, AttributeID.concatKDFDKMLength), (.pbkdf2, AttributeID.pbkdf2DKMLength):
                if length == nil { length = p.value?.a ?? 0 }
            case (.pbkdf2, AttributeID.pbkdf2IterationCount): if iterations == nil { iterations = p.value?.a ?? 0 }
            default: fail(TEEResult.badParameters.rawValue, "TEE_DeriveKey: attribute \(String(p.id, radix: 16)) is not one of this derivation's")
            }
        }
        guard let length, length > 0 else { fail(TEEResult.badParameters.rawValue, "TEE_DeriveKey: the output length is mandatory") }
        guard derived.type == .genericSecret, !derived.isInitialized, Int(length) * 8 <= derived.maxKeySize else {
            fail(TEEResult.badParameters.rawValue, "TEE_DeriveKey: the output must be an empty GENERIC_SECRET of at least \(length) bytes")
        }
        let out: SecureBytes
        do {
            switch kind {
            case .hkdf:
                out = try HKDF.deriveKey(digest, inputKeyMaterial: secret, salt: salt ?? [], info: info ?? [], outputLength: Int(length))
            case .concat:
                out = try ConcatKDF.deriveKey(digest, sharedSecret: secret, otherInfo: info ?? [], outputLength: Int(length))
            case .pbkdf2:
                out = try PBKDF2.deriveKey(digest, password: secret, salt: salt ?? [], iterations: Int(iterations ?? 0), outputLength: Int(length))
            }
        } catch {
            fail(TEEResult.badParameters.rawValue, "TEE_DeriveKey: \(error)")
        }
        derived.setDerivedSecret(out)
    }

    // MARK: Asymmetric encryption

    /// The padding, with OAEP's label. NOT_SUPPORTED for an MGF1 hash other than the label's:
    /// mbedTLS 2.28 runs MGF1 over the same hash (GP lets an implementation refuse; xtest
    /// skips the case then).
    private func rsaPadding(_ params: [Attribute]) throws(TEEResult) -> RSAEncryptionPadding {
        guard case .some(.some(let hash)) = Self.rsaEncryption(algorithm) else { return .pkcs1v15 }
        if let mgf = params.first(where: { $0.id == AttributeID.rsaOAEPMGFHash })?.buffer {
            // Attacker: the TA's caller chose the bytes — read as a digest id only if 4 long.
            guard mgf.count == 4 else { throw .badParameters }
            let id = mgf.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            guard case .fixed(let mgfHash)? = DigestState.Kind(Algorithm(rawValue: id)), mgfHash == hash else { throw .notSupported }
        }
        let label = params.first { $0.id == AttributeID.rsaOAEPLabel }?.buffer ?? []
        return label.isEmpty ? .oaep(hash) : .oaepLabelled(hash, label: label)
    }

    /// RSA without padding: the result as OP-TEE gives it, leading zero bytes dropped (one kept
    /// for zero); SHORT_BUFFER below that length.
    private func rawRSA(_ input: [UInt8], outputLength: inout Int, _ run: () throws -> [UInt8]) throws(TEEResult) -> [UInt8] {
        let full: [UInt8]
        do { full = try run() } catch { throw .badParameters }
        let first = full.firstIndex { $0 != 0 } ?? (full.count - 1)
        let out = Array(full[first...])
        guard outputLength >= out.count else {
            outputLength = out.count
            throw .shortBuffer
        }
        outputLength = out.count
        return out
    }

    /// `TEE_AsymmetricEncrypt`: SHORT_BUFFER with the modulus length when the output is smaller;
    /// BAD_PARAMETERS for a message too long for the key and padding. OAEP takes
    /// TEE_ATTR_RSA_OAEP_LABEL; NOPAD an integer below the modulus.
    public func asymmetricEncrypt(_ input: [UInt8], params: [Attribute] = [], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard mode == .encrypt, let rsa = key?.rsaPublic else { fail(0xBAD0_002C, "not an encrypting operation with an RSA key") }
        if algorithm == .rsaNoPad { return try rawRSA(input, outputLength: &outputLength) { try rsa.rawPublic(input) } }
        guard outputLength >= rsa.byteCount else {
            outputLength = rsa.byteCount
            throw .shortBuffer
        }
        let padding = try rsaPadding(params)
        do {
            let out = try rsa.encrypt(input, padding: padding)
            outputLength = out.count
            return out
        } catch {
            throw .badParameters
        }
    }

    /// `TEE_AsymmetricDecrypt`: SHORT_BUFFER with the plaintext's length when the output is
    /// smaller; BAD_PARAMETERS for a ciphertext that does not decrypt.
    public func asymmetricDecrypt(_ input: [UInt8], params: [Attribute] = [], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard mode == .decrypt, let rsa = key?.rsaPrivate else { fail(0xBAD0_002D, "not a decrypting operation with an RSA key pair") }
        if algorithm == .rsaNoPad { return try rawRSA(input, outputLength: &outputLength) { try rsa.rawPrivate(input).unsafeBytes } }
        let padding = try rsaPadding(params)
        let plain: SecureBytes
        do { plain = try rsa.decrypt(input, padding: padding) } catch { throw .badParameters }
        guard outputLength >= plain.count else {
            outputLength = plain.count
            throw .shortBuffer
        }
        outputLength = plain.count
        return plain.unsafeBytes
    }

    // MARK: Asymmetric signatures

    /// The caller's digest as the algorithm's hash: a digest of another length is a panic, as in
    /// OP-TEE (BAD_PARAMETERS from TEE_AsymmetricSignDigest / VerifyDigest).
    private func checkDigest(_ digest: [UInt8], _ hash: DigestAlgorithm) -> Digest {
        guard let d = try? Digest(algorithm: hash, bytes: digest) else {
            fail(TEEResult.badParameters.rawValue, "digest of \(digest.count) bytes for an algorithm that takes \(hash.byteCount)")
        }
        return d
    }

    /// PSS's salt: TEE_ATTR_RSA_PSS_SALT_LENGTH, else the digest's length (GP).
    private func pssSalt(_ params: [Attribute], _ hash: DigestAlgorithm) -> Int {
        Int(params.first { $0.id == AttributeID.rsaPSSSaltLength }?.value?.a ?? UInt32(hash.byteCount))
    }

    /// `TEE_AsymmetricSignDigest`. ECDSA signatures are raw r‖s.
    public func signDigest(_ digest: [UInt8], params: [Attribute] = [], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard mode == .sign, let key else { fail(0xBAD0_002A, "not a signing operation with a key") }
        if Self.ecdsaCurve(algorithm) != nil, let pair = key.ecPrivate {
            // ECDSA signs the caller's digest as it is (a longer one is truncated to the order).
            guard !digest.isEmpty else { fail(TEEResult.badParameters.rawValue, "TEE_AsymmetricSignDigest: an empty digest") }
            let size = 2 * pair.curve.byteCount
            guard outputLength >= size else {
                outputLength = size
                throw .shortBuffer
            }
            do {
                let signature = try pair.signature(forDigestBytes: digest).rawRepresentation
                outputLength = signature.count
                return signature
            } catch {
                fail(TEEResult.badParameters.rawValue, "TEE_AsymmetricSignDigest: \(error)")
            }
        }
        if let dsa = key.dsa, Self.dsaHash(algorithm) != nil {
            // DSA signs the caller's digest as given (truncated to q's size; xtest's L=2048,
            // N=224 SHA-256 vectors pass 28 bytes).
            guard !digest.isEmpty else { fail(TEEResult.badParameters.rawValue, "TEE_AsymmetricSignDigest: an empty digest") }
            let size = 2 * dsa.subprimeBytes
            guard outputLength >= size else {
                outputLength = size
                throw .shortBuffer
            }
            do {
                let signature = try dsa.signature(forDigestBytes: digest)
                outputLength = signature.count
                return signature
            } catch {
                fail(TEEResult.badParameters.rawValue, "TEE_AsymmetricSignDigest: \(error)")
            }
        }
        guard let (pss, hash) = Self.rsaSignature(algorithm), let rsa = key.rsaPrivate else { fail(0xBAD0_002A, "not a signing operation with a key") }
        let size = (rsa.bitCount + 7) / 8
        guard outputLength >= size else {
            outputLength = size
            throw .shortBuffer
        }
        do {
            let signature: [UInt8]
            if let hash {
                let d = checkDigest(digest, hash)
                signature = try rsa.signature(for: d, padding: pss ? .pss(saltLength: .exactly(pssSalt(params, hash))) : .pkcs1v15)
            } else {
                signature = try rsa.signatureUnhashed(digest)
            }
            outputLength = signature.count
            return signature
        } catch {
            throw .badParameters
        }
    }

    /// `TEE_AsymmetricVerifyDigest`: SIGNATURE_INVALID for any signature that is not exactly
    /// valid (wrong length, non-canonical, or not verifying).
    public func verifyDigest(_ digest: [UInt8], signature: [UInt8], params: [Attribute] = []) throws(TEEResult) {
        guard mode == .verify, let key else { fail(0xBAD0_002B, "not a verifying operation with a key") }
        if Self.ecdsaCurve(algorithm) != nil, let publicKey = key.ecPublic {
            do {
                try publicKey.verify(signature: try ECDSASignature(rawRepresentation: signature, curve: publicKey.curve), forDigestBytes: digest)
                return
            } catch {
                throw .signatureInvalid
            }
        }
        if let dsa = key.dsa, Self.dsaHash(algorithm) != nil {
            do { try dsa.verify(signature: signature, forDigestBytes: digest) } catch { throw .signatureInvalid }
            return
        }
        guard let (pss, hash) = Self.rsaSignature(algorithm), let rsa = key.rsaPublic else { fail(0xBAD0_002B, "not a verifying operation with a key") }
        do {
            if let hash {
                let d = checkDigest(digest, hash)
                try rsa.verify(signature: signature, for: d, padding: pss ? .pss(saltLength: .exactly(pssSalt(params, hash))) : .pkcs1v15)
            } else {
                try rsa.verifyUnhashed(signature: signature, data: digest)
            }
        } catch {
            throw .signatureInvalid
        }
    }
}

extension TEE {
    /// `TEE_IsAlgorithmSupported` (GP 1.3): SUCCESS when `algorithm` can be allocated in some mode
    /// and `element` (`TEE_CRYPTO_ELEMENT_NONE`, or a `TEE_ECC_CURVE_*`) is a curve rproc-tee has;
    /// NOT_SUPPORTED otherwise.
    public static func isAlgorithmSupported(_ algorithm: UInt32, element: UInt32) -> TEEResult {
        // Some algorithms take one key size only (ECDSA: its curve's): try the sizes there are.
        let supported = (0...6).contains { raw in
            guard let mode = OperationMode(rawValue: UInt32(raw)) else { return false }
            return [4096, 3072, 2048, 1024, 521, 384, 256, 224, 192].contains { size in
                (try? CryptoOperation(algorithm: Algorithm(rawValue: algorithm), mode: mode, maxKeySize: size)) != nil
            }
        }
        guard supported else { return .notSupported }
        switch element {
        case 0: return .success
        case ECCCurveID.p192, ECCCurveID.p224, ECCCurveID.p256, ECCCurveID.p384, ECCCurveID.p521: return .success
        default: return .notSupported
        }
    }

    /// `TEE_GenerateRandom`.
    public func randomBytes(_ count: Int) -> [UInt8] {
        do { return try RandomGenerator.shared.bytes(count: count) } catch { panic(0xBAD0_0030, "random generator failed") }
    }
}

/// A digest operation's computation: a fixed-size digest or SHAKE, in a class so an operation
/// can keep (and copy) it, with what `TEE_DigestExtract` has read out so far.
final class DigestState {
    enum Kind {
        case fixed(DigestAlgorithm)
        case extendable(ExtendableOutputAlgorithm)

        init?(_ algorithm: Algorithm) {
            switch algorithm {
            case .md5: self = .fixed(.md5)
            case .sha1: self = .fixed(.sha1)
            case .sha224: self = .fixed(.sha224)
            case .sha256: self = .fixed(.sha256)
            case .sha384: self = .fixed(.sha384)
            case .sha512: self = .fixed(.sha512)
            case .sha3_224: self = .fixed(.sha3_224)
            case .sha3_256: self = .fixed(.sha3_256)
            case .sha3_384: self = .fixed(.sha3_384)
            case .sha3_512: self = .fixed(.sha3_512)
            case .shake128: self = .extendable(.shake128)
            case .shake256: self = .extendable(.shake256)
            default: return nil
            }
        }
    }

    /// SHAKE output one operation may produce before it starts over: OpenSSL 3.0 cannot squeeze
    /// in steps, so each longer read recomputes (amortized by doubling), and the bound keeps a
    /// TA's request from sizing an allocation without limit.
    static let maxExtendableOutput = 1 << 20

    let kind: Kind
    private var fixed: DigestHasher?
    private var shake: ExtendableOutputHasher?
    /// Extraction: the finished digest, or the SHAKE output computed so far; and how much of it
    /// has been handed out.
    private var output: [UInt8] = []
    private(set) var extractedCount = 0

    init(_ kind: Kind) {
        self.kind = kind
        restart()
    }

    func restart() {
        switch kind {
        case .fixed(let a): fixed = DigestHasher(a); shake = nil
        case .extendable(let a): shake = ExtendableOutputHasher(a); fixed = nil
        }
        output = []
        extractedCount = 0
    }

    func update(_ chunk: [UInt8]) {
        guard !chunk.isEmpty else { return }
        if var h = fixed.take() { h.update(chunk); fixed = .some(h) }
        if var h = shake.take() { h.update(chunk); shake = .some(h) }
    }

    /// The whole fixed-size digest; the computation is spent (restart follows).
    func finish() -> [UInt8] {
        guard let h = fixed.take() else { preconditionFailure("finish of a SHAKE state") }
        return h.finalize().bytes
    }

    /// From now on bytes come out of `extract`.
    func beginExtracting() {
        if case .fixed = kind { output = finish() }
    }

    /// The next `count` output bytes (a fixed digest: at most what is left of it).
    func extract(_ count: Int) -> [UInt8] {
        if case .extendable = kind, output.count < extractedCount + count, let h = shake.take() {
            output = h.output(count: max(extractedCount + count, min(2 * output.count, Self.maxExtendableOutput)))
            shake = .some(h)
        }
        let n = min(count, output.count - extractedCount)
        defer { extractedCount += n }
        return Array(output[extractedCount..<(extractedCount + n)])
    }

    func copy() -> DigestState {
        let c = DigestState(kind)
        if let h = fixed.take() { c.fixed = .some(h.copy()); fixed = .some(h) }
        if let h = shake.take() { c.shake = .some(h.copy()); shake = .some(h) }
        c.output = output
        c.extractedCount = extractedCount
        return c
    }
}

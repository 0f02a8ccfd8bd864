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
    private var key: TransientObject?
    private var hasher: HasherBox?
    private var mac: MACBox?
    private var cipher: AESCipher?
    /// Bytes a CBC cipher holds back until a block is complete (they come out with the next update).
    private var cbcPending = 0
    private var gcm: AESGCM?
    private var gcmSetup: (iv: [UInt8], tagLength: Int, aad: [UInt8])?

    /// NOT_SUPPORTED for an algorithm/mode pair rproc-tee does not implement.
    public init(algorithm: Algorithm, mode: OperationMode, maxKeySize: Int = 0) throws(TEEResult) {
        let allowed: [OperationMode]
        switch algorithm {
        case .sha256, .sha384, .sha512: allowed = [.digest]
        case .hmacSHA256, .hmacSHA1, .hmacSHA384, .hmacSHA512, .aesCMAC: allowed = [.mac]
        case .aesCTR, .aesCBCNoPad, .aesGCM: allowed = [.encrypt, .decrypt]
        case .rsaesPKCS1v15, .rsaesOAEPSHA256, .rsaesOAEPSHA384, .rsaesOAEPSHA512: allowed = [.encrypt, .decrypt]
        case .rsaPKCS1v15SHA256, .rsaPSSSHA256, .ecdsaP256, .ecdsaP384: allowed = [.sign, .verify]
        case .ecdhDeriveSharedSecret: allowed = [.derive]
        default: throw .notSupported
        }
        guard allowed.contains(mode) else { throw .notSupported }
        self.algorithm = algorithm
        self.mode = mode
        self.maxKeySize = maxKeySize
        if mode == .digest { hasher = HasherBox(Self.digestAlgorithm(algorithm)) }
    }

    static func digestAlgorithm(_ algorithm: Algorithm) -> DigestAlgorithm {
        switch algorithm {
        case .sha384, .ecdsaP384: .sha384
        case .sha512: .sha512
        default: .sha256
        }
    }

    private func fail(_ code: UInt32, _ reason: String) -> Never { TEE.current.panic(code, reason) }

    // MARK: Keys

    /// `TEE_SetOperationKey`. A key of the wrong type or above `maxKeySize` panics.
    public func setKey(_ object: TransientObject) {
        guard object.isInitialized, object.keySize <= maxKeySize else { fail(0xBAD0_0020, "key not initialized or larger than the operation's maximum") }
        let fits: Bool
        switch algorithm {
        case .hmacSHA256: fits = object.type == .hmacSHA256 || object.type == .genericSecret
        case .hmacSHA1: fits = object.type == .hmacSHA1 || object.type == .genericSecret
        case .hmacSHA384: fits = object.type == .hmacSHA384 || object.type == .genericSecret
        case .hmacSHA512: fits = object.type == .hmacSHA512 || object.type == .genericSecret
        case .aesCMAC: fits = object.type == .aes
        case .aesCTR, .aesCBCNoPad, .aesGCM: fits = object.type == .aes
        case .rsaesPKCS1v15, .rsaesOAEPSHA256, .rsaesOAEPSHA384, .rsaesOAEPSHA512:
            fits = object.type == .rsaKeyPair || (object.type == .rsaPublicKey && mode == .encrypt)
        case .rsaPKCS1v15SHA256, .rsaPSSSHA256: fits = object.type == .rsaKeyPair || (object.type == .rsaPublicKey && mode == .verify)
        case .ecdsaP256: fits = (object.type == .ecdsaKeyPair || (object.type == .ecdsaPublicKey && mode == .verify)) && object.keySize == 256
        case .ecdsaP384: fits = (object.type == .ecdsaKeyPair || (object.type == .ecdsaPublicKey && mode == .verify)) && object.keySize == 384
        case .ecdhDeriveSharedSecret: fits = object.type == .ecdhKeyPair
        default: fits = false
        }
        guard fits else { fail(0xBAD0_0021, "key type \(String(object.type.rawValue, radix: 16)) does not fit the operation") }
        key = object
    }

    // MARK: Digest

    /// `TEE_DigestUpdate`.
    public func digestUpdate(_ chunk: [UInt8]) {
        guard let hasher else { fail(0xBAD0_0022, "not a digest operation") }
        hasher.update(chunk)
    }

    /// `TEE_DigestDoFinal`.
    public func digestDoFinal(_ chunk: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard let hasher else { fail(0xBAD0_0022, "not a digest operation") }
        let size = Self.digestAlgorithm(algorithm).byteCount
        guard outputLength >= size else {
            outputLength = size
            throw .shortBuffer
        }
        hasher.update(chunk)
        let digest = hasher.finish()
        outputLength = size
        return digest.bytes
    }

    public func digestDoFinal(_ chunk: [UInt8] = []) -> [UInt8] {
        var length = Int.max
        return try! digestDoFinal(chunk, outputLength: &length)
    }

    // MARK: MAC

    /// `TEE_MACInit`.
    public func macInit() {
        guard mode == .mac, let secret = key?.secret else { fail(0xBAD0_0023, "MAC operation without a key") }
        // The key's size was checked when the object was populated or generated.
        switch algorithm {
        case .hmacSHA1: mac = MACBox(try! HMAC(sha1Key: secret))
        case .hmacSHA384: mac = MACBox(try! HMAC(.sha384, key: secret))
        case .hmacSHA512: mac = MACBox(try! HMAC(.sha512, key: secret))
        case .aesCMAC: mac = MACBox(cmac: try! AESCMAC(key: secret))
        default: mac = MACBox(try! HMAC(.sha256, key: secret))
        }
    }

    private var macLength: Int {
        switch algorithm {
        case .hmacSHA1: 20
        case .hmacSHA384: 48
        case .hmacSHA512: 64
        case .aesCMAC: AESCMAC.tagLength
        default: 32
        }
    }

    /// `TEE_ResetOperation`: back to the initial state with the key kept — an unfinished
    /// digest, MAC or cipher is dropped.
    public func reset() {
        mac = nil
        cipher = nil
        cbcPending = 0
        gcm = nil
        gcmSetup = nil
        if mode == .digest { hasher = HasherBox(Self.digestAlgorithm(algorithm)) }
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
        return mac.finish()
    }

    /// `TEE_MACCompareFinal`: MAC_INVALID unless `expected` is the full tag (constant time).
    public func macCompareFinal(_ chunk: [UInt8], expected: [UInt8]) throws(TEEResult) {
        guard let mac else { fail(0xBAD0_0024, "MAC not initialized") }
        mac.update(chunk)
        self.mac = nil
        let tag = mac.finish()
        guard expected.count == tag.count, constantTimeEquals(tag, expected) else { throw .macInvalid }
    }

    // MARK: Cipher

    /// `TEE_CipherInit` with a 16-byte IV.
    public func cipherInit(iv: [UInt8]) throws(TEEResult) {
        guard algorithm == .aesCTR || algorithm == .aesCBCNoPad, let secret = key?.secret else { fail(0xBAD0_0025, "cipher operation without a key") }
        do {
            cipher = try AESCipher(mode: algorithm == .aesCTR ? .ctr : .cbc, direction: mode == .encrypt ? .encrypt : .decrypt, key: secret, iv: iv)
            cbcPending = 0
        } catch {
            throw .badParameters
        }
    }

    /// `TEE_CipherUpdate`.
    public func cipherUpdate(_ input: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard let cipher else { fail(0xBAD0_0026, "cipher not initialized") }
        // CBC releases whole blocks only (what is buffered plus the input, rounded down to 16),
        // CTR everything: exactly what OP-TEE asks for, so a buffer of the input's size suffices.
        let needed = algorithm == .aesCTR ? input.count : (cbcPending + input.count) / 16 * 16
        guard outputLength >= needed else {
            outputLength = needed
            throw .shortBuffer
        }
        let out = (try? cipher.update(input)) ?? []
        if algorithm == .aesCBCNoPad { cbcPending = (cbcPending + input.count) % 16 }
        outputLength = out.count
        return out
    }

    /// `TEE_CipherDoFinal`. BAD_PARAMETERS if CBC data is not a whole number of blocks.
    public func cipherDoFinal(_ input: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard let cipher else { fail(0xBAD0_0026, "cipher not initialized") }
        guard outputLength >= input.count + (algorithm == .aesCTR ? 0 : 15) else {
            outputLength = input.count + (algorithm == .aesCTR ? 0 : 15)
            throw .shortBuffer
        }
        do {
            let out = try cipher.finalize(input)
            outputLength = out.count
            self.cipher = nil
            return out
        } catch {
            throw .badParameters
        }
    }

    // MARK: Authenticated encryption (AES-GCM)

    /// `TEE_AEInit`: nonce, tag length in bits (32…128, multiple of 8 here).
    public func aeInit(nonce: [UInt8], tagBits: Int) throws(TEEResult) {
        guard algorithm == .aesGCM, key?.secret != nil else { fail(0xBAD0_0027, "AE operation without a key") }
        guard tagBits % 8 == 0, (32...128).contains(tagBits), !nonce.isEmpty else { throw .notSupported }
        gcmSetup = (nonce, tagBits / 8, [])
        gcm = nil
    }

    /// `TEE_AEUpdateAAD`: only before the first `aeUpdate` (mbedTLS 2.28 takes AAD up front).
    public func aeUpdateAAD(_ aad: [UInt8]) {
        guard gcm == nil, gcmSetup != nil else { fail(0xBAD0_0028, "AAD after data, or AE not initialized") }
        gcmSetup!.aad += aad
    }

    private func startGCM() throws(TEEResult) -> AESGCM {
        if let gcm { return gcm }
        guard let setup = gcmSetup, let secret = key?.secret else { fail(0xBAD0_0028, "AE not initialized") }
        do {
            let op = try AESGCM(direction: mode == .encrypt ? .encrypt : .decrypt, key: secret, iv: setup.iv, aad: setup.aad, tagLength: setup.tagLength)
            gcm = op
            return op
        } catch {
            throw .badParameters
        }
    }

    /// `TEE_AEUpdate`. When decrypting, the output is not authenticated until `aeDecryptFinal`.
    public func aeUpdate(_ input: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard outputLength >= input.count + 15 else {
            outputLength = input.count + 15
            throw .shortBuffer
        }
        let out = (try? startGCM().update(input)) ?? []
        outputLength = out.count
        return out
    }

    /// `TEE_AEEncryptFinal`: the last ciphertext and the tag.
    public func aeEncryptFinal(_ input: [UInt8], outputLength: inout Int) throws(TEEResult) -> (data: [UInt8], tag: [UInt8]) {
        guard outputLength >= input.count + 15 else {
            outputLength = input.count + 15
            throw .shortBuffer
        }
        do {
            let (data, tag) = try startGCM().finalizeEncryption(input)
            outputLength = data.count
            gcm = nil
            gcmSetup = nil
            return (data, tag)
        } catch let error as TEEResult {
            throw error
        } catch {
            throw .badParameters
        }
    }

    /// `TEE_AEDecryptFinal`: MAC_INVALID (and no plaintext) unless the tag matches.
    public func aeDecryptFinal(_ input: [UInt8], tag: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard outputLength >= input.count + 15 else {
            outputLength = input.count + 15
            throw .shortBuffer
        }
        do {
            let data = try startGCM().finalizeDecryption(input, tag: tag)
            outputLength = data.count
            gcm = nil
            gcmSetup = nil
            return data
        } catch let error as TEEResult {
            throw error
        } catch {
            gcm = nil
            gcmSetup = nil
            throw .macInvalid
        }
    }

    // MARK: Key derivation

    /// `TEE_DeriveKey` for ECDH: `params` carry the peer's TEE_ATTR_ECC_PUBLIC_VALUE_X and _Y;
    /// `derived` (an empty GENERIC_SECRET big enough) receives the shared secret, the x
    /// coordinate of d·Q. Like OP-TEE, every failure panics — TEE_DeriveKey returns nothing —
    /// a peer point off the key's curve included (the TA handed us an attacker's point).
    public func deriveKey(_ params: [Attribute], into derived: TransientObject) {
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

    // MARK: Asymmetric encryption

    private var rsaPadding: RSAEncryptionPadding {
        switch algorithm {
        case .rsaesOAEPSHA256: .oaep(.sha256)
        case .rsaesOAEPSHA384: .oaep(.sha384)
        case .rsaesOAEPSHA512: .oaep(.sha512)
        default: .pkcs1v15
        }
    }

    /// `TEE_AsymmetricEncrypt`: SHORT_BUFFER with the modulus length when the output is smaller;
    /// BAD_PARAMETERS for a message too long for the key and padding.
    public func asymmetricEncrypt(_ input: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard mode == .encrypt, let rsa = key?.rsaPublic else { fail(0xBAD0_002C, "not an encrypting operation with an RSA key") }
        guard outputLength >= rsa.byteCount else {
            outputLength = rsa.byteCount
            throw .shortBuffer
        }
        do {
            let out = try rsa.encrypt(input, padding: rsaPadding)
            outputLength = out.count
            return out
        } catch {
            throw .badParameters
        }
    }

    /// `TEE_AsymmetricDecrypt`: SHORT_BUFFER with the plaintext's length when the output is
    /// smaller; BAD_PARAMETERS for a ciphertext that does not decrypt.
    public func asymmetricDecrypt(_ input: [UInt8], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard mode == .decrypt, let rsa = key?.rsaPrivate else { fail(0xBAD0_002D, "not a decrypting operation with an RSA key pair") }
        let plain: SecureBytes
        do { plain = try rsa.decrypt(input, padding: rsaPadding) } catch { throw .badParameters }
        guard outputLength >= plain.count else {
            outputLength = plain.count
            throw .shortBuffer
        }
        outputLength = plain.count
        return plain.unsafeBytes
    }

    // MARK: Asymmetric signatures

    private func checkDigest(_ digest: [UInt8]) -> Digest {
        let algorithm = Self.digestAlgorithm(self.algorithm)
        guard let d = try? Digest(algorithm: algorithm, bytes: digest) else {
            fail(0xBAD0_0029, "digest of \(digest.count) bytes for an algorithm that takes \(algorithm.byteCount)")
        }
        return d
    }

    private func pssSalt(_ params: [Attribute]) -> Int {
        Int(params.first { $0.id == AttributeID.rsaPSSSaltLength }?.value?.a ?? 32)
    }

    /// `TEE_AsymmetricSignDigest`. ECDSA signatures are raw r‖s.
    public func signDigest(_ digest: [UInt8], params: [Attribute] = [], outputLength: inout Int) throws(TEEResult) -> [UInt8] {
        guard mode == .sign, let key else { fail(0xBAD0_002A, "not a signing operation with a key") }
        let d = checkDigest(digest)
        let size: Int = key.rsaPrivate.map { ($0.bitCount + 7) / 8 } ?? (key.ecPrivate.map { 2 * $0.curve.byteCount } ?? 0)
        guard outputLength >= size else {
            outputLength = size
            throw .shortBuffer
        }
        do {
            let signature: [UInt8]
            switch algorithm {
            case .rsaPKCS1v15SHA256: signature = try key.rsaPrivate!.signature(for: d, padding: .pkcs1v15)
            case .rsaPSSSHA256: signature = try key.rsaPrivate!.signature(for: d, padding: .pss(saltLength: .exactly(pssSalt(params))))
            default: signature = try key.ecPrivate!.signature(for: d).rawRepresentation
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
        let d = checkDigest(digest)
        do {
            switch algorithm {
            case .rsaPKCS1v15SHA256: try key.rsaPublic!.verify(signature: signature, for: d, padding: .pkcs1v15)
            case .rsaPSSSHA256: try key.rsaPublic!.verify(signature: signature, for: d, padding: .pss(saltLength: .exactly(pssSalt(params))))
            default:
                let publicKey = key.ecPublic!
                try publicKey.verify(signature: try ECDSASignature(rawRepresentation: signature, curve: publicKey.curve), for: d)
            }
        } catch {
            throw .signatureInvalid
        }
    }
}

extension TEE {
    /// `TEE_GenerateRandom`.
    public func randomBytes(_ count: Int) -> [UInt8] {
        do { return try RandomGenerator.shared.bytes(count: count) } catch { panic(0xBAD0_0030, "random generator failed") }
    }
}

/// Holds a non-copyable streaming hasher in a class so an operation can keep it.
final class HasherBox {
    private var state: DigestHasher?
    let algorithm: DigestAlgorithm
    init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        state = .some(DigestHasher(algorithm))
    }
    func update(_ chunk: [UInt8]) {
        var s = state.take()!
        s.update(chunk)
        state = .some(s)
    }
    /// Finishes and starts over (GP resets a digest operation after DoFinal).
    func finish() -> Digest {
        let done = state.take()!
        state = .some(DigestHasher(algorithm))
        return done.finalize()
    }
}

final class MACBox {
    private var state: HMAC?
    private let cmac: AESCMAC?
    init(_ mac: consuming HMAC) { state = .some(mac); cmac = nil }
    init(cmac: AESCMAC) { state = nil; self.cmac = cmac }
    func update(_ chunk: [UInt8]) {
        if let cmac { return cmac.update(chunk) }
        var s = state.take()!
        s.update(chunk)
        state = .some(s)
    }
    func finish() -> [UInt8] { cmac?.finalize() ?? state.take()!.finalize() }
}

import OPTEETestTAInterface
import TEEInternalAPI

/// optee_test's `crypto_perf` TA in Swift, written from what the original
/// (`ta/crypto_perf/ta_crypto_perf.c`, `ta_entry.c`) does: `xtest --aes-perf`, `--hash-perf` and
/// `--asym-perf` prepare an operation with one command and then time another that runs it over
/// the caller's buffers a given number of times. The fixed keys, IV and tag length carry over.
///
/// Multi-instance like the original (TA_FLAGS 0): the operations and objects are its instance's,
/// freed when its one session closes. Where the original trusts its caller this port does not:
///
/// - each pass of `cipherProcess` runs over the whole input from its start (the original keeps
///   advancing its pointers, past the end of both buffers from the second pass on; xtest asks for
///   one pass unless `-l` says otherwise), and an output smaller than the input is SHORT_BUFFER;
/// - an offset past the end of `hashProcess`'s input is BAD_PARAMETERS (the original's size
///   underflows), an update size of 0 over an empty input does nothing (the original divides by
///   zero);
/// - a command that needs a prepared operation or object before one is prepared panics, as the
///   original's GP call on TEE_HANDLE_NULL does;
/// - the timed loops check the cancellation flag (unmasked for them) between passes, so a
///   cancelled call ends with CANCEL;
/// - inputs are private copies (`read()`), outputs written once at the end of the call.
///
/// SM2, SM3, SM4, X25519 and secure data path buffers are not in rproc-tee's GP API: those
/// requests fail where OP-TEE built without them fails (NOT_SUPPORTED from the allocation).
public final class CryptoPerfTAImplementation: TrustedApplication {
    /// The original declares 32 KiB of data; a Swift TA's copies of the caller's buffers count
    /// against its data limit (input, output and the update in progress: a few MiB a buffer).
    public static let properties = TAProperties(uuid: CryptoPerfTA.uuid, dataSize: 16 << 20, stackSize: 32 * 1024,
                                                description: "crypto_perf (optee_test), GP crypto benchmarks")

    private let tee: TEE
    /// The operation the timed commands run (`crypto_op`).
    private var operation: CryptoOperation?
    /// The operation that makes the timed decrypt's ciphertext or verify's signature
    /// (`crypto_op_enc_sign`).
    private var encryptOrSign: CryptoOperation?
    /// The key object of the asymmetric commands (`crypto_obj`).
    private var object: TransientObject?
    /// The attributes kept by `asymmetricPrepareAttributes` (`asym_perf_attrs`).
    private var attributes: [Attribute] = []
    /// The algorithm the last prepare chose (`algo`).
    private var algorithm = Algorithm(rawValue: 0)

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
    }

    public func closeSession(_ session: Void) {
        operation = nil
        encryptOrSign = nil
        object = nil
        attributes = []
    }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = CryptoPerfTA.Command(rawValue: command) else { throw .badParameters }
        switch command {
        case .cipherPrepareKey: try cipherPrepareKey(&params)
        case .cipherProcess: try cipherProcess(&params)
        case .cipherProcessSDP:
            tee.log("crypto_perf: secure data path buffers are not supported")
            throw .notSupported
        case .hashPrepareOperation: try hashPrepare(&params)
        case .hashProcess: try hashProcess(&params)
        case .asymmetricPrepareObject: try asymmetricPrepareObject(&params)
        case .asymmetricPrepareHash: try asymmetricPrepareHash(&params)
        case .asymmetricPrepareKeyPair: try asymmetricPrepareKeyPair(&params)
        case .asymmetricPrepareEncryptOrSign: try asymmetricPrepareEncryptOrSign(&params)
        case .asymmetricPrepareAttributes:
            try params.require(ParamTypes(.memrefInout))
            attributes = try CryptTAImplementation.unpackAttributes(params.memref(0).read())
        case .asymmetricFreeAttributes:
            try params.require(ParamTypes())
            attributes = []
        case .asymmetricProcessGenerateKeyPair: try asymmetricGenerateKeyPairs(&params)
        case .asymmetricProcess: try asymmetricProcess(&params)
        }
    }

    /// The prepared operation; before one is prepared, the panic of a GP call on TEE_HANDLE_NULL.
    private func prepared(_ op: CryptoOperation?, _ what: String) -> CryptoOperation {
        guard let op else { tee.panic(0, "crypto_perf: \(what) before an operation is prepared (TEE_HANDLE_NULL)") }
        return op
    }

    /// Runs `body` `times` times with cancellation unmasked, checking the flag before each pass.
    /// Attacker: a client asking for 2^32 − 1 passes — each pass is bounded by its buffers, and
    /// the client can always cancel (or die, which cancels).
    private func passes(_ times: UInt32, _ body: () throws(TEEResult) -> Void) throws(TEEResult) {
        let masked = tee.setCancellationMasked(false)
        defer { tee.setCancellationMasked(masked) }
        for _ in 0..<times {
            if tee.isCancelled { throw .cancel }
            try body()
        }
    }

    // MARK: Symmetric ciphers (`xtest --aes-perf`)

    private func cipherPrepareKey(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.valueInput, .valueInput))
        let mode: OperationMode = params.value(0).a != 0 ? .decrypt : .encrypt
        let keyBits = Int(params.value(0).b)
        guard let cipher = CryptoPerfTA.CipherMode(rawValue: params.value(1).a) else { throw .badParameters }
        let (algorithm, type, usesIV, twoKeys): (Algorithm, ObjectType, Bool, Bool) = switch cipher {
        case .aesECB: (.aesECBNoPad, .aes, false, false)
        case .aesCBC: (.aesCBCNoPad, .aes, true, false)
        case .aesCTR: (.aesCTR, .aes, true, false)
        case .aesXTS: (.aesXTS, .aes, true, true)
        case .aesGCM: (.aesGCM, .aes, true, false)
        case .sm4ECB: (Algorithm(rawValue: 0x1000_0014), ObjectType(rawValue: 0xA000_0014), false, false)
        case .sm4CBC: (Algorithm(rawValue: 0x1000_0114), ObjectType(rawValue: 0xA000_0014), true, false)
        case .sm4CTR: (Algorithm(rawValue: 0x1000_0214), ObjectType(rawValue: 0xA000_0014), true, false)
        case .sm4XTS: (Algorithm(rawValue: 0xF000_0414), ObjectType(rawValue: 0xA000_0014), true, true)
        }
        self.algorithm = algorithm
        operation = nil
        encryptOrSign = nil
        let op = try CryptoOperation(algorithm: algorithm, mode: mode, maxKeySize: twoKeys ? keyBits * 2 : keyBits)
        // The client's key size: the object's allocation refuses the sizes its type does not
        // take; this bounds what is cut from the fixed keys.
        guard keyBits % 8 == 0, keyBits / 8 <= CryptoPerfTA.cipherKey.count else { throw .notSupported }
        let key = try TransientObject(type: type, maxKeySize: keyBits)
        try key.populate([.ref(AttributeID.secretValue, Array(CryptoPerfTA.cipherKey.prefix(keyBits / 8)))])
        if twoKeys {
            let key2 = try TransientObject(type: type, maxKeySize: keyBits)
            try key2.populate([.ref(AttributeID.secretValue, Array(CryptoPerfTA.cipherKey2.prefix(keyBits / 8)))])
            try op.setOperationKey2(key, key2)
        } else {
            try op.setOperationKey(key)
        }
        let iv = usesIV ? CryptoPerfTA.iv : []
        if algorithm == .aesGCM {
            try op.aeInit(nonce: iv, tagBits: CryptoPerfTA.gcmTagBits)
        } else {
            // TEE_CipherInit returns nothing: an IV the algorithm cannot take is a panic.
            do { try op.cipherInit(iv: iv) } catch { tee.panic(error.rawValue, "TEE_CipherInit: an IV of \(iv.count) bytes") }
        }
        operation = op
    }

    private func cipherProcess(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.memrefInout, .memrefInout, .valueInput))
        let op = prepared(operation, "TEE_CipherUpdate")
        let input = try params.memref(0).read()
        let capacity = params.memref(1).capacity
        let (times, requestedUnit) = params.value(2)
        // The client's update size: 0 (or more than the input) is the whole input at once.
        let unit = requestedUnit == 0 || Int(requestedUnit) > input.count ? input.count : Int(requestedUnit)
        let authenticated = algorithm == .aesGCM
        var output: [UInt8] = []
        try passes(times) { () throws(TEEResult) in
            output.removeAll(keepingCapacity: true)
            var start = 0
            while start < input.count {
                let end = min(start + unit, input.count)
                let chunk = start == 0 && end == input.count ? input : Array(input[start..<end])
                // The room left in the caller's output, as the original's running `outsz`.
                var length = capacity - output.count
                output += authenticated ? try op.aeUpdate(chunk, outputLength: &length) : try op.cipherUpdate(chunk, outputLength: &length)
                start = end
            }
        }
        try params.withMemref(1) { (m) throws(TEEResult) in
            try m.write(output)
            m.size = m.capacity   // the original leaves the size as given
        }
    }

    // MARK: Digests and MACs (`xtest --hash-perf`)

    private func hashPrepare(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.valueInput))
        guard let hash = CryptoPerfTA.HashAlgorithm(rawValue: params.value(0).a) else { throw .badParameters }
        let mac: (key: ObjectType, maxKeySize: Int)?
        let algorithm: Algorithm
        switch hash {
        case .sha1: (algorithm, mac) = (.sha1, nil)
        case .sha224: (algorithm, mac) = (.sha224, nil)
        case .sha256: (algorithm, mac) = (.sha256, nil)
        case .sha384: (algorithm, mac) = (.sha384, nil)
        case .sha512: (algorithm, mac) = (.sha512, nil)
        case .sm3: (algorithm, mac) = (.sm3, nil)
        case .hmacSHA1: (algorithm, mac) = (.hmacSHA1, (.hmacSHA1, 512))
        case .hmacSHA224: (algorithm, mac) = (.hmacSHA224, (.hmacSHA224, 512))
        case .hmacSHA256: (algorithm, mac) = (.hmacSHA256, (.hmacSHA256, 512))
        case .hmacSHA384: (algorithm, mac) = (.hmacSHA384, (.hmacSHA384, 1024))
        case .hmacSHA512: (algorithm, mac) = (.hmacSHA512, (.hmacSHA512, 1024))
        case .hmacSM3: (algorithm, mac) = (.hmacSM3, (ObjectType(rawValue: 0xA000_0007), 512))
        }
        self.algorithm = algorithm
        operation = nil
        guard let mac else {
            operation = try CryptoOperation(algorithm: algorithm, mode: .digest)
            return
        }
        let op = try CryptoOperation(algorithm: algorithm, mode: .mac, maxKeySize: mac.maxKeySize)
        let key = try TransientObject(type: mac.key, maxKeySize: mac.maxKeySize)
        // The original's key is 512 bits whatever the object's maximum.
        try key.populate([.ref(AttributeID.secretValue, CryptoPerfTA.macKey)])
        try op.setOperationKey(key)
        operation = op
    }

    private func hashProcess(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.memrefInput, .memrefOutput, .valueInput))
        let op = prepared(operation, "TEE_DigestDoFinal")
        let (times, offset) = params.value(2)
        let whole = params.memref(0)
        // The client's offset into its own input, checked against the input's size.
        guard Int(offset) <= whole.capacity else { throw .badParameters }
        let input = try whole.read(offset: Int(offset), count: whole.capacity - Int(offset))
        let capacity = params.memref(1).capacity
        let isMAC = op.mode == .mac
        var digest: [UInt8] = []
        try passes(times) { () throws(TEEResult) in
            var length = capacity
            if isMAC {
                op.macInit()
                digest = try op.macComputeFinal(input, outputLength: &length)
            } else {
                digest = try op.digestDoFinal(input, outputLength: &length)
            }
        }
        try params.withMemref(1) { (m) throws(TEEResult) in
            try m.write(digest)
            m.size = m.capacity
        }
    }

    // MARK: Asymmetric algorithms (`xtest --asym-perf`)

    /// `get_keypair_type`: the key-pair type for an algorithm (SM2's depends on the mode).
    private static func keyPairType(_ raw: UInt32, mode: UInt32) -> ObjectType? {
        switch CryptoPerfTA.AsymmetricAlgorithm(rawValue: raw) {
        case .dh: .dhKeyPair
        case .rsa: .rsaKeyPair
        case .ecdsa: .ecdsaKeyPair
        case .ecdh: .ecdhKeyPair
        case .x25519: ObjectType(rawValue: 0xA100_0044)
        case .sm2:
            switch CryptoPerfTA.AsymmetricMode(rawValue: mode) {
            case .encrypt, .decrypt: ObjectType(rawValue: 0xA100_0047)
            case .sign, .verify: ObjectType(rawValue: 0xA100_0045)
            default: nil
            }
        case nil: nil
        }
    }

    /// `get_algo`: the algorithm the timed operation runs, or nil (BAD_PARAMETERS).
    private static func asymmetricAlgorithm(_ raw: UInt32, mode: CryptoPerfTA.AsymmetricMode, bits: UInt32, rsa: UInt32) -> Algorithm? {
        switch (CryptoPerfTA.AsymmetricAlgorithm(rawValue: raw), mode) {
        case (.rsa, .encrypt), (.rsa, .decrypt):
            switch CryptoPerfTA.RSAMode(rawValue: rsa) {
            case .noPad: .rsaNoPad
            case .pkcs1v15: .rsaesPKCS1v15
            case .oaepSHA1: .rsaesOAEPSHA1
            case .oaepSHA224: .rsaesOAEPSHA224
            case .oaepSHA256: .rsaesOAEPSHA256
            case .oaepSHA384: .rsaesOAEPSHA384
            case .oaepSHA512: .rsaesOAEPSHA512
            default: nil
            }
        case (.rsa, .sign), (.rsa, .verify):
            switch CryptoPerfTA.RSAMode(rawValue: rsa) {
            case .signPKCS1v15SHA1: .rsaPKCS1v15SHA1
            case .signPKCS1v15SHA224: .rsaPKCS1v15SHA224
            case .signPKCS1v15SHA256: .rsaPKCS1v15SHA256
            case .signPKCS1v15SHA384: .rsaPKCS1v15SHA384
            case .signPKCS1v15SHA512: .rsaPKCS1v15SHA512
            case .pssSHA1: .rsaPSSSHA1
            case .pssSHA224: .rsaPSSSHA224
            case .pssSHA256: .rsaPSSSHA256
            case .pssSHA384: .rsaPSSSHA384
            case .pssSHA512: .rsaPSSSHA512
            default: nil
            }
        case (.ecdsa, .sign), (.ecdsa, .verify):
            // OP-TEE's own IDs by curve (`__OPTEE_ALG_ECDSA_P*`), as the original signs with.
            switch bits {
            case 192: Algorithm(rawValue: 0x7000_1041)
            case 224: Algorithm(rawValue: 0x7000_2041)
            case 256: Algorithm(rawValue: 0x7000_3041)
            case 384: Algorithm(rawValue: 0x7000_4041)
            case 521: Algorithm(rawValue: 0x7000_5041)
            default: nil
            }
        case (.sm2, .encrypt), (.sm2, .decrypt): Algorithm(rawValue: 0x8000_0046)
        case (.sm2, .sign), (.sm2, .verify): Algorithm(rawValue: 0x7000_6045)
        default: nil
        }
    }

    private func asymmetricPrepareObject(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.valueInput, .valueInput))
        guard let type = Self.keyPairType(params.value(0).a, mode: params.value(1).a) else { throw .badParameters }
        object = nil
        object = try TransientObject(type: type, maxKeySize: Int(params.value(0).b))
    }

    private func asymmetricPrepareKeyPair(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.valueInput, .valueInput, .memrefInput))
        let (bits, rawMode) = params.value(0)
        let (raw, rsa) = params.value(1)
        guard let mode = CryptoPerfTA.AsymmetricMode(rawValue: rawMode),
              let algorithm = Self.asymmetricAlgorithm(raw, mode: mode, bits: bits, rsa: rsa),
              let gpMode = OperationMode(rawValue: rawMode) else { throw .badParameters }
        self.algorithm = algorithm
        let generation = try CryptTAImplementation.unpackAttributes(params.memref(2).read())
        guard let object else { tee.panic(0, "crypto_perf: TEE_GenerateKey before an object is prepared (TEE_HANDLE_NULL)") }
        try object.generateKey(size: Int(bits), attributes: generation)
        operation = nil
        encryptOrSign = nil
        let op = try CryptoOperation(algorithm: algorithm, mode: gpMode, maxKeySize: Int(bits))
        try op.setOperationKey(object)
        operation = op
        // What makes the timed decrypt's ciphertext or verify's signature.
        let counterpart: OperationMode? = switch mode {
        case .decrypt: .encrypt
        case .verify: .sign
        default: nil
        }
        if let counterpart {
            let other = try CryptoOperation(algorithm: algorithm, mode: counterpart, maxKeySize: Int(bits))
            try other.setOperationKey(object)
            encryptOrSign = other
        }
    }

    private func asymmetricPrepareHash(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInout))
        // ECDSA signs a SHA-1 digest whatever the curve (the original's choice); the rest the
        // digest their algorithm names (OP-TEE's TEE_DIGEST_HASH_TO_ALGO, SM3 for SM2).
        let hash: Algorithm
        if params.value(0).a == CryptoPerfTA.AsymmetricAlgorithm.ecdsa.rawValue {
            hash = .sha1
        } else if algorithm.rawValue == 0x7000_6045 {
            hash = .sm3
        } else {
            hash = Algorithm(rawValue: 0x5000_0000 | (algorithm.rawValue >> 12) & 0xF)
        }
        let op = try CryptoOperation(algorithm: hash, mode: .digest)
        let message = try params.memref(1).read()
        try params.produceOutput(at: 2) { (length) throws(TEEResult) in try op.digestDoFinal(message, outputLength: &length) }
    }

    private func asymmetricPrepareEncryptOrSign(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.memrefInput, .memrefOutput, .valueInput, .memrefInput))
        let decrypting = params.value(2).a == CryptoPerfTA.AsymmetricMode.decrypt.rawValue
        let extra = try CryptTAImplementation.unpackAttributes(params.memref(3).read())
        let op = prepared(encryptOrSign, decrypting ? "TEE_AsymmetricEncrypt" : "TEE_AsymmetricSignDigest")
        let input = try params.memref(0).read()
        try params.produceOutput(at: 1) { (length) throws(TEEResult) in
            // The original encrypts without the attributes and signs with them.
            decrypting ? try op.asymmetricEncrypt(input, outputLength: &length) : try op.signDigest(input, params: extra, outputLength: &length)
        }
    }

    private func asymmetricGenerateKeyPairs(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.valueInput))
        let (bits, times) = params.value(0)
        guard let object else { tee.panic(0, "crypto_perf: TEE_GenerateKey before an object is prepared (TEE_HANDLE_NULL)") }
        let generation = attributes
        try passes(times) { () throws(TEEResult) in
            try object.generateKey(size: Int(bits), attributes: generation)
            object.reset()
        }
    }

    private func asymmetricProcess(_ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.valueInput, .memrefInput, .memrefOutput))
        let (times, rawMode) = params.value(0)
        guard let mode = CryptoPerfTA.AsymmetricMode(rawValue: rawMode), mode != .generateKeyPair else { throw .badParameters }
        let op = prepared(operation, "the timed asymmetric operation")
        let input = try params.memref(1).read()
        let extra = attributes
        if mode == .verify {
            // The signature comes in the output reference (what the prepare wrote there); its
            // whole size is the signature, as in the original.
            let signature = params.memref(2).readContents()
            try passes(times) { () throws(TEEResult) in try op.verifyDigest(input, signature: signature, params: extra) }
            return
        }
        let capacity = params.memref(2).capacity
        var output: [UInt8] = []
        try passes(times) { () throws(TEEResult) in
            var length = capacity
            output = switch mode {
            case .encrypt: try op.asymmetricEncrypt(input, params: extra, outputLength: &length)
            case .decrypt: try op.asymmetricDecrypt(input, params: extra, outputLength: &length)
            default: try op.signDigest(input, params: extra, outputLength: &length)
            }
        }
        try params.withMemref(2) { (m) throws(TEEResult) in
            try m.write(output)
            m.size = m.capacity
        }
    }
}

internal import CMbedTLS
internal import CMbedTLSShims

/// RSA signature padding.
public enum RSASignaturePadding: Sendable, Hashable {
    /// RSASSA-PKCS1-v1_5 (deterministic).
    case pkcs1v15
    /// RSASSA-PSS with MGF1 over the same hash as the digest.
    case pss(saltLength: PSSSaltLength)

    /// PSS with a salt as long as the digest (GP's and OP-TEE's default; 32 for SHA-256).
    public static let pss = RSASignaturePadding.pss(saltLength: .digestLength)
}

/// The salt length of a PSS signature.
public enum PSSSaltLength: Sendable, Hashable {
    /// As long as the digest.
    case digestLength
    /// Exactly this many bytes.
    case exactly(Int)
    /// Verification only: accept whatever salt length the signature carries.
    case any
}

/// An RSA public key (1024 to 8192 bits).
public struct RSAPublicKey: Sendable {
    let context: PKContext

    init(checked context: PKContext) { self.context = context }

    /// A key from its modulus and public exponent (big-endian, leading zeros allowed).
    /// `minimumBits`: 1024 for keys that sign firmware; GP's TAs may use keys from 256 bits.
    public init(modulus: [UInt8], publicExponent: [UInt8], minimumBits: Int = 1024) throws {
        let ctx = PKContext()
        try ctx.withContext { pk in
            var ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA))
            guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "RSA key set-up", ret) }
            let rsa = PKContext.rsa(pk)
            ret = mbedtls_rsa_import_raw(rsa, modulus, modulus.count, nil, 0, nil, 0, nil, 0, publicExponent, publicExponent.count)
            if ret == 0 { ret = mbedtls_rsa_complete(rsa) }
            if ret == 0 { ret = mbedtls_rsa_check_pubkey(rsa) }
            guard ret == 0 else { throw CryptoError.mbedTLS(.invalidKey, "RSA public key (n, e) rejected", ret) }
        }
        try Self.checkSize(ctx, minimumBits: minimumBits)
        self.context = ctx
    }

    static func checkSize(_ ctx: PKContext, minimumBits: Int = 1024) throws {
        let bits = ctx.withContext { mbedtls_pk_get_bitlen($0) }
        guard (minimumBits...8192).contains(bits) else {
            throw CryptoError(.unsupportedKey, "RSA keys of \(minimumBits) to 8192 bits are supported, not \(bits)")
        }
    }

    /// RSA without padding (GP's TEE_ALG_RSA_NOPAD encryption): `input`, a big-endian integer
    /// below the modulus, raised to e. The result is modulus-length. `.invalidArgument` for an
    /// input not below the modulus.
    public func rawPublic(_ input: [UInt8]) throws -> [UInt8] {
        let k = byteCount
        guard let block = leftPadded(input, to: k) else { throw CryptoError(.invalidArgument, "an RSA-\(bitCount) input longer than the modulus") }
        return try context.withContext { pk in
            var out = [UInt8](repeating: 0, count: k)
            let ret = mbedtls_rsa_public(PKContext.rsa(pk), block, &out)
            guard ret == 0 else { throw CryptoError.mbedTLS(.invalidArgument, "RSA public operation (input not below the modulus?)", ret) }
            return out
        }
    }

    /// PKCS#1 v1.5 signature verification over raw bytes with no DigestInfo (OP-TEE's
    /// TEE_ALG_RSASSA_PKCS1_V1_5, for TLS 1.1's MD5‖SHA-1 and the like).
    public func verifyUnhashed(signature: [UInt8], data: [UInt8]) throws {
        guard signature.count == byteCount else { throw CryptoError(.malformedSignature, "an RSA-\(bitCount) signature is \(byteCount) bytes, not \(signature.count)") }
        let ret = context.withContext { pk in
            mbedtls_rsa_rsassa_pkcs1_v15_verify(PKContext.rsa(pk), nil, nil, MBEDTLS_RSA_PUBLIC, MBEDTLS_MD_NONE, UInt32(data.count), data, signature)
        }
        guard ret == 0 else { throw CryptoError.mbedTLS(.signatureMismatch, "RSA signature does not verify", ret) }
    }

    /// The modulus's length in bits (mbedtls_pk_get_bitlen would give 8 × its length in bytes).
    public var bitCount: Int {
        let n = modulus
        guard let first = n.firstIndex(where: { $0 != 0 }) else { return 0 }
        return (n.count - first) * 8 - n[first].leadingZeroBitCount
    }
    /// Modulus length in bytes: the exact length of every signature.
    public var byteCount: Int { context.withContext { mbedtls_rsa_get_len(PKContext.rsa($0)) } }

    public var modulus: [UInt8] {
        context.withContext { pk in
            let rsa = PKContext.rsa(pk)
            var n = [UInt8](repeating: 0, count: mbedtls_rsa_get_len(rsa))
            let ret = mbedtls_rsa_export_raw(rsa, &n, n.count, nil, 0, nil, 0, nil, 0, nil, 0)
            precondition(ret == 0, "mbedtls_rsa_export_raw: \(mbedTLSErrorText(ret))")
            return n
        }
    }

    public var publicExponent: [UInt8] {
        context.withContext { pk in
            let e = rproc_rsa_public_exponent(PKContext.rsa(pk))!
            return strippingLeadingZeros(mpiBytes(e, width: mbedtls_mpi_size(e)))
        }
    }

    public var derRepresentation: [UInt8] { context.publicKeyDER() }
    public var pemRepresentation: String { context.publicKeyPEM() }

    /// Verifies `signature` over `digest`. Returns only if mbedTLS reports success.
    ///
    /// Throws `.malformedSignature` for a signature that is not exactly the modulus length or
    /// whose value is not below the modulus, and `.signatureMismatch` for one that does not verify.
    public func verify(signature: some Collection<UInt8>, for digest: Digest, padding: RSASignaturePadding) throws {
        let length = byteCount
        guard signature.count == length else {
            throw CryptoError(.malformedSignature, "an RSA-\(bitCount) signature is \(length) bytes, not \(signature.count)")
        }
        let sig = Array(signature)
        let md = try digest.algorithm.requireMbedTLS(for: "RSA signatures")
        let ret: Int32 = context.withContext { pk in
            let rsa = PKContext.rsa(pk)
            switch padding {
            case .pkcs1v15:
                return mbedtls_rsa_rsassa_pkcs1_v15_verify(rsa, nil, nil, MBEDTLS_RSA_PUBLIC, md,
                                                          UInt32(digest.bytes.count), digest.bytes, sig)
            case .pss(let salt):
                let expected: Int32 = switch salt {
                case .digestLength: Int32(digest.algorithm.byteCount)
                case .exactly(let n): Int32(clamping: n)
                case .any: MBEDTLS_RSA_SALT_LEN_ANY
                }
                return mbedtls_rsa_rsassa_pss_verify_ext(rsa, nil, nil, MBEDTLS_RSA_PUBLIC, md,
                                                        UInt32(digest.bytes.count), digest.bytes, md, expected, sig)
            }
        }
        switch ret {
        case 0:
            return
        case MBEDTLS_ERR_RSA_VERIFY_FAILED, MBEDTLS_ERR_RSA_INVALID_PADDING:
            throw CryptoError.mbedTLS(.signatureMismatch, "RSA signature does not verify", ret)
        case let r where r <= MBEDTLS_ERR_RSA_PUBLIC_FAILED && r > MBEDTLS_ERR_RSA_PUBLIC_FAILED - 0x80:
            throw CryptoError.mbedTLS(.malformedSignature, "RSA signature value is not below the modulus", ret)
        default:
            throw CryptoError.mbedTLS(.signatureMismatch, "RSA signature verification failed", ret)
        }
    }
}

/// An RSA private key.
public struct RSAPrivateKey: Sendable {
    let context: PKContext

    init(checked context: PKContext) { self.context = context }

    /// Generates a key of 2048, 3072 or 4096 bits with public exponent 65537 (the sizes for keys
    /// that sign firmware).
    public init(generatingBits bits: Int, random: RandomGenerator = .shared) throws {
        guard [2048, 3072, 4096].contains(bits) else {
            throw CryptoError(.unsupportedKey, "RSA key generation takes 2048, 3072 or 4096 bits, not \(bits)")
        }
        try self.init(generating: bits, random: random)
    }

    /// RSA without padding with the private key (GP's TEE_ALG_RSA_NOPAD decryption): the result
    /// is modulus-length. `.invalidArgument` for an input not below the modulus.
    public func rawPrivate(_ input: [UInt8], random: RandomGenerator = .shared) throws -> SecureBytes {
        let k = publicKey.byteCount
        guard let block = leftPadded(input, to: k) else { throw CryptoError(.invalidArgument, "an RSA input longer than the modulus") }
        return try context.withContext { pk in
            var out = SecureBytes(count: k)
            let ret = out.withUnsafeMutableBytes { o in
                mbedtls_rsa_private(PKContext.rsa(pk), random.callback, random.context, block, o.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            guard ret == 0 else { throw CryptoError.mbedTLS(.invalidArgument, "RSA private operation (input not below the modulus?)", ret) }
            return out
        }
    }

    /// PKCS#1 v1.5 signature over raw bytes with no DigestInfo (OP-TEE's TEE_ALG_RSASSA_PKCS1_V1_5).
    public func signatureUnhashed(_ data: [UInt8], random: RandomGenerator = .shared) throws -> [UInt8] {
        try context.withContext { pk in
            let rsa = PKContext.rsa(pk)
            var sig = [UInt8](repeating: 0, count: mbedtls_rsa_get_len(rsa))
            let ret = mbedtls_rsa_rsassa_pkcs1_v15_sign(rsa, random.callback, random.context, MBEDTLS_RSA_PRIVATE, MBEDTLS_MD_NONE, UInt32(data.count), data, &sig)
            guard ret == 0 else { throw CryptoError.mbedTLS(.invalidArgument, "RSA signing (data too long for the key?)", ret) }
            return sig
        }
    }

    /// Generates a key of any even size from 256 to 4096 bits (exponent 65537): what GP lets a TA
    /// ask TEE_GenerateKey for (OP-TEE: 256 to 4096 in 1-bit steps; mbedTLS generates even sizes
    /// only). Small sizes are weak — this is for TAs that choose them, not for firmware keys.
    public init(generatingAnySize bits: Int, random: RandomGenerator = .shared) throws {
        guard (256...4096).contains(bits), bits % 2 == 0 else {
            throw CryptoError(.unsupportedKey, "RSA key generation takes an even size from 256 to 4096 bits, not \(bits)")
        }
        try self.init(generating: bits, random: random)
    }

    private init(generating bits: Int, random: RandomGenerator) throws {
        let ctx = PKContext()
        try ctx.withContext { pk in
            var ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA))
            if ret == 0 { ret = mbedtls_rsa_gen_key(PKContext.rsa(pk), random.callback, random.context, UInt32(bits), 65537) }
            guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "RSA-\(bits) key generation", ret) }
        }
        self.context = ctx
    }

    /// A key from its components (big-endian). mbedTLS derives whatever is missing (the primes
    /// from n, e, d) and the key is checked before it is accepted.
    public init(modulus: [UInt8], publicExponent: [UInt8], privateExponent: SecureBytes, prime1: SecureBytes? = nil, prime2: SecureBytes? = nil, minimumBits: Int = 1024) throws {
        let ctx = PKContext()
        try ctx.withContext { pk in
            var ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA))
            guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "RSA key set-up", ret) }
            let rsa = PKContext.rsa(pk)
            let p = prime1?.unsafeBytes ?? [], q = prime2?.unsafeBytes ?? []
            ret = privateExponent.withUnsafeBytes { d in
                mbedtls_rsa_import_raw(rsa, modulus, modulus.count,
                                       p.isEmpty ? nil : p, p.count, q.isEmpty ? nil : q, q.count,
                                       bytePointer(d), d.count, publicExponent, publicExponent.count)
            }
            if ret == 0 { ret = mbedtls_rsa_complete(rsa) }
            if ret == 0 { ret = mbedtls_rsa_check_privkey(rsa) }
            guard ret == 0 else { throw CryptoError.mbedTLS(.invalidKey, "RSA private key components rejected", ret) }
        }
        try RSAPublicKey.checkSize(ctx, minimumBits: minimumBits)
        self.context = ctx
    }

    public var publicKey: RSAPublicKey {
        // Re-parsing our own SPKI cannot fail; the public half gets its own context.
        RSAPublicKey(checked: try! PKContext.parsePublicKey(context.publicKeyDER()))
    }

    public var bitCount: Int { publicKey.bitCount }

    /// The private components, big-endian: d, p, q, dP, dQ, qInv (GP's RSA attributes).
    public var privateComponents: (privateExponent: SecureBytes, prime1: SecureBytes, prime2: SecureBytes, exponent1: SecureBytes, exponent2: SecureBytes, coefficient: SecureBytes) {
        context.withContext { pk in
            let rsa = PKContext.rsa(pk)
            let len = mbedtls_rsa_get_len(rsa)
            var n = [UInt8](repeating: 0, count: len)
            var d = [UInt8](repeating: 0, count: len), p = d, q = d
            var ret = mbedtls_rsa_export_raw(rsa, &n, len, &p, len, &q, len, &d, len, nil, 0)
            precondition(ret == 0, "mbedtls_rsa_export_raw: \(mbedTLSErrorText(ret))")
            var dp = mbedtls_mpi(), dq = mbedtls_mpi(), qp = mbedtls_mpi()
            mbedtls_mpi_init(&dp); mbedtls_mpi_init(&dq); mbedtls_mpi_init(&qp)
            defer { mbedtls_mpi_free(&dp); mbedtls_mpi_free(&dq); mbedtls_mpi_free(&qp) }
            ret = mbedtls_rsa_export_crt(rsa, &dp, &dq, &qp)
            precondition(ret == 0, "mbedtls_rsa_export_crt: \(mbedTLSErrorText(ret))")
            func secure(_ bytes: [UInt8]) -> SecureBytes {
                var b = strippingLeadingZeros(bytes)
                return SecureBytes(consuming: &b)
            }
            defer {
                for i in d.indices { d[i] = 0 }
                for i in p.indices { p[i] = 0; q[i] = 0 }
            }
            return (secure(d), secure(p), secure(q), secure(mpiBytes(&dp, width: len)), secure(mpiBytes(&dq, width: len)), secure(mpiBytes(&qp, width: len)))
        }
    }

    public var derRepresentation: SecureBytes { context.privateKeyDER() }
    public var pemRepresentation: SecureBytes { context.privateKeyPEM() }

    /// Signs `digest`. PKCS#1 v1.5 is deterministic; PSS draws its salt from `random`.
    public func signature(for digest: Digest, padding: RSASignaturePadding, random: RandomGenerator = .shared) throws -> [UInt8] {
        let md = try digest.algorithm.requireMbedTLS(for: "RSA signatures")
        return try context.withContext { pk in
            let rsa = PKContext.rsa(pk)
            var sig = [UInt8](repeating: 0, count: mbedtls_rsa_get_len(rsa))
            let ret: Int32
            switch padding {
            case .pkcs1v15:
                ret = mbedtls_rsa_rsassa_pkcs1_v15_sign(rsa, random.callback, random.context, MBEDTLS_RSA_PRIVATE,
                                                        md, UInt32(digest.bytes.count), digest.bytes, &sig)
            case .pss(let salt):
                let saltLength: Int32
                switch salt {
                case .digestLength: saltLength = Int32(digest.algorithm.byteCount)
                case .exactly(let n) where n >= 0 && n <= sig.count: saltLength = Int32(n)
                case .exactly(let n): throw CryptoError(.invalidArgument, "PSS salt length \(n) out of range")
                case .any: throw CryptoError(.invalidArgument, "PSS salt length .any is for verification only")
                }
                // MGF1 uses the context's hash: set it to the digest's for this call.
                mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, Int32(md.rawValue))
                defer { mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, Int32(MBEDTLS_MD_NONE.rawValue)) }
                ret = mbedtls_rsa_rsassa_pss_sign_ext(rsa, random.callback, random.context, md,
                                                      UInt32(digest.bytes.count), digest.bytes, saltLength, &sig)
            }
            guard ret == 0 else {
                let code: CryptoError.Code = ret == MBEDTLS_ERR_RSA_BAD_INPUT_DATA ? .invalidArgument : .libraryFailure
                throw CryptoError.mbedTLS(code, "RSA signing", ret)
            }
            return sig
        }
    }
}

internal import CMbedTLS
internal import CMbedTLSShims

/// The NIST prime curves TEECrypto signs, verifies and agrees keys on. Key files (image signing)
/// take P-256 and P-384 only (`fileKeyCurves`); GP's API takes all five.
public enum ECCurve: String, Sendable, Hashable, CaseIterable {
    case p192 = "P-192"
    case p224 = "P-224"
    case p256 = "P-256"
    case p384 = "P-384"
    case p521 = "P-521"

    /// The curves a PEM/DER key file may be on.
    public static let fileKeyCurves: Set<ECCurve> = [.p256, .p384]

    /// Size of a coordinate, a scalar and each half of a raw signature.
    public var byteCount: Int {
        switch self {
        case .p192: 24
        case .p224: 28
        case .p256: 32
        case .p384: 48
        case .p521: 66
        }
    }

    /// The curve's size in bits (GP's key size for it).
    public var bitCount: Int { self == .p521 ? 521 : byteCount * 8 }

    /// The hash that matches the curve's strength (SHA-256 for P-256, SHA-384 for P-384); also
    /// the hash RFC 6979 derives nonces with when signing a digest of another length.
    public var matchingDigest: DigestAlgorithm {
        switch self {
        case .p192, .p224, .p256: .sha256
        case .p384: .sha384
        case .p521: .sha512
        }
    }

    var groupID: mbedtls_ecp_group_id {
        switch self {
        case .p192: MBEDTLS_ECP_DP_SECP192R1
        case .p224: MBEDTLS_ECP_DP_SECP224R1
        case .p256: MBEDTLS_ECP_DP_SECP256R1
        case .p384: MBEDTLS_ECP_DP_SECP384R1
        case .p521: MBEDTLS_ECP_DP_SECP521R1
        }
    }

    init?(groupID: mbedtls_ecp_group_id) {
        guard let curve = ECCurve.allCases.first(where: { $0.groupID == groupID }) else { return nil }
        self = curve
    }

    static func of(_ ctx: PKContext) throws -> ECCurve {
        let id = ctx.withContext { rproc_ecp_keypair_group_id(PKContext.ec($0)) }
        guard let curve = ECCurve(groupID: id), fileKeyCurves.contains(curve) else {
            throw CryptoError(.unsupportedKey, "only P-256 and P-384 EC keys are supported")
        }
        return curve
    }
}

/// An ECDSA/ECDH public key on a NIST prime curve.
public struct ECPublicKey: Sendable {
    let context: PKContext
    public let curve: ECCurve

    init(checked context: PKContext, curve: ECCurve) {
        self.context = context
        self.curve = curve
    }

    /// A key from its affine coordinates (big-endian, at most the curve's size each; shorter
    /// values are left-padded). The point must lie on the curve.
    public init(curve: ECCurve, x: [UInt8], y: [UInt8]) throws {
        guard let px = leftPadded(x, to: curve.byteCount), let py = leftPadded(y, to: curve.byteCount) else {
            throw CryptoError(.invalidLength, "\(curve.rawValue) coordinates are at most \(curve.byteCount) bytes")
        }
        let ctx = PKContext()
        try ctx.withContext { pk in
            var ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))
            guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "EC key set-up", ret) }
            let kp = PKContext.ec(pk)
            let grp = rproc_ecp_keypair_group(kp)!
            ret = mbedtls_ecp_group_load(grp, curve.groupID)
            let point = [0x04] + px + py
            if ret == 0 { ret = mbedtls_ecp_point_read_binary(grp, rproc_ecp_keypair_Q(kp), point, point.count) }
            if ret == 0 { ret = mbedtls_ecp_check_pubkey(grp, rproc_ecp_keypair_Q(kp)) }
            guard ret == 0 else { throw CryptoError.mbedTLS(.invalidKey, "\(curve.rawValue) public point rejected", ret) }
        }
        self.context = ctx
        self.curve = curve
    }

    /// The affine coordinates, each exactly `curve.byteCount` bytes.
    public var coordinates: (x: [UInt8], y: [UInt8]) {
        let n = curve.byteCount
        let point: [UInt8] = context.withContext { pk in
            let kp = PKContext.ec(pk)
            var out = [UInt8](repeating: 0, count: 1 + 2 * n)
            var written = 0
            let ret = mbedtls_ecp_point_write_binary(rproc_ecp_keypair_group(kp), rproc_ecp_keypair_Q(kp),
                                                     MBEDTLS_ECP_PF_UNCOMPRESSED, &written, &out, out.count)
            precondition(ret == 0 && written == out.count, "mbedtls_ecp_point_write_binary: \(mbedTLSErrorText(ret))")
            return out
        }
        return (Array(point[1...n]), Array(point[(n + 1)...]))
    }

    public var derRepresentation: [UInt8] { context.publicKeyDER() }
    public var pemRepresentation: String { context.publicKeyPEM() }

    /// Verifies `signature` over `digest` (a digest longer than the curve is truncated, as
    /// ECDSA specifies). Returns only if mbedTLS reports success; throws `.signatureMismatch`
    /// otherwise and `.invalidArgument` for a signature made for another curve.
    public func verify(signature: ECDSASignature, for digest: Digest) throws {
        try verify(signature: signature, forDigestBytes: digest.bytes)
    }

    /// Verifies over raw digest bytes of any length (GP's TEE_AsymmetricVerifyDigest hands the
    /// TA's bytes over as they are).
    public func verify(signature: ECDSASignature, forDigestBytes digest: [UInt8]) throws {
        guard signature.curve == curve else {
            throw CryptoError(.invalidArgument, "a \(signature.curve.rawValue) signature cannot verify with a \(curve.rawValue) key")
        }
        let ret: Int32 = context.withContext { pk in
            let kp = PKContext.ec(pk)
            var r = mbedtls_mpi(), s = mbedtls_mpi()
            mbedtls_mpi_init(&r); mbedtls_mpi_init(&s)
            defer { mbedtls_mpi_free(&r); mbedtls_mpi_free(&s) }
            var ret = mbedtls_mpi_read_binary(&r, signature.r, signature.r.count)
            if ret == 0 { ret = mbedtls_mpi_read_binary(&s, signature.s, signature.s.count) }
            if ret == 0 {
                ret = mbedtls_ecdsa_verify(rproc_ecp_keypair_group(kp), digest, digest.count, rproc_ecp_keypair_Q(kp), &r, &s)
            }
            return ret
        }
        switch ret {
        case 0: return
        case MBEDTLS_ERR_ECP_VERIFY_FAILED:
            throw CryptoError.mbedTLS(.signatureMismatch, "ECDSA \(curve.rawValue) signature does not verify", ret)
        default:
            throw CryptoError.mbedTLS(.signatureMismatch, "ECDSA \(curve.rawValue) verification failed", ret)
        }
    }
}

/// An ECDSA/ECDH private key on a NIST prime curve.
public struct ECPrivateKey: Sendable {
    let context: PKContext
    public let curve: ECCurve

    init(checked context: PKContext, curve: ECCurve) {
        self.context = context
        self.curve = curve
    }

    public init(generating curve: ECCurve, random: RandomGenerator = .shared) throws {
        let ctx = PKContext()
        try ctx.withContext { pk in
            var ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))
            if ret == 0 { ret = mbedtls_ecp_gen_key(curve.groupID, PKContext.ec(pk), random.callback, random.context) }
            guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "\(curve.rawValue) key generation", ret) }
        }
        self.context = ctx
        self.curve = curve
    }

    /// A key from its private scalar; the public point is computed from it. If `x` and `y` are
    /// given they must be that point (GP populates EC key pairs with all three).
    public init(curve: ECCurve, privateValue: SecureBytes, x: [UInt8]? = nil, y: [UInt8]? = nil, random: RandomGenerator = .shared) throws {
        // Leading zero bytes beyond the curve's size are allowed (a big-endian integer), not
        // more significant digits.
        let leadingZeros = privateValue.withUnsafeBytes { $0.prefix { $0 == 0 }.count }
        guard privateValue.count - leadingZeros <= curve.byteCount else {
            throw CryptoError(.invalidLength, "a \(curve.rawValue) private value is at most \(curve.byteCount) bytes")
        }
        let ctx = PKContext()
        try ctx.withContext { pk in
            var ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))
            guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "EC key set-up", ret) }
            let kp = PKContext.ec(pk)
            let grp = rproc_ecp_keypair_group(kp)!
            ret = mbedtls_ecp_group_load(grp, curve.groupID)
            if ret == 0 { ret = privateValue.withUnsafeBytes { mbedtls_mpi_read_binary(rproc_ecp_keypair_d(kp), bytePointer($0), $0.count) } }
            if ret == 0 { ret = mbedtls_ecp_check_privkey(grp, rproc_ecp_keypair_d(kp)) }
            if ret == 0 {
                ret = mbedtls_ecp_mul(grp, rproc_ecp_keypair_Q(kp), rproc_ecp_keypair_d(kp), rproc_ecp_group_generator(grp),
                                      random.callback, random.context)
            }
            guard ret == 0 else { throw CryptoError.mbedTLS(.invalidKey, "\(curve.rawValue) private value rejected", ret) }
        }
        self.context = ctx
        self.curve = curve
        if x != nil || y != nil {
            guard let x, let y, let px = leftPadded(x, to: curve.byteCount), let py = leftPadded(y, to: curve.byteCount) else {
                throw CryptoError(.invalidKey, "an EC key pair needs both public coordinates of at most \(curve.byteCount) bytes")
            }
            let actual = publicKey.coordinates
            guard actual.x == px, actual.y == py else {
                throw CryptoError(.invalidKey, "the public point does not belong to the private value")
            }
        }
    }

    public var publicKey: ECPublicKey {
        ECPublicKey(checked: try! PKContext.parsePublicKey(context.publicKeyDER()), curve: curve)
    }

    /// The private scalar, exactly `curve.byteCount` bytes.
    public var privateValue: SecureBytes {
        context.withContext { pk in
            var d = mpiBytes(rproc_ecp_keypair_d(PKContext.ec(pk)), width: curve.byteCount)
            return SecureBytes(consuming: &d)
        }
    }

    public var derRepresentation: SecureBytes { context.privateKeyDER() }
    public var pemRepresentation: SecureBytes { context.privateKeyPEM() }

    /// Signs `digest` with deterministic ECDSA (RFC 6979), the nonce derived from the key and
    /// the digest so that a weak random generator cannot leak the key; `random` only blinds.
    public func signature(for digest: Digest, random: RandomGenerator = .shared) throws -> ECDSASignature {
        try signature(forDigestBytes: digest.bytes, nonceHash: digest.algorithm, random: random)
    }

    /// Signs raw digest bytes of any length (GP's TEE_AsymmetricSignDigest), the RFC 6979 nonce
    /// derived with `nonceHash` (default: the curve's matching hash).
    public func signature(forDigestBytes digest: [UInt8], nonceHash: DigestAlgorithm? = nil, random: RandomGenerator = .shared) throws -> ECDSASignature {
        let n = curve.byteCount
        let md = try (nonceHash.flatMap { $0.mbedTLSType == nil ? nil : $0 } ?? curve.matchingDigest).requireMbedTLS(for: "deterministic ECDSA")
        let (r, s): ([UInt8], [UInt8]) = try context.withContext { pk in
            let kp = PKContext.ec(pk)
            var r = mbedtls_mpi(), s = mbedtls_mpi()
            mbedtls_mpi_init(&r); mbedtls_mpi_init(&s)
            defer { mbedtls_mpi_free(&r); mbedtls_mpi_free(&s) }
            let ret = mbedtls_ecdsa_sign_det_ext(rproc_ecp_keypair_group(kp), &r, &s, rproc_ecp_keypair_d(kp),
                                                 digest, digest.count, md,
                                                 random.callback, random.context)
            guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "ECDSA \(curve.rawValue) signing", ret) }
            return (mpiBytes(&r, width: n), mpiBytes(&s, width: n))
        }
        return ECDSASignature(unchecked: curve, r: r, s: s)
    }
}

/// `bytes` left-padded with zeros to `width`, or nil if it is longer (after leading zeros).
func leftPadded(_ bytes: [UInt8], to width: Int) -> [UInt8]? {
    let trimmed = bytes.drop { $0 == 0 }
    guard trimmed.count <= width else { return nil }
    return [UInt8](repeating: 0, count: width - trimmed.count) + trimmed
}

extension ECPrivateKey {
    /// ECDH (SP 800-56A §5.7.1.2, the primitive GP's TEE_ALG_ECDH_DERIVE_SHARED_SECRET names):
    /// the x coordinate of d·Q, `curve.byteCount` bytes. The peer's point was checked to be on
    /// the curve when its `ECPublicKey` was made; a result at infinity is refused.
    public func sharedSecret(with peer: ECPublicKey, random: RandomGenerator = .shared) throws -> SecureBytes {
        guard peer.curve == curve else {
            throw CryptoError(.invalidKey, "ECDH needs both keys on one curve: \(curve.rawValue) and \(peer.curve.rawValue)")
        }
        return try context.withContext { pk in
            let kp = PKContext.ec(pk)
            return try peer.context.withContext { peerPK in
                var z = mbedtls_ecp_point()
                mbedtls_ecp_point_init(&z)
                defer { mbedtls_ecp_point_free(&z) }
                var ret = mbedtls_ecp_mul(rproc_ecp_keypair_group(kp), &z, rproc_ecp_keypair_d(kp), rproc_ecp_keypair_Q(PKContext.ec(peerPK)),
                                          random.callback, random.context)
                if ret == 0, mbedtls_ecp_is_zero(&z) == 1 { ret = MBEDTLS_ERR_ECP_INVALID_KEY }
                guard ret == 0 else { throw CryptoError.mbedTLS(.invalidKey, "ECDH \(curve.rawValue) shared secret", ret) }
                var x = mpiBytes(&z.X, width: curve.byteCount)
                return SecureBytes(consuming: &x)
            }
        }
    }
}

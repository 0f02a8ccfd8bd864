import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `ecdsa` TA in Swift: COMPUTE_DIGEST with the selected algorithm's hash (and
/// remembers the algorithm), GEN_KEY on its curve, SIGN_VERIFY_DIGEST (sign with the key pair,
/// verify the signature with the public key before returning it). Every variant of the original:
/// P-192/SHA-1, P-224/SHA-224, P-256/SHA-256, P-384/SHA-384, P-521/SHA-512 (its TEE_ALG_ECDSA_SHA*
/// ids are OP-TEE's TEE_ALG_ECDSA_P* ones).
public final class ECDSAExample: TrustedApplication {
    public static let properties = TAProperties(uuid: ECDSAExampleTA.uuid, description: "ecdsa (optee_examples)")

    public final class State: FreshSessionState {
        public init() {}
        var algorithm: UInt32 = 0
        var keyPair: TransientObject?
        var publicKey: TransientObject?
    }

    public init(tee: TEE) throws(TEEResult) {}
    static func profile(_ algorithm: UInt32) throws(TEEResult) -> (hash: Algorithm, sign: Algorithm, bits: Int, curve: UInt32) {
        switch algorithm {
        case ECDSAExampleTA.sha1: return (.sha1, .ecdsaP192, 192, ECCCurveID.p192)
        case ECDSAExampleTA.sha224: return (.sha224, .ecdsaP224, 224, ECCCurveID.p224)
        case ECDSAExampleTA.sha256: return (.sha256, .ecdsaP256, 256, ECCCurveID.p256)
        case ECDSAExampleTA.sha384: return (.sha384, .ecdsaP384, 384, ECCCurveID.p384)
        case ECDSAExampleTA.sha512: return (.sha512, .ecdsaP521, 521, ECCCurveID.p521)
        default: throw .badParameters
        }
    }

    public func invoke(_ session: State, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        // Like the original: an unknown command is BAD_PARAMETERS.
        guard let command = ECDSAExampleTA.Command(rawValue: command) else { throw .badParameters }
        switch command {
        case .computeDigest:
            try params.require(ParamTypes(.memrefInput, .memrefOutput, .valueInput))
            let profile = try Self.profile(params.value(2).a)
            session.algorithm = params.value(2).a
            let message = try params.memref(0).read()
            let digest = try CryptoOperation(algorithm: profile.hash, mode: .digest)
            try params.produceOutput(at: 1) { (length) throws(TEEResult) in try digest.digestDoFinal(message, outputLength: &length) }
        case .generateKey:
            try params.require(ParamTypes())
            let profile = try Self.profile(session.algorithm)
            let pair = try TransientObject(type: .ecdsaKeyPair, maxKeySize: profile.bits)
            try pair.generateKey(size: profile.bits, curve: profile.curve)
            session.keyPair = pair
            session.publicKey = pair
        case .signVerifyDigest:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let profile = try Self.profile(session.algorithm)
            guard let pair = session.keyPair, let publicKey = session.publicKey else { throw .badState }
            let digest = try params.memref(0).read()
            try signVerifyAndReturn(profile.sign, bits: profile.bits, key: pair, publicKey: publicKey, digest: digest, into: &params, at: 1)
        }
    }
}

import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `sign_verify` TA in Swift: for each call, a fresh RSA key pair of the given
/// size, SHA-256 of the message, a PKCS#1 v1.5 or PSS signature, its verification with the
/// public key, and the signature out (SHORT_BUFFER with its size when it does not fit). The
/// other hash variants answer NOT_SUPPORTED here.
public final class SignVerifyExample: TrustedApplication {
    public static let properties = TAProperties(uuid: SignVerifyExampleTA.uuid, description: "sign_verify (optee_examples)")

    public init(tee: TEE) throws(TEEResult) {}

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard SignVerifyExampleTA.Command(rawValue: command) == .signVerify else { throw .badParameters }
        try params.require(ParamTypes(.memrefInput, .memrefOutput, .valueInput, .valueInput))
        let algorithm: Algorithm
        switch params.value(2).a {
        case SignVerifyExampleTA.pssSHA256: algorithm = .rsaPSSSHA256
        case SignVerifyExampleTA.pkcs1v15SHA256: algorithm = .rsaPKCS1v15SHA256
        case 0, 1, 3, 4, 5, 6, 8, 9: throw .notSupported
        default: throw .badParameters
        }
        let bits = Int(params.value(3).a)
        let pair = try TransientObject(type: .rsaKeyPair, maxKeySize: bits)
        try pair.generateKey(size: bits)
        let digest = try CryptoOperation(algorithm: .sha256, mode: .digest).digestDoFinal(try params.memref(0).read())
        try signVerifyAndReturn(algorithm, bits: bits, key: pair, publicKey: pair, digest: digest, into: &params, at: 1)
    }
}

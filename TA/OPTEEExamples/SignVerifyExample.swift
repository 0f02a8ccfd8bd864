import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `sign_verify` TA in Swift: for each call, a fresh RSA key pair of the given
/// size, the digest of the message with the selected algorithm's hash, a PKCS#1 v1.5 or PSS
/// signature, its verification with the public key, and the signature out (SHORT_BUFFER with its
/// size when it does not fit). Every variant of the original: PSS and v1.5 over SHA-1, SHA-224,
/// SHA-256, SHA-384 and SHA-512 (TA_ALG_* 0–9).
public final class SignVerifyExample: TrustedApplication {
    public static let properties = TAProperties(uuid: SignVerifyExampleTA.uuid, description: "sign_verify (optee_examples)")

    public init(tee: TEE) throws(TEEResult) {}

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard SignVerifyExampleTA.Command(rawValue: command) == .signVerify else { throw .badParameters }
        try params.require(ParamTypes(.memrefInput, .memrefOutput, .valueInput, .valueInput))
        // The original's TA_ALG_* numbering: PSS over SHA-1…512 (0–4), then v1.5 (5–9).
        let variants: [(sign: Algorithm, hash: Algorithm)] = [
            (.rsaPSSSHA1, .sha1), (.rsaPSSSHA224, .sha224), (.rsaPSSSHA256, .sha256), (.rsaPSSSHA384, .sha384), (.rsaPSSSHA512, .sha512),
            (.rsaPKCS1v15SHA1, .sha1), (.rsaPKCS1v15SHA224, .sha224), (.rsaPKCS1v15SHA256, .sha256), (.rsaPKCS1v15SHA384, .sha384), (.rsaPKCS1v15SHA512, .sha512),
        ]
        let selected = Int(params.value(2).a)
        guard selected < variants.count else { throw .badParameters }
        let (algorithm, hash) = variants[selected]
        let bits = Int(params.value(3).a)
        let pair = try TransientObject(type: .rsaKeyPair, maxKeySize: bits)
        try pair.generateKey(size: bits)
        let digest = try CryptoOperation(algorithm: hash, mode: .digest).digestDoFinal(try params.memref(0).read())
        try signVerifyAndReturn(algorithm, bits: bits, key: pair, publicKey: pair, digest: digest, into: &params, at: 1)
    }
}

import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `acipher` TA in Swift: GEN_KEY makes the session's RSA key pair, and
/// ENCRYPT_DECRYPT runs TEE_AsymmetricEncrypt or _Decrypt with it, handing back the output size
/// with SHORT_BUFFER (the original's host asks for the size first). PKCS#1 v1.5 and OAEP over
/// SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512, as the original.
public final class ACipherExample: TrustedApplication {
    public static let properties = TAProperties(uuid: ACipherExampleTA.uuid, description: "acipher (optee_examples)")

    public final class State: FreshSessionState {
        public init() {}
        var key: TransientObject?
    }

    public init(tee: TEE) throws(TEEResult) {}
    static func algorithm(_ raw: UInt32) throws(TEEResult) -> Algorithm {
        switch raw {
        case ACipherExampleTA.pkcs1v15: return .rsaesPKCS1v15
        case ACipherExampleTA.oaepSHA1: return .rsaesOAEPSHA1
        case ACipherExampleTA.oaepSHA224: return .rsaesOAEPSHA224
        case ACipherExampleTA.oaepSHA256: return .rsaesOAEPSHA256
        case ACipherExampleTA.oaepSHA384: return .rsaesOAEPSHA384
        case ACipherExampleTA.oaepSHA512: return .rsaesOAEPSHA512
        // Anything else: what TEE_AllocateOperation answers for an algorithm it does not know.
        default: throw .notSupported
        }
    }

    public func invoke(_ session: State, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        // Like the original: an unknown command is BAD_PARAMETERS.
        guard let command = ACipherExampleTA.Command(rawValue: command) else { throw .badParameters }
        switch command {
        case .generateKey:
            try params.require(ParamTypes(.valueInput))
            let bits = Int(params.value(0).a)
            let key = try TransientObject(type: .rsaKeyPair, maxKeySize: bits)
            try key.generateKey(size: bits)
            session.key = key  // the old pair goes only once the new one exists
        case .encryptDecrypt:
            try params.require(ParamTypes(.memrefInput, .memrefOutput, .valueInput, .valueInput))
            guard let key = session.key else { throw .badState }
            let encrypt = params.value(2).a != 0
            let operation = try CryptoOperation(algorithm: Self.algorithm(params.value(3).a),
                                                mode: encrypt ? .encrypt : .decrypt, maxKeySize: key.keySize)
            operation.setKey(key)
            let input = try params.memref(0).read()
            try params.produceOutput(at: 1) { (length) throws(TEEResult) in
                encrypt ? try operation.asymmetricEncrypt(input, outputLength: &length)
                        : try operation.asymmetricDecrypt(input, outputLength: &length)
            }
        }
    }
}

import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `aes` TA in Swift: PREPARE an AES operation (ECB, CBC, CTR, CCM or GCM, as the
/// original), SET_KEY, SET_IV, CIPHER, and AUTHENC (CCM or GCM with the original's fixed nonce
/// 00 01 … 0B, no AAD, the tag as long as the client's tag buffer). One instance per session
/// (TA_FLAGS 0).
public final class AESExample: TrustedApplication {
    public static let properties = TAProperties(uuid: AESExampleTA.uuid, description: "aes (optee_examples)")

    /// The session's cipher state (the original's `struct aes_cipher`).
    public final class Cipher: FreshSessionState {
        public init() {}
        var operation: CryptoOperation?
        var key: TransientObject?
        var keySize = 0
    }

    static let nonce: [UInt8] = Array(0..<12)

    public init(tee: TEE) throws(TEEResult) {}

    public func invoke(_ session: Cipher, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = AESExampleTA.Command(rawValue: command) else { throw .notSupported }
        switch command {
        case .prepare:
            try params.require(ParamTypes(.valueInput, .valueInput, .valueInput))
            guard let algorithm = AESExampleTA.Algorithm(rawValue: params.value(0).a) else { throw .badParameters }
            let keySize = Int(params.value(1).a)
            guard keySize == 16 || keySize == 32 else { throw .badParameters }
            let mode: OperationMode
            switch params.value(2).a {
            case 1: mode = .encrypt
            case 0: mode = .decrypt
            default: throw .badParameters
            }
            let gp: TEEInternalAPI.Algorithm
            switch algorithm {
            case .ecb: gp = .aesECBNoPad
            case .cbc: gp = .aesCBCNoPad
            case .ctr: gp = .aesCTR
            case .ccm: gp = .aesCCM
            case .gcm: gp = .aesGCM
            }
            session.operation = nil
            session.key = nil
            let operation = try CryptoOperation(algorithm: gp, mode: mode, maxKeySize: keySize * 8)
            let key = try TransientObject(type: .aes, maxKeySize: keySize * 8)
            try key.populate([.ref(AttributeID.secretValue, [UInt8](repeating: 0, count: keySize))])
            operation.setKey(key)
            (session.operation, session.key, session.keySize) = (operation, key, keySize)
        case .setKey:
            try params.require(ParamTypes(.memrefInput))
            guard let operation = session.operation, let key = session.key else { throw .badState }
            let bytes = try params.memref(0).read()
            guard bytes.count == session.keySize else { throw .badParameters }
            key.reset()
            try key.populate([.ref(AttributeID.secretValue, bytes)])
            operation.setKey(key)
        case .setIV:
            try params.require(ParamTypes(.memrefInput))
            guard let operation = session.operation else { throw .badState }
            try operation.cipherInit(iv: try params.memref(0).read())
        case .cipher:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            guard params.memref(1).capacity >= params.memref(0).capacity else { throw .badParameters }
            guard let operation = session.operation else { throw .badState }
            let input = try params.memref(0).read()
            var length = params.memref(1).capacity
            let output = try operation.cipherUpdate(input, outputLength: &length)
            try params.withMemref(1) { (out) throws(TEEResult) in try out.write(output) }
        case .authenticatedCipher:
            try params.require(ParamTypes(.memrefInput, .memrefOutput, .valueInput, .memrefInout))
            guard let operation = session.operation else { throw .badState }
            let input = try params.memref(0).read()
            let tagLength = params.memref(3).capacity
            // The payload length is CCM's (GCM ignores it), as the original passes it.
            try operation.aeInit(nonce: Self.nonce, tagBits: tagLength * 8, aadLength: 0, payloadLength: input.count)
            var length = params.memref(1).capacity
            if params.value(2).a != 0 {
                let (data, tag) = try operation.aeEncryptFinal(input, outputLength: &length)
                try params.withMemref(1) { (out) throws(TEEResult) in try out.write(data) }
                try params.withMemref(3) { (out) throws(TEEResult) in try out.write(tag) }
            } else {
                let tag = try params.memref(3).read()
                let data = try operation.aeDecryptFinal(input, tag: tag, outputLength: &length)
                try params.withMemref(1) { (out) throws(TEEResult) in try out.write(data) }
            }
        }
    }
}

import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `sha` TA in Swift: digests, and HMAC (SHA-1, SHA-224/256/384/512) or AES-CMAC
/// through the prepare → set key → set IV → compute / compare sequence of the original — every
/// algorithm its host offers, and MD5 (SM3 answers NOT_SUPPORTED, as everywhere in rproc-tee).
public final class SHAExample: TrustedApplication {
    public static let properties = TAProperties(uuid: SHAExampleTA.uuid, description: "sha (optee_examples)")

    public final class State: FreshSessionState {
        public init() {}
        var operation: CryptoOperation?
        var key: TransientObject?
        var keySize = 0
    }

    public init(tee: TEE) throws(TEEResult) {}
    static func objectType(_ raw: UInt32) throws(TEEResult) -> ObjectType {
        switch SHAExampleTA.ObjectType(rawValue: raw) {
        case .hmacSHA256: return .hmacSHA256
        case .hmacSHA1: return .hmacSHA1
        case .hmacSHA224: return .hmacSHA224
        case .hmacSHA384: return .hmacSHA384
        case .hmacSHA512: return .hmacSHA512
        case .aes: return .aes
        case nil: throw .badParameters
        }
    }

    public func invoke(_ session: State, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        // Like the original: an unknown command is NOT_SUPPORTED (the other examples say BAD_PARAMETERS).
        guard let command = SHAExampleTA.Command(rawValue: command) else { throw .notSupported }
        switch command {
        case .prepare:
            try params.require(ParamTypes(.valueInput, .valueInput, .valueInput))
            let type = try Self.objectType(params.value(2).a)
            let bytes = Int(params.value(1).a)
            session.operation = nil
            session.key = nil
            // The caller's size, bounded before anything is allocated: no MAC key exceeds 1024 bits.
            guard bytes <= 128 else { throw .notSupported }
            let operation = try CryptoOperation(algorithm: Algorithm(rawValue: params.value(0).a), mode: .mac, maxKeySize: bytes * 8)
            let key = try TransientObject(type: type, maxKeySize: bytes * 8)
            try key.populate([.ref(AttributeID.secretValue, [UInt8](repeating: 0, count: bytes))])
            operation.setKey(key)
            (session.operation, session.key, session.keySize) = (operation, key, bytes)
        case .setKey:
            guard let operation = session.operation, let key = session.key else { throw .badState }
            try params.require(ParamTypes(.memrefInput))
            let bytes = try params.memref(0).read()
            guard bytes.count == session.keySize else { throw .badParameters }
            key.reset()
            try key.populate([.ref(AttributeID.secretValue, bytes)])
            operation.reset()
            operation.setKey(key)
        case .setIV:
            guard let operation = session.operation else { throw .badState }
            try params.require(ParamTypes(.memrefInput))
            operation.macInit()
        case .computeMAC:
            guard let operation = session.operation else { throw .badState }
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let message = try params.memref(0).read()
            operation.macUpdate(message)
            try params.produceOutput(at: 1) { (length) throws(TEEResult) in try operation.macComputeFinal(message, outputLength: &length) }
        case .compareMAC:
            guard let operation = session.operation else { throw .badState }
            try params.require(ParamTypes(.memrefInput, .memrefInput))
            let message = try params.memref(0).read()
            operation.macUpdate(message)
            try operation.macCompareFinal(message, expected: try params.memref(1).read())
        case .computeDigest:
            try params.require(ParamTypes(.memrefInput, .memrefOutput, .valueInput))
            let operation = try CryptoOperation(algorithm: Algorithm(rawValue: params.value(2).a), mode: .digest)
            let message = try params.memref(0).read()
            try params.produceOutput(at: 1) { (length) throws(TEEResult) in try operation.digestDoFinal(message, outputLength: &length) }
        }
    }
}

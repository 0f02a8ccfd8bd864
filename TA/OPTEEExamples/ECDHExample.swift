import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `ecdh` TA in Swift: DERIVE_SELFTEST makes two ECDH key pairs on the chosen
/// curve, derives the shared secret from each side with TEE_DeriveKey (the peer's public X/Y as
/// parameters, a GENERIC_SECRET as output), checks both agree and returns it. P-192, P-224, P-256
/// and P-384, as the original.
public final class ECDHExample: TrustedApplication {
    public static let properties = TAProperties(uuid: ECDHExampleTA.uuid, description: "ecdh (optee_examples)")

    public init(tee: TEE) throws(TEEResult) {}

    static func keyPair(bits: Int, curve: UInt32) throws(TEEResult) -> TransientObject {
        let key = try TransientObject(type: .ecdhKeyPair, maxKeySize: bits)
        try key.generateKey(size: bits, curve: curve)
        return key
    }

    static func publicPoint(_ key: TransientObject) throws(TEEResult) -> [Attribute] {
        var length = 66
        let x = try key.bufferAttribute(AttributeID.eccPublicX, length: &length)
        length = 66
        let y = try key.bufferAttribute(AttributeID.eccPublicY, length: &length)
        return [.ref(AttributeID.eccPublicX, x), .ref(AttributeID.eccPublicY, y)]
    }

    static func derive(_ mine: TransientObject, peer: [Attribute], bits: Int) throws(TEEResult) -> [UInt8] {
        let operation = try CryptoOperation(algorithm: .ecdhDeriveSharedSecret, mode: .derive, maxKeySize: bits)
        operation.setKey(mine)
        let secret = try TransientObject(type: .genericSecret, maxKeySize: bits)
        operation.deriveKey(peer, into: secret)
        var length = 66
        return try secret.bufferAttribute(AttributeID.secretValue, length: &length)
    }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        // Like the original: an unknown command is BAD_PARAMETERS.
        guard ECDHExampleTA.Command(rawValue: command) == .deriveSelfTest else { throw .badParameters }
        try params.require(ParamTypes(.valueInput, .none, .none, .memrefOutput))
        let (bits, curve): (Int, UInt32)
        switch ECDHExampleTA.Curve(rawValue: params.value(0).a) {
        case .p192: (bits, curve) = (192, ECCCurveID.p192)
        case .p224: (bits, curve) = (224, ECCCurveID.p224)
        case .p256: (bits, curve) = (256, ECCCurveID.p256)
        case .p384: (bits, curve) = (384, ECCCurveID.p384)
        case nil: throw .badParameters
        }
        let a = try Self.keyPair(bits: bits, curve: curve), b = try Self.keyPair(bits: bits, curve: curve)
        let secretA = try Self.derive(a, peer: try Self.publicPoint(b), bits: bits)
        let secretB = try Self.derive(b, peer: try Self.publicPoint(a), bits: bits)
        guard secretA == secretB else { throw .generic }
        try params.withMemref(3) { (out) throws(TEEResult) in
            guard out.capacity >= secretA.count else {
                out.size = secretA.count
                throw .shortBuffer
            }
            try out.write(secretA)
        }
    }
}

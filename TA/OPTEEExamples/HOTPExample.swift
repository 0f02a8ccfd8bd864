import OPTEEExamplesTAInterface
import TEEInternalAPI

/// optee_examples' `hotp` TA in Swift: RFC 4226 one-time passwords — HMAC-SHA1 of an 8-byte
/// big-endian counter with the registered key, dynamic truncation, modulo 10^6; the counter
/// moves on after each value. One instance per session (TA_FLAGS 0).
public final class HOTPExample: TrustedApplication {
    public static let properties = TAProperties(uuid: HOTPExampleTA.uuid, description: "hotp (optee_examples)")

    public final class State: FreshSessionState {
        public init() {}
        var key: [UInt8] = []
        var counter = [UInt8](repeating: 0, count: 8)
    }

    public init(tee: TEE) throws(TEEResult) {}
    public func invoke(_ session: State, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = HOTPExampleTA.Command(rawValue: command) else { throw .badParameters }
        switch command {
        case .registerSharedKey:
            try params.require(ParamTypes(.memrefInput))
            let key = try params.memref(0).read()
            guard key.count <= 64 else { throw .badParameters }
            session.key = key
        case .getHOTP:
            try params.require(ParamTypes(.valueOutput))
            // RFC 4226 §4: keys of 128 bits at least are recommended; the original takes 10–64 bytes.
            guard (10...64).contains(session.key.count) else { throw .badParameters }
            let key = try TransientObject(type: .hmacSHA1, maxKeySize: session.key.count * 8)
            try key.populate([.ref(AttributeID.secretValue, session.key)])
            let mac = try CryptoOperation(algorithm: .hmacSHA1, mode: .mac, maxKeySize: session.key.count * 8)
            mac.setKey(key)
            mac.macInit()
            var length = 20
            let hash = try mac.macComputeFinal(session.counter, outputLength: &length)
            for i in (0..<8).reversed() {
                session.counter[i] &+= 1
                if session.counter[i] != 0 { break }
            }
            // RFC 4226 §5.3: dynamic truncation.
            let offset = Int(hash[19] & 0xF)
            let code = (UInt32(hash[offset] & 0x7F) << 24 | UInt32(hash[offset + 1]) << 16 | UInt32(hash[offset + 2]) << 8 | UInt32(hash[offset + 3])) % 1_000_000
            params.setValue(0, a: code)
        }
    }
}

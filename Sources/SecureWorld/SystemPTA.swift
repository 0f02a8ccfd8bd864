import TEECrypto
import TEEInternalAPI

/// OP-TEE's system pseudo-TA (`SystemPTAInterface`: `pta_system.h`'s UUID and command IDs), the
/// two services TAs ask it for: ADD_RNG_ENTROPY mixes a caller's bytes into the secure world's random generator;
/// DERIVE_TA_UNIQUE_KEY gives a TA a key bound to this installation (the device secret) and to
/// its own UUID, so two TAs — or two devices — never derive the same key; SUPP_PLUGIN_INVOKE
/// runs a tee-supplicant plugin in the normal world (`SupplicantBroker`). Only TAs may open it
/// (ACCESS_DENIED to a normal-world client), as in OP-TEE. Every secure world has it.
final class SystemPTA: PseudoTA, @unchecked Sendable {
    // @unchecked: `world` is set once and never changes; the world outlives its pseudo-TAs.
    static let id = SystemPTAInterface.uuid
    /// Entropy a caller adds is bounded like a frame's inline data (OP-TEE bounds it only by the
    /// memory a caller can pass).
    static let maxEntropy = 64 * 1024

    var uuid: TEEUUID { Self.id }
    let name = "system"
    let allowedCallers: Set<TEEUUID>? = nil
    private weak var world: SecureWorld?

    init(world: SecureWorld) {
        self.world = world
    }

    func openSession(client: ClientIdentity, _ params: inout Parameters) throws(TEEResult) {
        guard client.login == .trustedApp else { throw .accessDenied }
    }

    func invoke(client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard client.login == .trustedApp, let world else { throw .accessDenied }
        switch SystemPTAInterface.Command(rawValue: command) {
        case .addRNGEntropy:
            try params.require(ParamTypes(.memrefInput))
            let input = params.memref(0)
            // Attacker: the calling TA (and the client whose memory it may pass on). An empty or
            // NULL buffer is refused, as in OP-TEE; a huge one is bounded.
            guard !input.isNull, input.capacity > 0, input.capacity <= Self.maxEntropy else { throw .badParameters }
            // One pass over the bytes in place: a hash, nothing checked.
            try input.withUnsafeSharedBytes { (bytes) throws(TEEResult) in
                do { try RandomGenerator.shared.addEntropy(bytes) } catch { throw .generic }
            }
        case .deriveTAUniqueKey:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let extra = params.memref(0), key = params.memref(1)
            // Attacker: the calling TA. Sizes as OP-TEE bounds them.
            guard extra.capacity <= SystemPTAInterface.maxExtraData, SystemPTAInterface.derivedKeySizes.contains(key.capacity) else { throw .badParameters }
            // The key must not land in memory the normal world can read: only the TA's own
            // buffers qualify, not a client's memory passed on (OP-TEE: SECURITY).
            guard key.isTAPrivate else { throw .security }
            let data = extra.isNull ? [] : try extra.read()
            let secret = try world.deviceSecret()
            let derived: SecureBytes
            do {
                derived = try HKDF.deriveKey(inputKeyMaterial: secret, salt: client.uuid.octets,
                                             info: Array("rproc-tee TA unique key v1".utf8) + data, outputLength: key.capacity)
            } catch {
                throw .generic
            }
            try params.withMemref(1) { (out) throws(TEEResult) in try out.write(derived.unsafeBytes) }
        case .supplicantPluginInvoke:
            try params.require(ParamTypes(.memrefInput, .valueInput, .memrefInout, .valueOutput))
            // Attacker: the calling TA. The checks of OP-TEE's system PTA and supplicant RPC: a
            // 16-byte UUID; data NULL exactly when its size is 0; bounded.
            let uuidRef = params.memref(0), dataRef = params.memref(2)
            guard !uuidRef.isNull, uuidRef.capacity == 16, let plugin = TEEUUID(octets: try uuidRef.read()) else { throw .badParameters }
            guard dataRef.isNull == (dataRef.capacity == 0) else { throw .badParameters }
            guard dataRef.capacity <= SystemPTAInterface.maxPluginData else { throw .outOfMemory }
            let call = params.value(1)
            var data = dataRef.isNull ? [] : try dataRef.read()
            // A cancelled caller stops waiting for the supplicant (CANCEL), as TEE_Wait would.
            let (result, length) = world.supplicant.invoke(plugin: plugin, command: call.a, subCommand: call.b, data: &data,
                                                           cancelled: { SecureWorld.currentCallGivenUp })
            params.setValue(3, a: length, b: 0)
            if !dataRef.isNull && length > 0 {
                try params.withMemref(2) { (m) throws(TEEResult) in
                    try m.write(data)
                    m.size = m.capacity   // the reference keeps its size, as OP-TEE's
                }
            }
            guard result == .success else { throw result }
        case nil:
            throw .notSupported
        }
    }
}

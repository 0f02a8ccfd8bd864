import OPTEETestTAInterface
import TEEInternalAPI

/// optee_test's `supp_plugin` TA in Swift, written from what the original (`ta/supp_plugin/
/// ta_entry.c`) does: every command is one call to the test plugin through
/// `TEE.invokeSupplicantPlugin` (libutee's `tee_invoke_supp_plugin`); opening a session pings
/// the plugin, so a session opens only where the supplicant serves it. The three "bad input"
/// commands hand the system pseudo-TA the malformed calls a C TA can make (no UUID, a length
/// without data, data without a length), which it refuses with BAD_PARAMETERS.
public final class SupplicantPluginTAImplementation: TrustedApplication {
    public static var properties: TAProperties {
        TAProperties(uuid: SupplicantPluginTA.uuid, dataSize: 32 * 1024, stackSize: 8 * 1024, description: "supp_plugin (optee_test), tee-supplicant plugin calls")
    }

    private let tee: TEE

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
    }

    public func openSession(_ params: inout Parameters) throws(TEEResult) {
        var none: [UInt8] = []
        _ = try tee.invokeSupplicantPlugin(SupplicantPluginTA.testPlugin, command: SupplicantPluginTA.PluginCommand.ping.rawValue, data: &none)
    }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        let plugin = SupplicantPluginTA.testPlugin
        switch SupplicantPluginTA.Command(rawValue: command) {
        case .passValues:
            try params.require(ParamTypes(.valueInout, .valueInput))
            let values = params.value(0)
            // The original's `struct add_op { uint32_t a, b; }`, little-endian.
            var data = Self.le(values.a) + Self.le(values.b)
            let result: TEEResult
            do {
                _ = try tee.invokeSupplicantPlugin(plugin, command: SupplicantPluginTA.PluginCommand.passValues.rawValue, subCommand: params.value(1).a, data: &data)
                result = .success
            } catch {
                result = error
            }
            // As the original: a is stored back whatever the plugin answered.
            params.setValue(0, a: UInt32(data[0]) | UInt32(data[1]) << 8 | UInt32(data[2]) << 16 | UInt32(data[3]) << 24, b: values.b)
            if result != .success { throw result }
        case .writeArray:
            try params.require(ParamTypes(.memrefInout, .valueOutput))
            var data = try params.memref(0).read()
            var failure: TEEResult?
            do { _ = try tee.invokeSupplicantPlugin(plugin, command: SupplicantPluginTA.PluginCommand.writeArray.rawValue, data: &data) } catch { failure = error }
            // The plugin wrote into the client's buffer itself in the original (the TA passed
            // it the memref's pointer): the bytes go back there.
            if !data.isEmpty { try params.withMemref(0) { (m) throws(TEEResult) in try m.write(data) } }
            // The original reads d[0] whatever the plugin answered (a NULL memref would fault).
            guard let first = data.first else { tee.panic(TEEResult.badParameters.rawValue, "supp_plugin: WRITE_ARR with no bytes") }
            params.setValue(1, a: UInt32(first))
            if let failure { throw failure }
        case .getArray:
            try params.require(ParamTypes(.memrefOutput, .valueOutput))
            let capacity = params.memref(0).capacity
            var data = [UInt8](repeating: 0, count: capacity)
            var length = 0
            var failure: TEEResult?
            do { length = try tee.invokeSupplicantPlugin(plugin, command: SupplicantPluginTA.PluginCommand.getArray.rawValue, data: &data) } catch { failure = error }
            if capacity > 0 {
                try params.withMemref(0) { (m) throws(TEEResult) in
                    try m.write(data)
                    m.size = m.capacity   // the original leaves the size alone
                }
            }
            params.setValue(1, a: UInt32(truncatingIfNeeded: length))
            if let failure { throw failure }
        case .badUUID:
            // libutee refuses a NULL UUID before any call; the pseudo-TA refuses it too.
            try callSystem(uuid: MemoryReference(buffer: nil, offset: 0, size: 0, direction: .memrefInput), data: .privateInout([UInt8](repeating: 0, count: 32)))
        case .badInputData:
            try callSystem(uuid: .privateInput(plugin.octets), data: MemoryReference(buffer: nil, offset: 0, size: 10, direction: .memrefInout))
        case .badInputLength:
            try callSystem(uuid: .privateInput(plugin.octets), data: try MemoryReference.privateInout([UInt8](repeating: 0, count: 32)).window(offset: 0, size: 0))
        case .unknownUUID:
            var data = [UInt8](repeating: 0, count: 32)
            _ = try tee.invokeSupplicantPlugin(.zero, command: 0, data: &data)
        case nil:
            throw .notSupported
        }
    }

    /// One SUPP_PLUGIN_INVOKE with the parameters as given (for the malformed calls).
    private func callSystem(uuid: MemoryReference, data: MemoryReference) throws(TEEResult) {
        var none = Parameters.empty
        let system: TASession
        do { system = try tee.openSession(SystemPTAInterface.uuid, &none) } catch { throw error.result }
        defer { system.close() }
        var params = Parameters(types: ParamTypes(.memrefInput, .valueInput, .memrefInout, .valueOutput),
                                params: [.memref(uuid), .value(a: 0, b: 0), .memref(data), .value(a: 0, b: 0)])
        do { try system.invoke(SystemPTAInterface.Command.supplicantPluginInvoke.rawValue, &params) } catch { throw error.result }
    }

    private static func le(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}

import TEECore
import TEEWire

/// The normal-world end of TAs' plugin calls (`TEE.invokeSupplicantPlugin`, OP-TEE's
/// `tee_invoke_supp_plugin`): what OP-TEE's tee-supplicant does with its plugins. One connection
/// at a time may serve, and only one running as the daemon's own user or root; each call's data
/// travels in shared memory this supplicant owns (`capacity` bytes: larger calls are refused to
/// the TA with OUT_OF_MEMORY). `rproc-tee supplicant` serves C plugins through this.
public final class TEESupplicant: @unchecked Sendable {
    // @unchecked: used by one thread at a time (the serving loop).
    /// One plugin call: the plugin, its command and sub-command, and `length` bytes of data at
    /// offset 0 of `memory`.
    public struct Call: Sendable {
        public let id: UInt32
        public let plugin: TEEUUID
        public let command: UInt32
        public let subCommand: UInt32
        public let length: Int
    }

    public let context: TEEContext
    /// Where each call's data is: the handler reads and writes its first `length` bytes.
    public let memory: SharedMemory

    public init(context: TEEContext, capacity: Int = 1 << 20) throws(TEEClientError) {
        self.context = context
        memory = try context.allocateSharedMemory(size: capacity, flags: [.input, .output])
    }

    /// Waits (half a second at most) for one call and answers it with `handler`'s result and
    /// output length. Returns false if no call came; throws if the daemon refused this
    /// supplicant (ACCESS_DENIED: another user; BUSY: another supplicant serves) or is gone.
    @discardableResult
    public func serveOne(_ handler: (Call, SharedMemory) -> (result: TEEResult, outputLength: Int)) throws(TEEClientError) -> Bool {
        let response = try context.call(.supplicantReceive(memory: memory.id))
        if response.result == .noData { return false }
        guard response.result == .success else { throw TEEClientError(response.result, origin: response.origin) }
        // The daemon's layout (OP-TEE's RPC): the UUID's octets as four little-endian words,
        // command and sub-command, the data in this supplicant's memory.
        let p = response.params.params
        guard case .value(let w0, let w1) = p[0], case .value(let w2, let w3) = p[1], case .value(let command, let sub) = p[2],
              case .memref(let region, 0, let length) = p[3], region == memory.id, length <= UInt64(memory.size) else {
            throw TEEClientError(.communication, origin: .comms)
        }
        var octets: [UInt8] = []
        for w in [w0, w1, w2, w3] { for i in 0..<4 { octets.append(UInt8(truncatingIfNeeded: w >> (8 * UInt32(i)))) } }
        let call = Call(id: response.session, plugin: TEEUUID(octets: octets)!, command: command, subCommand: sub, length: Int(length))
        let (result, outputLength) = handler(call, memory)
        let answer = try context.call(.supplicantReply(call: call.id, result: result, outputLength: UInt32(clamping: max(0, outputLength))))
        guard answer.result == .success else { throw TEEClientError(answer.result, origin: answer.origin) }
        return true
    }

    /// Serves calls until `stop` says so (asked at least every half second).
    public func serve(until stop: () -> Bool, _ handler: (Call, SharedMemory) -> (result: TEEResult, outputLength: Int)) throws(TEEClientError) {
        while !stop() { try serveOne(handler) }
    }
}

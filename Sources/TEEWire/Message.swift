import TEECore

/// One operation parameter as it crosses the transport: the TA's view (memrefs already resolved
/// by the client library into a shared-memory id, offset and size; GP's WHOLE/PARTIAL forms never
/// travel). The direction is in the packed type word.
public enum WireParameter: Hashable, Sendable {
    case none
    case value(a: UInt32, b: UInt32)
    case memref(memory: UInt32, offset: UInt64, size: UInt64)
}

/// Four parameters and their packed TA-view types. Construction checks that each parameter's
/// shape agrees with its type nibble.
public struct WireParameters: Hashable, Sendable {
    public let types: ParamTypes
    public let params: [WireParameter]

    public init(types: ParamTypes, params: [WireParameter]) throws(WireError) {
        guard params.count == 4 else { throw WireError(.badParameter, "an operation has exactly four parameters, not \(params.count)") }
        guard types.isTAView else { throw WireError(.badParamType, "parameter types \(types) are not the TA view (registered-memory forms are resolved by the client)") }
        for i in 0..<4 {
            let t = types[i]
            switch params[i] {
            case .none where t == .none: continue
            case .value where t.isValue: continue
            case .memref where t.isMemref: continue
            default: throw WireError(.badParameter, "parameter \(i) does not match its type \(t)")
            }
        }
        self.types = types
        self.params = params
    }

    public static let none = try! WireParameters(types: .none, params: [.none, .none, .none, .none])
}

/// A request from the normal world.
public enum WireRequest: Hashable, Sendable {
    case openSession(uuid: TEEUUID, login: Login, connectionData: UInt32, cancelID: UInt32, params: WireParameters)
    case invoke(session: UInt32, command: UInt32, cancelID: UInt32, params: WireParameters)
    case closeSession(session: UInt32)
    case cancel(cancelID: UInt32)
    case registerMemory(memory: UInt32, size: UInt64, flags: UInt32)
    case unregisterMemory(memory: UInt32)
    /// The supplicant (the normal-world process that runs plugins, OP-TEE's tee-supplicant)
    /// asks for the next plugin call, naming the shared memory its data travels in. The
    /// response's session field is the call's id; its parameters are OP-TEE's RPC ones: VALUE
    /// (the plugin UUID's octets as little-endian words 0, 1), VALUE (words 2, 3), VALUE
    /// (command, sub-command), MEMREF (the data, at offset 0 of that memory). NO_DATA when no
    /// call came within half a second (ask again).
    case supplicantReceive(memory: UInt32)
    /// The supplicant's answer to call `call`: the plugin's result and the length it reported
    /// (the data itself is already in the shared memory).
    case supplicantReply(call: UInt32, result: TEEResult, outputLength: UInt32)

    var kind: MessageKind {
        switch self {
        case .openSession: .openSession
        case .invoke: .invoke
        case .closeSession: .closeSession
        case .cancel: .cancel
        case .registerMemory: .registerMemory
        case .unregisterMemory: .unregisterMemory
        case .supplicantReceive: .supplicantReceive
        case .supplicantReply: .supplicantReply
        }
    }
}

/// The answer to a request: result, origin, the session opened (open only), and the
/// parameters as the TA left them (values and sizes are copied back on every result).
public struct WireResponse: Hashable, Sendable {
    public var result: TEEResult
    public var origin: ReturnOrigin
    public var session: UInt32
    public var params: WireParameters

    public init(result: TEEResult, origin: ReturnOrigin, session: UInt32 = 0, params: WireParameters = .none) {
        self.result = result
        self.origin = origin
        self.session = session
        self.params = params
    }
}

enum MessageKind: UInt16 {
    /// Response only: the request frame could not be decoded (its id and kind are unknown).
    case refused = 0
    case openSession = 1, invoke = 2, closeSession = 3, cancel = 4, registerMemory = 5, unregisterMemory = 6
    case supplicantReceive = 7, supplicantReply = 8
}

/// A whole frame: a request or a response, tagged with the request id that pairs them.
public enum WireMessage: Hashable, Sendable {
    case request(id: UInt32, WireRequest)
    case response(id: UInt32, kind: UInt16, WireResponse)
}

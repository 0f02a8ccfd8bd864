import TEETransport
import Synchronization

/// One parameter of an operation, in the client's terms (`TEEC_Parameter`).
public enum OperationParameter: Sendable {
    case none
    /// VALUE_INPUT / VALUE_OUTPUT / VALUE_INOUT.
    case value(ParamType, a: UInt32, b: UInt32)
    /// MEMREF_TEMP_*: bytes shared for this call only. `bytes` is the input (and, after the
    /// call, the output when it fitted); `size` is the buffer size, updated by the TA. `bytes`
    /// nil is GP's NULL buffer (e.g. to ask for the output size).
    case temp(ParamType, bytes: [UInt8]?, size: Int)
    /// MEMREF_WHOLE: the whole shared memory, direction from its flags. `size` reports the
    /// TA's size after the call.
    case whole(SharedMemory, size: Int)
    /// MEMREF_PARTIAL_*: a window of shared memory.
    case partial(ParamType, SharedMemory, offset: Int, size: Int)

    public static func valueInput(_ a: UInt32, _ b: UInt32 = 0) -> Self { .value(.valueInput, a: a, b: b) }
    public static var valueOutput: Self { .value(.valueOutput, a: 0, b: 0) }
    public static func valueInout(_ a: UInt32, _ b: UInt32 = 0) -> Self { .value(.valueInout, a: a, b: b) }
    public static func tempInput(_ bytes: [UInt8]) -> Self { .temp(.memrefInput, bytes: bytes, size: bytes.count) }
    public static func tempOutput(capacity: Int) -> Self { .temp(.memrefOutput, bytes: [UInt8](repeating: 0, count: capacity), size: capacity) }
    public static func tempInout(_ bytes: [UInt8], capacity: Int? = nil) -> Self {
        let size = max(capacity ?? bytes.count, bytes.count)
        return .temp(.memrefInout, bytes: bytes + [UInt8](repeating: 0, count: size - bytes.count), size: size)
    }
    public static func whole(_ memory: SharedMemory) -> Self { .whole(memory, size: memory.size) }

    var type: ParamType {
        switch self {
        case .none: .none
        case .value(let t, _, _): t
        case .temp(let t, _, _): t
        case .whole: .memrefWhole
        case .partial(let t, _, _, _): t
        }
    }
}

/// An operation (`TEEC_Operation`): four parameters, updated in place by a call, and a handle
/// for cancelling it from another thread.
public final class TEEOperation: @unchecked Sendable {
    // @unchecked: `params` belongs to the calling thread; cancellation state is under `state`.
    public var params: [OperationParameter]
    let cancelID: UInt32
    private let state = Locked<(started: Bool, cancelled: Bool, context: TEEContext?)>((false, false, nil))
    private static let nextCancelID = Atomic<UInt32>(1)

    public init(_ p0: OperationParameter = .none, _ p1: OperationParameter = .none, _ p2: OperationParameter = .none, _ p3: OperationParameter = .none) {
        params = [p0, p1, p2, p3]
        cancelID = Self.nextCancelID.wrappingAdd(1, ordering: .relaxed).oldValue | 1
    }

    public var paramTypes: ParamTypes { ParamTypes(params.map(\.type)) }

    /// Value parameter `i` after the call.
    public func value(_ i: Int) -> (a: UInt32, b: UInt32)? {
        if case .value(_, let a, let b) = params[i] { return (a, b) }
        return nil
    }

    /// Temporary buffer `i` after the call: the bytes the TA wrote (up to the size it reported).
    public func output(_ i: Int) -> [UInt8]? {
        guard case .temp(_, let bytes?, let size) = params[i] else { return nil }
        return Array(bytes.prefix(size))
    }

    /// The size parameter `i` reports after the call.
    public func size(_ i: Int) -> Int? {
        switch params[i] {
        case .temp(_, _, let size), .whole(_, let size), .partial(_, _, _, let size): size
        default: nil
        }
    }

    /// `TEEC_RequestCancellation`: best effort, from any thread. Before the call starts it makes
    /// the call return CANCEL at once.
    public func requestCancellation() {
        let context = state.withLock { s -> TEEContext? in
            s.cancelled = true
            return s.started ? s.context : nil
        }
        context?.sendCancel(cancelID)
    }

    /// Marks the operation started on `context`; false if it was cancelled before.
    func start(on context: TEEContext) -> Bool {
        state.withLock { s in
            s.started = true
            s.context = context
            return !s.cancelled
        }
    }

    func finish() {
        state.withLock { $0.context = nil }
    }
}

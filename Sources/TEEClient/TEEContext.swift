import Synchronization
import TEETransport
import TEEWire

/// A connection to a TEE (`TEEC_Context`). The transport decides where the secure world runs:
/// in this process (embedded) or in the daemon. Every request is a TEEWire frame either way.
public final class TEEContext: @unchecked Sendable {
    // @unchecked: mutable state is atomic or under `state`.
    let transport: any ClientTransport
    private let nextRequest = Atomic<UInt32>(1)
    private let state = Locked<(finalized: Bool, memories: Set<UInt32>)>((false, []))
    /// `state.finalized`, readable without the lock (every call asks).
    private let finalized = Atomic<Bool>(false)
    /// Regions for temporary memrefs, kept registered between calls: a fresh one costs a memfd,
    /// two mappings and four round trips, which made temporary memrefs 10× slower than
    /// allocated ones. Free regions by size class; each call takes its own, so concurrent calls
    /// never share one, and only the bytes of the memref (size ≤ the class) are the TA's to see.
    private let tempPool = Locked<(free: [Int: [(id: UInt32, region: any SharedByteBuffer)]], bytes: Int)>(([:], 0))
    /// Size classes are powers of two from 4 KiB; up to 4 regions a class and 16 MiB in all are
    /// kept (the daemon counts them against this connection's shared-memory limit). Larger
    /// memrefs get a region for the call only.
    static let tempClasses = (smallest: 4096, largest: 4 << 20, perClass: 4, totalBytes: 16 << 20)

    public init(transport: any ClientTransport) {
        self.transport = transport
    }

    /// `TEEC_InitializeContext` against the secure-world daemon (`rproc-tee secure-world`):
    /// connects to its Unix socket (`$RPROC_TEE_SOCKET`, else `$XDG_RUNTIME_DIR/rproc-tee.sock`,
    /// else `/run/rproc-tee/socket` for root, else `/tmp/rproc-tee-<uid>/socket`). No daemon there: ITEM_NOT_FOUND (what OP-TEE's
    /// library answers when there is no TEE device), origin COMMS.
    public static func connect(socket: String = DaemonClientTransport.defaultSocketPath) throws(TEEClientError) -> TEEContext {
        do {
            return TEEContext(transport: try DaemonClientTransport(socketPath: socket))
        } catch {
            throw Self.connectionError(error)
        }
    }

    /// ITEM_NOT_FOUND when no daemon answers (as OP-TEE's library when there is no TEE device),
    /// ACCESS_DENIED when one answers that is not the trusted TEE or refuses this user; the
    /// reason says which.
    static func connectionError(_ error: TransportError) -> TEEClientError {
        switch error.code {
        case .untrusted, .denied: TEEClientError(.accessDenied, origin: .comms, reason: error.reason)
        case .busy: TEEClientError(.busy, origin: .comms, reason: error.reason)
        default: TEEClientError(.itemNotFound, origin: .comms, reason: error.reason)
        }
    }

    /// A context on the daemon at the default socket path (see `connect(socket:)`).
    public convenience init() throws(TEEClientError) {
        let transport: DaemonClientTransport
        do { transport = try DaemonClientTransport(socketPath: DaemonClientTransport.defaultSocketPath) } catch {
            throw Self.connectionError(error)
        }
        self.init(transport: transport)
    }

    deinit { finalize() }

    /// `TEEC_FinalizeContext`: closes every session and releases every shared memory.
    public func finalize() {
        let memories = state.withLock { s -> Set<UInt32>? in
            guard !s.finalized else { return nil }
            s.finalized = true
            finalized.store(true, ordering: .releasing)
            defer { s.memories = [] }
            return s.memories
        }
        guard let memories else { return }
        for id in memories.union(emptyPool()) { transport.releaseRegion(id: id) }
        transport.close()
    }

    var isFinalized: Bool { finalized.load(ordering: .acquiring) }

    // MARK: Requests

    func call(_ request: WireRequest) throws(TEEClientError) -> WireResponse {
        guard !isFinalized else { throw TEEClientError(.badState, origin: .api) }
        let id = nextRequest.wrappingAdd(1, ordering: .relaxed).oldValue
        let reply: [UInt8]
        do {
            reply = try transport.exchange { WireCodec.encode(.request(id: id, request), into: &$0) }
        } catch {
            if error.code == .forked { throw TEEClientError(.badState, origin: .api, reason: error.reason) }
            throw TEEClientError(.communication, origin: .comms)
        }
        guard case .response(let rid, _, let response)? = try? WireCodec.decode(reply), rid == id || (rid == 0 && response.result == .communication) else {
            throw TEEClientError(.communication, origin: .comms)
        }
        return response
    }

    func sendCancel(_ cancelID: UInt32) {
        _ = try? call(.cancel(cancelID: cancelID))
    }

    // MARK: Sessions

    /// `TEEC_OpenSession`. A TA or TEE refusal throws with its origin; a UUID nobody serves is
    /// ITEM_NOT_FOUND from the TEE.
    public func openSession(_ uuid: TEEUUID, login: Login = .public, connectionData: UInt32 = 0, operation: TEEOperation? = nil) throws(TEEClientError) -> TEESession {
        guard login.isClientLogin else { throw TEEClientError(.badParameters, origin: .api) }
        let op = operation ?? TEEOperation()
        let response = try perform(op) { (params, cancelID) in
            .openSession(uuid: uuid, login: login, connectionData: connectionData, cancelID: cancelID, params: params)
        }
        return TEESession(context: self, id: response.session, uuid: uuid)
    }

    /// Runs a request carrying `op`'s parameters: checks and resolves them (origin API), shares
    /// temporary buffers for the call, copies results back, and throws on a non-success result.
    func perform(_ op: TEEOperation, _ make: (WireParameters, UInt32) -> WireRequest) throws(TEEClientError) -> WireResponse {
        guard op.start(on: self) else { throw TEEClientError(.cancel, origin: .api) }
        defer { op.finish() }
        var temps: [(index: Int, id: UInt32, region: any SharedByteBuffer, sizeClass: Int?)] = []
        defer { for t in temps { returnTemporary(id: t.id, region: t.region, sizeClass: t.sizeClass) } }
        var wire: [WireParameter] = []
        wire.reserveCapacity(4)
        // The packed type word is built as it goes (an array of types was one more allocation
        // on every call).
        var types: UInt32 = 0
        func add(_ p: WireParameter, _ t: ParamType) {
            types |= UInt32(t.rawValue) << (4 * UInt32(wire.count))
            wire.append(p)
        }
        for (i, p) in op.params.enumerated() {
            switch p {
            case .none:
                add(.none, .none)
            case .value(let t, let a, let b):
                guard t.isValue else { throw TEEClientError(.badParameters, origin: .api) }
                add(.value(a: t.isInput ? a : 0, b: t.isInput ? b : 0), t)
            case .temp(let t, let bytes, let size):
                guard t == .memrefInput || t == .memrefOutput || t == .memrefInout, size >= 0 else { throw TEEClientError(.badParameters, origin: .api) }
                guard let bytes else {
                    add(.memref(memory: 0, offset: 0, size: UInt64(size)), t)
                    continue
                }
                guard bytes.count >= size else { throw TEEClientError(.badParameters, origin: .api) }
                guard UInt64(size) <= WireCodec.maxMemorySize else { throw TEEClientError(.outOfMemory, origin: .api) }
                let region = try takeTemporary(size: size)
                temps.append((i, region.id, region.region, region.sizeClass))
                // A pooled region held an earlier call's bytes: the memref's range is overwritten
                // with the input or zeros before the TA can see it.
                region.region.store(t.isInput ? Array(bytes.prefix(size)) : [UInt8](repeating: 0, count: size), at: 0)
                add(.memref(memory: region.id, offset: 0, size: UInt64(size)), t)
            case .whole(let shm, _):
                try check(shm)
                let t: ParamType = shm.flags == [.input, .output] ? .memrefInout : shm.flags.contains(.input) ? .memrefInput : .memrefOutput
                add(.memref(memory: shm.id, offset: 0, size: UInt64(shm.size)), t)
            case .partial(let t, let shm, let offset, let size):
                try check(shm)
                let taType: ParamType
                switch t {
                case .memrefPartialInput: taType = .memrefInput
                case .memrefPartialOutput: taType = .memrefOutput
                case .memrefPartialInout: taType = .memrefInout
                default: throw TEEClientError(.badParameters, origin: .api)
                }
                // Offset + size inside the parent, computed without overflow.
                guard offset >= 0, size >= 0, offset <= shm.size, size <= shm.size - offset else { throw TEEClientError(.badParameters, origin: .api) }
                guard (!taType.isInput || shm.flags.contains(.input)), (!taType.isOutput || shm.flags.contains(.output)) else {
                    throw TEEClientError(.badParameters, origin: .api)
                }
                add(.memref(memory: shm.id, offset: UInt64(offset), size: UInt64(size)), taType)
            }
        }
        let params: WireParameters
        guard wire.count == 4, let packed = ParamTypes(rawValue: types) else { throw TEEClientError(.badParameters, origin: .api) }
        do { params = try WireParameters(types: packed, params: wire) } catch { throw TEEClientError(.badParameters, origin: .api) }
        let response = try call(make(params, op.cancelID))

        // Copy back: values and sizes whatever the result; temporary data only when it fits.
        // By index: iterating the array while assigning into it would copy it on every call.
        for i in 0..<min(op.params.count, response.params.params.count) {
            switch (op.params[i], response.params.params[i]) {
            case (.value(let t, let a, let b), .value(let na, let nb)):
                op.params[i] = t.isOutput ? .value(t, a: na, b: nb) : .value(t, a: a, b: b)
            case (.temp(let t, let bytes, let size), .memref(_, _, let newSize)):
                var out = bytes
                if t.isOutput, let temp = temps.first(where: { $0.index == i }), Int(newSize) <= size {
                    out = temp.region.copyBytes(offset: 0, count: Int(newSize)) + Array((bytes ?? []).dropFirst(Int(newSize)).prefix(size - Int(newSize)))
                }
                op.params[i] = .temp(t, bytes: out, size: Int(min(newSize, UInt64(Int.max))))
            case (.whole(let shm, _), .memref(_, _, let newSize)):
                op.params[i] = .whole(shm, size: Int(newSize))
            case (.partial(let t, let shm, let offset, _), .memref(_, _, let newSize)):
                op.params[i] = .partial(t, shm, offset: offset, size: Int(newSize))
            default:
                break
            }
        }
        guard response.result == .success else { throw TEEClientError(response.result, origin: response.origin) }
        return response
    }

    /// A registered region of at least `size` bytes for one temporary memref: from the pool when
    /// its size class has one free, else made and registered now (input and output, so any
    /// direction can use it later).
    private func takeTemporary(size: Int) throws(TEEClientError) -> (id: UInt32, region: any SharedByteBuffer, sizeClass: Int?) {
        let c = Self.tempClasses
        var sizeClass: Int? = nil
        if size <= c.largest {
            var k = c.smallest
            while k < size { k <<= 1 }
            sizeClass = k
        }
        if let k = sizeClass, let pooled = tempPool.withLock({ p -> (id: UInt32, region: any SharedByteBuffer)? in
            guard let r = p.free[k]?.popLast() else { return nil }
            p.bytes -= k
            return r
        }) {
            return (pooled.id, pooled.region, k)
        }
        let count = sizeClass ?? size
        let made: (id: UInt32, region: any SharedByteBuffer)
        do { made = try createRegionDrainingPool(count: count, flags: 3) } catch { throw TEEClientError(.outOfMemory, origin: .api) }
        let reg: WireResponse
        do { reg = try call(.registerMemory(memory: made.id, size: UInt64(count), flags: 3)) } catch {
            transport.releaseRegion(id: made.id)
            throw error
        }
        guard reg.result == .success else {
            transport.releaseRegion(id: made.id)
            throw TEEClientError(reg.result, origin: reg.origin)
        }
        return (made.id, made.region, sizeClass)
    }

    /// A new region; if the daemon refuses it (this connection's shared-memory limit), the
    /// pooled temporary regions are given back first and it is asked once more.
    private func createRegionDrainingPool(count: Int, flags: UInt32) throws(TransportError) -> (id: UInt32, region: any SharedByteBuffer) {
        do { return try transport.createRegion(count: count, flags: flags) } catch {
            let pooled = emptyPool()
            guard !pooled.isEmpty else { throw error }
            for id in pooled { dropRegion(id) }
            return try transport.createRegion(count: count, flags: flags)
        }
    }

    /// Takes every free pooled region out of the pool; returns their ids.
    private func emptyPool() -> [UInt32] {
        tempPool.withLock { p in defer { p = ([:], 0) }; return p.free.values.joined().map(\.id) }
    }

    /// Unregisters a region with the secure world and releases it.
    private func dropRegion(_ id: UInt32) {
        _ = try? call(.unregisterMemory(memory: id))
        transport.releaseRegion(id: id)
    }

    /// Back to the pool if its class has room, else unregistered and released.
    private func returnTemporary(id: UInt32, region: any SharedByteBuffer, sizeClass: Int?) {
        let c = Self.tempClasses
        let kept = sizeClass.map { k in
            tempPool.withLock { p -> Bool in
                guard !isFinalized, p.free[k, default: []].count < c.perClass, p.bytes + k <= c.totalBytes else { return false }
                p.free[k, default: []].append((id, region))
                p.bytes += k
                return true
            }
        } ?? false
        if !kept { dropRegion(id) }
    }

    private func check(_ shm: SharedMemory) throws(TEEClientError) {
        guard shm.context === self, !shm.isReleased else { throw TEEClientError(.badParameters, origin: .api) }
    }

    // MARK: Shared memory

    /// `TEEC_AllocateSharedMemory`. A size of zero is allowed (GP), flags must be non-empty.
    public func allocateSharedMemory(size: Int, flags: SharedMemoryFlags) throws(TEEClientError) -> SharedMemory {
        guard size >= 0, !flags.isEmpty, flags.isSubset(of: [.input, .output]) else { throw TEEClientError(.badParameters, origin: .api) }
        // More than a frame can name (1 GiB) is more memory than the TEE shares: OUT_OF_MEMORY
        // here, before anything is made (red-team L1: it was COMMUNICATION from the daemon).
        guard UInt64(size) <= WireCodec.maxMemorySize else { throw TEEClientError(.outOfMemory, origin: .api) }
        let (id, region): (UInt32, any SharedByteBuffer)
        do { (id, region) = try createRegionDrainingPool(count: size, flags: flags.rawValue) } catch { throw TEEClientError(.outOfMemory, origin: .api) }
        return try adopt(id: id, region: region, size: size, flags: flags)
    }

    /// `TEEC_RegisterSharedMemoryFileDescriptor`: shares the memory of a memfd the caller made
    /// (sealed against shrinking here, so the secure world's mapping stays valid), without a
    /// copy. The caller keeps its descriptor.
    public func registerSharedMemory(fileDescriptor fd: Int32, size: Int, flags: SharedMemoryFlags) throws(TEEClientError) -> SharedMemory {
        guard size >= 0, !flags.isEmpty, flags.isSubset(of: [.input, .output]) else { throw TEEClientError(.badParameters, origin: .api) }
        guard UInt64(size) <= WireCodec.maxMemorySize else { throw TEEClientError(.outOfMemory, origin: .api) }
        let (id, region): (UInt32, any SharedByteBuffer)
        do { (id, region) = try transport.registerRegion(fileDescriptor: fd, count: size, flags: flags.rawValue) } catch {
            throw TEEClientError(error.code == .outOfMemory ? .outOfMemory : .badParameters, origin: .api)
        }
        return try adopt(id: id, region: region, size: size, flags: flags)
    }

    private func adopt(id: UInt32, region: any SharedByteBuffer, size: Int, flags: SharedMemoryFlags) throws(TEEClientError) -> SharedMemory {
        let response = try call(.registerMemory(memory: id, size: UInt64(size), flags: flags.rawValue))
        guard response.result == .success else {
            transport.releaseRegion(id: id)
            throw TEEClientError(response.result, origin: response.origin)
        }
        state.withLock { _ = $0.memories.insert(id) }
        return SharedMemory(id: id, region: region, size: size, flags: flags, context: self)
    }

    /// `TEEC_RegisterSharedMemory` for Swift bytes: shares a copy of `bytes` (see SharedMemory).
    public func registerSharedMemory(_ bytes: [UInt8], flags: SharedMemoryFlags) throws(TEEClientError) -> SharedMemory {
        let shm = try allocateSharedMemory(size: bytes.count, flags: flags)
        shm.region.store(bytes, at: 0)
        return shm
    }

    /// `TEEC_ReleaseSharedMemory`. Releasing twice is harmless.
    public func releaseSharedMemory(_ shm: SharedMemory) {
        guard shm.context === self, shm.markReleased() else { return }
        dropRegion(shm.id)
        state.withLock { _ = $0.memories.remove(shm.id) }
    }
}

/// A session with a TA (`TEEC_Session`).
public final class TEESession: @unchecked Sendable {
    // @unchecked: `closed` is an atomic.
    let context: TEEContext
    let id: UInt32
    public let uuid: TEEUUID
    private let closed = Atomic<Bool>(false)

    init(context: TEEContext, id: UInt32, uuid: TEEUUID) {
        self.context = context
        self.id = id
        self.uuid = uuid
    }

    /// `TEEC_InvokeCommand`. Parameters of `operation` are updated in place, also on failure.
    public func invoke(_ command: UInt32, _ operation: TEEOperation? = nil) throws(TEEClientError) {
        guard !closed.load(ordering: .acquiring) else { throw TEEClientError(.badState, origin: .api) }
        let op = operation ?? TEEOperation()
        _ = try context.perform(op) { (params, cancelID) in .invoke(session: id, command: command, cancelID: cancelID, params: params) }
    }

    /// `TEEC_CloseSession`. Closing twice is harmless.
    public func close() {
        let wasOpen = !closed.exchange(true, ordering: .acquiringAndReleasing)
        guard wasOpen, !context.isFinalized else { return }
        _ = try? context.call(.closeSession(session: id))
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CTEEClientAPI
import TEEClient
import TEETransport

// libteec.so.2: OP-TEE's C client API (shared/spec/client-abi.md) on top of TEEClient, so the
// protocol lives in one place (TEEWire frames over the daemon transport) and a C program needs
// no Swift knowledge: it includes tee_client_api.h and links -lteec. The C structs carry
// handles into the tables below (TEEC_Context.imp.fd, TEEC_Session.imp.session_id,
// TEEC_SharedMemory.imp.id); every table is behind a lock, so contexts may be used from
// several threads (GP).

/// The library's state: what each C handle stands for.
final class Handles: @unchecked Sendable {
    // @unchecked: every table is behind `state`.
    struct Memory {
        let shm: SharedMemory
        /// The caller's buffer of a registered memory (copied into the shadow before each call
        /// and back after it), nil for allocated or file-descriptor memory.
        let userBuffer: UnsafeMutableRawPointer?
        let size: Int
        let flags: SharedMemoryFlags
    }

    struct Tables {
        var contexts: [Int32: TEEContext] = [:]
        var sessions: [UInt32: (session: TEESession, context: Int32)] = [:]
        var memories: [Int32: Memory] = [:]
        var running: [UnsafeMutableRawPointer: TEEOperation] = [:]
        var cancelBeforeStart: Set<UnsafeMutableRawPointer> = []
        var next: Int32 = 1
    }

    let state = Locked(Tables())

    func nextID(_ t: inout Tables) -> Int32 {
        defer { t.next = t.next == .max ? 1 : t.next + 1 }
        return t.next
    }

    static let shared = Handles()
}

private func set(_ origin: UnsafeMutablePointer<UInt32>?, _ value: UInt32) { origin?.pointee = value }

private func originValue(_ o: ReturnOrigin) -> UInt32 { o.rawValue }

// MARK: Contexts

@_cdecl("TEEC_InitializeContext")
public func teecInitializeContext(_ name: UnsafePointer<CChar>?, _ context: UnsafeMutablePointer<TEEC_Context>?) -> TEEC_Result {
    guard let context else { return TEEC_Result(TEEC_ERROR_BAD_PARAMETERS) }
    // OP-TEE's library knows one TEE, "optee-tz"; so do we.
    if let name, String(cString: name) != "optee-tz" { return TEEC_Result(TEEC_ERROR_ITEM_NOT_FOUND) }
    let connection: TEEContext
    do { connection = try TEEContext.connect() } catch {
        // OP-TEE's library says why on standard error at its default level (errors) too.
        if let reason = error.reason {
            let line = Array("rproc-tee libteec: TEEC_InitializeContext: \(reason)\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
        return error.result.rawValue
    }
    let id = Handles.shared.state.withLock { t -> Int32 in
        let id = Handles.shared.nextID(&t)
        t.contexts[id] = connection
        return id
    }
    context.pointee.imp.fd = id
    context.pointee.imp.reg_mem = false       // client buffers are shadowed, as OP-TEE's library does without reg_mem
    context.pointee.imp.memref_null = true    // NULL memory references are accepted
    return TEEC_Result(TEEC_SUCCESS)
}

@_cdecl("TEEC_FinalizeContext")
public func teecFinalizeContext(_ context: UnsafeMutablePointer<TEEC_Context>?) {
    guard let context else { return }
    let id = context.pointee.imp.fd
    let connection = Handles.shared.state.withLock { t -> TEEContext? in
        t.sessions = t.sessions.filter { $0.value.context != id }
        return t.contexts.removeValue(forKey: id)
    }
    connection?.finalize()
}

private func connection(_ context: UnsafeMutablePointer<TEEC_Context>?) -> TEEContext? {
    guard let context else { return nil }
    return Handles.shared.state.withLock { $0.contexts[context.pointee.imp.fd] }
}

// MARK: Shared memory

private func memoryFlags(_ raw: UInt32) -> SharedMemoryFlags? {
    guard raw != 0, raw & ~UInt32(TEEC_MEM_INPUT | TEEC_MEM_OUTPUT) == 0 else { return nil }
    return SharedMemoryFlags(rawValue: raw)
}

private func remember(_ memory: Handles.Memory) -> Int32 {
    Handles.shared.state.withLock { t -> Int32 in
        let id = Handles.shared.nextID(&t)
        t.memories[id] = memory
        return id
    }
}

@_cdecl("TEEC_AllocateSharedMemory")
public func teecAllocateSharedMemory(_ context: UnsafeMutablePointer<TEEC_Context>?, _ shm: UnsafeMutablePointer<TEEC_SharedMemory>?) -> TEEC_Result {
    guard let c = connection(context), let shm, let flags = memoryFlags(shm.pointee.flags) else { return TEEC_Result(TEEC_ERROR_BAD_PARAMETERS) }
    let size = shm.pointee.size == 0 ? 8 : shm.pointee.size   // a zero-size allocation still maps a page (as OP-TEE does)
    // Attacker: the caller's struct. size_t arrives as Int: SIZE_MAX is -1 here, and too large
    // for any region (OUT_OF_MEMORY, as OP-TEE's library answers; xtest 5006).
    guard size >= 0, size <= Int(Int32.max) else { return TEEC_Result(TEEC_ERROR_OUT_OF_MEMORY) }
    let memory: SharedMemory
    do { memory = try c.allocateSharedMemory(size: size, flags: flags) } catch { return error.result.rawValue }
    guard let address = memory.mappedAddress else { return TEEC_Result(TEEC_ERROR_GENERIC) }
    shm.pointee.buffer = address
    shm.pointee.imp.id = remember(Handles.Memory(shm: memory, userBuffer: nil, size: size, flags: flags))
    shm.pointee.imp.alloced_size = size
    shm.pointee.imp.shadow_buffer = nil
    shm.pointee.imp.registered_fd = -1
    shm.pointee.imp.flags = 1
    return TEEC_Result(TEEC_SUCCESS)
}

@_cdecl("TEEC_RegisterSharedMemory")
public func teecRegisterSharedMemory(_ context: UnsafeMutablePointer<TEEC_Context>?, _ shm: UnsafeMutablePointer<TEEC_SharedMemory>?) -> TEEC_Result {
    guard let c = connection(context), let shm, let flags = memoryFlags(shm.pointee.flags) else { return TEEC_Result(TEEC_ERROR_BAD_PARAMETERS) }
    // A NULL buffer is refused whatever its size, as OP-TEE's library does (xtest 1025); a
    // zero-size buffer gets an 8-byte region, as there.
    guard shm.pointee.buffer != nil else { return TEEC_Result(TEEC_ERROR_BAD_PARAMETERS) }
    let size = shm.pointee.size == 0 ? 8 : shm.pointee.size
    guard size >= 0, size <= Int(Int32.max) else { return TEEC_Result(TEEC_ERROR_OUT_OF_MEMORY) }   // size_t past Int.max is negative here
    // A separate-process TEE cannot map the caller's pages: a shadow region, copied in before
    // and out after each call that names it (OP-TEE's library does the same without reg_mem).
    let shadow: SharedMemory
    do { shadow = try c.allocateSharedMemory(size: size, flags: flags) } catch { return error.result.rawValue }
    shm.pointee.imp.id = remember(Handles.Memory(shm: shadow, userBuffer: shm.pointee.buffer, size: shm.pointee.size, flags: flags))
    shm.pointee.imp.alloced_size = size
    shm.pointee.imp.shadow_buffer = shadow.mappedAddress
    shm.pointee.imp.registered_fd = -1
    shm.pointee.imp.flags = 2
    return TEEC_Result(TEEC_SUCCESS)
}

@_cdecl("TEEC_RegisterSharedMemoryFileDescriptor")
public func teecRegisterSharedMemoryFileDescriptor(_ context: UnsafeMutablePointer<TEEC_Context>?, _ shm: UnsafeMutablePointer<TEEC_SharedMemory>?, _ fd: Int32) -> TEEC_Result {
    guard let c = connection(context), let shm, fd >= 0, let flags = memoryFlags(shm.pointee.flags) else { return TEEC_Result(TEEC_ERROR_BAD_PARAMETERS) }
    var st = stat()
    guard fstat(fd, &st) == 0, st.st_size > 0, st.st_size <= off_t(Int32.max) else { return TEEC_Result(TEEC_ERROR_BAD_PARAMETERS) }
    let size = Int(st.st_size)
    let memory: SharedMemory
    do { memory = try c.registerSharedMemory(fileDescriptor: fd, size: size, flags: flags) } catch { return error.result.rawValue }
    shm.pointee.buffer = nil
    shm.pointee.size = size
    shm.pointee.imp.id = remember(Handles.Memory(shm: memory, userBuffer: nil, size: size, flags: flags))
    shm.pointee.imp.alloced_size = size
    shm.pointee.imp.shadow_buffer = nil
    shm.pointee.imp.registered_fd = fd
    shm.pointee.imp.flags = 3
    return TEEC_Result(TEEC_SUCCESS)
}

@_cdecl("TEEC_ReleaseSharedMemory")
public func teecReleaseSharedMemory(_ shm: UnsafeMutablePointer<TEEC_SharedMemory>?) {
    guard let shm else { return }
    guard let memory = Handles.shared.state.withLock({ $0.memories.removeValue(forKey: shm.pointee.imp.id) }) else { return }
    let wasAllocated = shm.pointee.imp.flags == 1
    memory.shm.release()
    if wasAllocated {
        shm.pointee.buffer = nil
        shm.pointee.size = 0
    }
    shm.pointee.imp.id = -1
    shm.pointee.imp.shadow_buffer = nil
    shm.pointee.imp.registered_fd = -1
    shm.pointee.imp.flags = 0
}

// MARK: Operations

/// A C operation turned into a TEEOperation, with what must be copied back after the call.
private struct Translated {
    let op: TEEOperation
    var registered: [Handles.Memory] = []
}

private func translate(_ cop: UnsafeMutablePointer<TEEC_Operation>?) -> Result<Translated, TEEClientError> {
    guard let cop else { return .success(Translated(op: TEEOperation())) }
    var params: [OperationParameter] = []
    var registered: [Handles.Memory] = []
    let types = cop.pointee.paramTypes
    // Attacker-free (the caller's own memory), but every pointer and size is checked the way
    // OP-TEE's library checks them: bad ones are BAD_PARAMETERS from the API.
    let bad = TEEClientError(.badParameters, origin: .api)
    for i in 0..<4 {
        let type = (types >> (4 * UInt32(i))) & 0xF
        let p = withUnsafeMutablePointer(to: &cop.pointee.params) { $0.withMemoryRebound(to: TEEC_Parameter.self, capacity: 4) { $0[i] } }
        switch Int32(type) {
        case TEEC_NONE: params.append(.none)
        case TEEC_VALUE_INPUT: params.append(.value(.valueInput, a: p.value.a, b: p.value.b))
        case TEEC_VALUE_OUTPUT: params.append(.value(.valueOutput, a: 0, b: 0))
        case TEEC_VALUE_INOUT: params.append(.value(.valueInout, a: p.value.a, b: p.value.b))
        case TEEC_MEMREF_TEMP_INPUT, TEEC_MEMREF_TEMP_OUTPUT, TEEC_MEMREF_TEMP_INOUT:
            let t: ParamType = type == 5 ? .memrefInput : type == 6 ? .memrefOutput : .memrefInout
            let size = p.tmpref.size
            // Attacker: the caller's operation; a size_t past Int.max arrives negative.
            guard size >= 0, size <= Int(Int32.max) else { return .failure(bad) }
            if let buffer = p.tmpref.buffer {
                // SAFETY: the caller promises `size` bytes at `buffer` (GP).
                let bytes = t.isInput ? [UInt8](UnsafeRawBufferPointer(start: buffer, count: size)) : [UInt8](repeating: 0, count: size)
                params.append(.temp(t, bytes: bytes, size: size))
            } else {
                params.append(.temp(t, bytes: nil, size: size))
            }
        case TEEC_MEMREF_WHOLE, TEEC_MEMREF_PARTIAL_INPUT, TEEC_MEMREF_PARTIAL_OUTPUT, TEEC_MEMREF_PARTIAL_INOUT:
            guard let parent = p.memref.parent,
                  let memory = Handles.shared.state.withLock({ $0.memories[parent.pointee.imp.id] }) else { return .failure(bad) }
            if memory.userBuffer != nil { registered.append(memory) }
            if type == TEEC_MEMREF_WHOLE {
                params.append(.whole(memory.shm, size: memory.size))
            } else {
                let t: ParamType = type == 0xD ? .memrefPartialInput : type == 0xE ? .memrefPartialOutput : .memrefPartialInout
                params.append(.partial(t, memory.shm, offset: p.memref.offset, size: p.memref.size))
            }
        default:
            return .failure(bad)
        }
    }
    return .success(Translated(op: TEEOperation(params[0], params[1], params[2], params[3]), registered: registered))
}

/// Copies results back into the C operation: values, sizes (also on SHORT_BUFFER), temporary
/// output bytes that fit, and registered memory's shadows.
private func writeBack(_ t: Translated, _ cop: UnsafeMutablePointer<TEEC_Operation>?) {
    for memory in t.registered where memory.flags.contains(.output) {
        if let user = memory.userBuffer, let shadow = memory.shm.mappedAddress, memory.size > 0 {
            // SAFETY: both hold at least `memory.size` bytes (registered with that size).
            memcpy(user, shadow, memory.size)
        }
    }
    guard let cop else { return }
    withUnsafeMutablePointer(to: &cop.pointee.params) { raw in
        raw.withMemoryRebound(to: TEEC_Parameter.self, capacity: 4) { params in
            for i in 0..<4 {
                switch t.op.params[i] {
                case .value(let type, let a, let b) where type.isOutput:
                    params[i].value.a = a
                    params[i].value.b = b
                case .temp(let type, _, let size):
                    if type.isOutput, let buffer = params[i].tmpref.buffer, size <= params[i].tmpref.size, let out = t.op.output(i) {
                        out.withUnsafeBytes { _ = memcpy(buffer, $0.baseAddress!, min(out.count, size)) }
                    }
                    params[i].tmpref.size = size
                case .whole(_, let size), .partial(_, _, _, let size):
                    params[i].memref.size = size
                default:
                    break
                }
            }
        }
    }
}

private func copyIn(_ t: Translated) {
    for memory in t.registered where memory.flags.contains(.input) {
        if let user = memory.userBuffer, let shadow = memory.shm.mappedAddress, memory.size > 0 {
            // SAFETY: both hold at least `memory.size` bytes.
            memcpy(shadow, user, memory.size)
        }
    }
}

/// Runs `body` with `cop` registered for TEEC_RequestCancellation from another thread.
private func running(_ cop: UnsafeMutablePointer<TEEC_Operation>?, _ t: Translated, _ body: () throws(TEEClientError) -> Void) throws(TEEClientError) {
    guard let cop else { return try body() }
    let key = UnsafeMutableRawPointer(cop)
    let cancelled = Handles.shared.state.withLock { s -> Bool in
        s.running[key] = t.op
        return s.cancelBeforeStart.remove(key) != nil
    }
    defer { _ = Handles.shared.state.withLock { $0.running.removeValue(forKey: key) } }
    cop.pointee.started = 1
    if cancelled { t.op.requestCancellation() }
    try body()
}

/// One call with a C operation: translated (API errors answered before anything is sent), the
/// registered memory copied in, `body` run cancellable, the results copied back whatever the
/// outcome, the origin written. `body` returns nothing on success.
private func perform(_ cop: UnsafeMutablePointer<TEEC_Operation>?, _ origin: UnsafeMutablePointer<UInt32>?,
                     _ body: (TEEOperation) throws(TEEClientError) -> Void) -> TEEC_Result {
    let translated: Translated
    switch translate(cop) {
    case .success(let t): translated = t
    case .failure(let e):
        set(origin, originValue(e.origin))
        return e.result.rawValue
    }
    copyIn(translated)
    do throws(TEEClientError) {
        try running(cop, translated) { () throws(TEEClientError) in try body(translated.op) }
        writeBack(translated, cop)
        set(origin, UInt32(TEEC_ORIGIN_TRUSTED_APP))
        return TEEC_Result(TEEC_SUCCESS)
    } catch {
        writeBack(translated, cop)
        set(origin, originValue(error.origin))
        return error.result.rawValue
    }
}

// MARK: Sessions

@_cdecl("TEEC_OpenSession")
public func teecOpenSession(_ context: UnsafeMutablePointer<TEEC_Context>?, _ session: UnsafeMutablePointer<TEEC_Session>?,
                            _ destination: UnsafePointer<TEEC_UUID>?, _ method: UInt32, _ data: UnsafeRawPointer?,
                            _ cop: UnsafeMutablePointer<TEEC_Operation>?, _ origin: UnsafeMutablePointer<UInt32>?) -> TEEC_Result {
    guard let c = connection(context), let context, let session, let destination else {
        set(origin, UInt32(TEEC_ORIGIN_API))
        return TEEC_Result(TEEC_ERROR_BAD_PARAMETERS)
    }
    let u = destination.pointee
    let uuid = TEEUUID(timeLow: u.timeLow, timeMid: u.timeMid, timeHiAndVersion: u.timeHiAndVersion, clockSeqAndNode: u.clockSeqAndNode)
    // GROUP logins carry a gid_t.
    let connectionData: UInt32 = (method == UInt32(TEEC_LOGIN_GROUP) || method == UInt32(TEEC_LOGIN_GROUP_APPLICATION)) ? (data?.load(as: UInt32.self) ?? 0) : 0
    var opened: TEESession?
    let result = perform(cop, origin) { (op) throws(TEEClientError) in
        opened = try c.openSession(uuid, login: Login(rawValue: method), connectionData: connectionData, operation: op)
    }
    guard let opened else { return result }
    let id = Handles.shared.state.withLock { t -> UInt32 in
        let id = UInt32(Handles.shared.nextID(&t))
        t.sessions[id] = (opened, context.pointee.imp.fd)
        return id
    }
    session.pointee.imp.ctx = context
    session.pointee.imp.session_id = id
    return result
}

@_cdecl("TEEC_CloseSession")
public func teecCloseSession(_ session: UnsafeMutablePointer<TEEC_Session>?) {
    guard let session else { return }
    let s = Handles.shared.state.withLock { $0.sessions.removeValue(forKey: session.pointee.imp.session_id) }
    s?.session.close()
}

@_cdecl("TEEC_InvokeCommand")
public func teecInvokeCommand(_ session: UnsafeMutablePointer<TEEC_Session>?, _ command: UInt32,
                              _ cop: UnsafeMutablePointer<TEEC_Operation>?, _ origin: UnsafeMutablePointer<UInt32>?) -> TEEC_Result {
    guard let session, let s = Handles.shared.state.withLock({ $0.sessions[session.pointee.imp.session_id] }) else {
        set(origin, UInt32(TEEC_ORIGIN_API))
        return TEEC_Result(TEEC_ERROR_BAD_PARAMETERS)
    }
    cop?.pointee.imp.session = session
    return perform(cop, origin) { (op) throws(TEEClientError) in try s.session.invoke(command, op) }
}

@_cdecl("TEEC_RequestCancellation")
public func teecRequestCancellation(_ cop: UnsafeMutablePointer<TEEC_Operation>?) {
    guard let cop else { return }
    let key = UnsafeMutableRawPointer(cop)
    let op = Handles.shared.state.withLock { s -> TEEOperation? in
        if let op = s.running[key] { return op }
        s.cancelBeforeStart.insert(key)   // not started yet: it starts cancelled
        return nil
    }
    op?.requestCancellation()
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TEEInternalAPI
import TEETransport
import TEEWire

/// The process one TA instance runs in (daemon mode). The daemon starts its own executable with
/// `TAHostProcess.hostArgument`; that executable's `main` calls `runIfRequested` first, which
/// serves the TA and never returns. The TA runs against the Internal API as anywhere else; what
/// the core owns — trusted storage, other TAs, pseudo-TAs, the log — it reaches by asking the
/// core over the link, which acts with this TA's identity and nothing more.
public enum TAHost {
    /// Stack a Swift entry point needs beyond what the TA declares (`TA_STACK_SIZE` is sized for
    /// C): the runtime, debug-build frames, the crypto library.
    public static let stackAllowance = 512 * 1024
    /// Memory the Swift runtime, Foundation and the crypto library need beyond what the TA
    /// declares (`TA_DATA_SIZE`): the host's data limit is its size at start + this + the TA's.
    /// `RPROC_TEE_TA_DATA_ALLOWANCE` (MiB) raises it: a sanitizer's runtime (TSan, ASan) keeps
    /// its shadow and allocator state in the host's data too (`make test-tsan` sets it).
    public static var dataAllowance: Int {
        if let text = ProcessInfo.processInfo.environment["RPROC_TEE_TA_DATA_ALLOWANCE"], let mib = Int(text), (16...65536).contains(mib) {
            return mib << 20
        }
        return 16 << 20
    }

    /// If this process was started as a TA host, serves its TA and exits; otherwise returns at
    /// once. `types` are the TAs this executable can host (the daemon's registered TAs).
    public static func runIfRequested(_ types: [any TrustedApplication.Type]) {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2, arguments[1] == TAHostProcess.hostArgument,
              let parent = ProcessInfo.processInfo.environment[TAHostProcess.environmentKey].flatMap(Int32.init) else { return }
        // The sandbox's first step comes before anything else: the user (a uid change clears the
        // parent-death signal, so that is set after it), not dumpable.
        let environment = ProcessInfo.processInfo.environment
        do { try HostSandbox.enter(user: environment[HostSandbox.userKey], debuggable: environment[HostSandbox.debugKey] == "1") } catch {
            FileHandle.standardError.write(Data("rproc-tee TA host: \(error)\n".utf8))
            exit(70)
        }
        HostDescriptors.dieWithParent()
        // The daemon may have died before the line above: then nothing is left to serve.
        guard getppid() == parent else { exit(0) }
        let link: HostLink
        do { link = try HostLink.inherit(fd: 3) } catch {
            FileHandle.standardError.write(Data("rproc-tee TA host: no link from the daemon (\(error))\n".utf8))
            exit(70)
        }
        var catalog: [TEEUUID: any TrustedApplication.Type] = [:]
        for t in types { catalog[t.properties.uuid] = t }
        let host = HostProcess(link: link, socket: 4, parent: parent, catalog: catalog)
        host.run()
    }
}

/// The host's side of the link, and the TA's runtime.
final class HostProcess: TARuntime, @unchecked Sendable {
    // @unchecked: the link is served by one thread at a time (the entry-point thread once it
    // exists); the cancellation watcher only touches `tee`, which is thread-safe for that.
    let link: HostLink
    let socket: Int32
    let parent: Int32
    let catalog: [TEEUUID: any TrustedApplication.Type]
    private var tee: TEE?
    private var deviceID = TEEUUID.zero
    private var storageBackends: [StorageSpace: HostStorage] = [:]

    init(link: HostLink, socket: Int32, parent: Int32, catalog: [TEEUUID: any TrustedApplication.Type]) {
        self.link = link
        self.socket = socket
        self.parent = parent
        self.catalog = catalog
    }

    /// Says hello, waits to be told which TA to be, then serves it on a thread whose stack is the
    /// TA's declared stack (plus the runtime's allowance).
    func run() -> Never {
        warmUp()
        // The sandbox's second step, before the host says it is ready — so before any TA's
        // code can run in it, and not on a client's cold OpenSession: from here on the process
        // opens nothing, starts no process, signals no other. What it will read later is
        // opened first.
        let statm = HostResources.openStatm()
        // Under --ta-debug: /proc/self/status, read later for TracerPid (opened while files can be).
        let debugStatus: Int32? = ProcessInfo.processInfo.environment[HostSandbox.debugKey] == "1" ? open("/proc/self/status", O_RDONLY | O_CLOEXEC) : nil
        // libutee.so: loaded while files can still be opened; a TA that needs it later finds it
        // by its soname (as it finds a sanitizer's runtime the daemon preloads, --ta-preload).
        guard NativeRuntime.loadIfNamed() else { exit(70) }
        if NativeRuntime.loaded { NativeAPI.shared = NativeAPI(host: self) }
        do { try HostSandbox.lockDown() } catch {
            FileHandle.standardError.write(Data("rproc-tee TA host: \(error)\n".utf8))
            exit(70)
        }
        send(.done(result: .success, params: .none))
        let instantiate: (ClientIdentity) throws(TEEResult) -> (TEE, any TAEntryPoints)
        let properties: TAProperties
        switch receive() {
        case .create(let uuid, let login, let client, let deviceID)?:
            self.deviceID = deviceID
            guard let type = catalog[uuid] else {
                send(.done(result: .itemNotFound, params: .none))
                exit(0)
            }
            properties = type.properties
            instantiate = { [self] (client) throws(TEEResult) in
                let tee = TEE(properties: properties, runtime: self)
                return (tee, try type.instantiate(tee: tee, client: client))
            }
            startServing(properties: properties, client: ClientIdentity(login: login, uuid: client), statm: statm, instantiate)
        case .createNative(let uuid, let login, let client, let deviceID, let stackSize, let dataSize, let libraries)?:
            self.deviceID = deviceID
            // The image and its libraries, in the order named; the broker opens each by its name.
            for name in [uuid.description] + libraries {
                guard let fd = HostDescriptors.receive(on: socket) else { exit(0) }
                guard HostSandbox.allowOpen(HostSandbox.brokerFolder + "/" + name, fd: fd) else {
                    send(.done(result: .outOfMemory, params: .none))
                    exit(0)
                }
            }
            guard NativeRuntime.loaded, let api = NativeAPI.shared else {
                send(.done(result: .notSupported, params: .none))
                exit(0)
            }
            properties = TAProperties(uuid: uuid, dataSize: dataSize, stackSize: stackSize, description: uuid.description)
            NativeRuntime.bind(dataSize: Int(dataSize))
            instantiate = { [self] (client) throws(TEEResult) in
                // The loader runs the TA's constructors: inside an instance already, so that
                // what they call of the Internal API has one.
                let loading = TEE(properties: properties, runtime: self)
                api.tee = loading
                if let status = debugStatus {
                    // `--ta-debug`: before any of the TA's code (its constructors included)
                    // runs, the host waits for a debugger to attach; a breakpoint set in the TA
                    // before `continue` then resolves as it is loaded.
                    log(ta: properties, "TA host pid \(getpid()) waits for a debugger before TA \(uuid) is loaded")
                    HostResources.waitForTracer(status: status)
                }
                let image = try loading.enter(client: client) { () throws(TEEResult) -> NativeImage in
                    try NativeImage(uuid: uuid, stackSize: stackSize, dataSize: dataSize, host: self)
                }
                let tee = TEE(properties: image.properties, runtime: self)
                api.tee = tee
                return (tee, try NativeEntryPoints(tee: tee, image: image, client: client))
            }
            startServing(properties: properties, client: ClientIdentity(login: login, uuid: client), statm: statm, instantiate)
        default:
            exit(0)
        }
    }

    /// Starts the entry-point thread, whose stack is the TA's declared stack plus the runtime's
    /// allowance, under the TA's data limit; it serves the TA. Never returns.
    private func startServing(properties: TAProperties, client: ClientIdentity, statm: Int32,
                              _ instantiate: @escaping (ClientIdentity) throws(TEEResult) -> (TEE, any TAEntryPoints)) -> Never {
        // `ps` shows which TA a host process is (its command line is the same for every host).
        HostDescriptors.name("ta:" + properties.description)
        let stackSize = Int(properties.stackSize) + TAHost.stackAllowance
        // RLIMIT_DATA: what the process uses now (its runtime), the stack of the thread about to
        // start, the runtime's allowance and the TA's data size. A TA that allocates past it
        // fails to allocate; in Swift that ends its process (TARGET_DEAD).
        HostResources.limitData(extra: TAHost.dataAllowance + Int(properties.dataSize) + stackSize, statm: statm)
        let started = HostResources.startThread(stackSize: stackSize) { [self] in
            HostDescriptors.name("ta:" + properties.description)
            ServingThread.run { serve(client: client, instantiate) }
        }
        guard started else {
            send(.done(result: .outOfMemory, params: .none))
            exit(0)
        }
        while true { pause() }
    }

    /// While the host waits in the pool, the paths a cold OpenSession takes run once, so that
    /// their first-use costs (lazy binding, type metadata, the first thread) are paid here and
    /// not by the client: a frame of each kind decoded, parameters built and encoded, a thread
    /// started, an entry point bracketed.
    private func warmUp() {
        let params = try? HostParameters(types: ParamTypes(.valueInout, .memrefInput, .memrefOutput, .none), params: [
            .value(a: 1, b: 2), .memref(HostMemref(kind: .inline, size: 1, bytes: [0])), .memref(HostMemref(kind: .null, size: 4)), .none])
        for message in [HostMessage.create(uuid: .zero, login: .public, client: .zero, deviceID: .zero),
                        .open(session: 1, login: .public, client: .zero, params: params ?? .none), .done(result: .success, params: params ?? .none)] {
            if case .open(_, _, _, let hp)? = try? HostMessage(decoding: message.encoded()), let (p, _) = parameters(hp) {
                _ = HostParameters(answering: p, like: hp)
            }
        }
        let tee = TEE(properties: TAProperties(uuid: .zero), runtime: self)
        try? tee.enter(client: ClientIdentity(login: .public, uuid: .zero)) { () throws(TEEResult) in }
        // An instance's whole life, for a TA of our own: the instance's session table is generic
        // code whose first run in a process binds its runtime entry points and makes its type
        // metadata — ≈ 150 µs of a cold OpenSession when it was left to the client's first call.
        if let entry = try? WarmUpTA.instantiate(tee: tee, client: .init(login: .public, uuid: .zero)) {
            var none = Parameters.empty
            try? entry.openSession(id: 1, client: .init(login: .public, uuid: .zero), &none)
            try? entry.invoke(id: 1, client: .init(login: .public, uuid: .zero), command: 0, &none)
            entry.closeSession(id: 1, client: .init(login: .public, uuid: .zero))
            entry.destroy()
        }
        let done = Locked(false)
        _ = HostResources.startThread(stackSize: 64 * 1024) { done.withLock { $0 = true } }
        while !done.withLock({ $0 }) { sched_yield() }
    }

    private func serve(client: ClientIdentity, _ instantiate: (ClientIdentity) throws(TEEResult) -> (TEE, any TAEntryPoints)) {
        let tee: TEE
        let entry: any TAEntryPoints
        do {
            (tee, entry) = try instantiate(client)
        } catch {
            send(.done(result: error, params: .none))
            exit(0)
        }
        self.tee = tee
        send(.done(result: .success, params: .none))
        // The cancellation watcher: a client's RequestCancellation reaches the TA while it runs.
        _ = HostResources.startThread(stackSize: 256 * 1024) { [link] in
            var last: UInt32 = 0
            while true {
                link.waitForCancellation(last: &last)
                tee.requestCancellation()
            }
        }
        while true {
            guard let message = receive() else { exit(0) }
            switch message {
            case .open(let session, let login, let uuid, let hp):
                guard case (var params, let windows)? = parameters(hp) else {
                    send(.unavailable(result: .badParameters))
                    continue
                }
                var result = TEEResult.success
                do { try entry.openSession(id: session, client: ClientIdentity(login: login, uuid: uuid), &params) } catch { result = error }
                send(.done(result: result, params: HostParameters(answering: params, like: hp)))
                for w in windows { w.unmap() }
            case .invoke(let session, let login, let uuid, let command, let hp):
                guard case (var params, let windows)? = parameters(hp) else {
                    send(.unavailable(result: .badParameters))
                    continue
                }
                var result = TEEResult.success
                do { try entry.invoke(id: session, client: ClientIdentity(login: login, uuid: uuid), command: command, &params) } catch { result = error }
                send(.done(result: result, params: HostParameters(answering: params, like: hp)))
                for w in windows { w.unmap() }
            case .close(let session, let login, let uuid):
                entry.closeSession(id: session, client: ClientIdentity(login: login, uuid: uuid))
                send(.done(result: .success, params: .none))
            case .destroy:
                entry.destroy()
                send(.done(result: .success, params: .none))
                // At once: nothing is left to clean up that the kernel does not (atexit handlers
                // of a sanitizer runtime took over a second) — unless gcov's runtime is to write
                // the TA's counters (--ta-coverage), which it does from exit's handlers.
                fflush(nil)
                if HostSandbox.coverage { exit(0) }
                _exit(0)
            default:
                exit(70)   // the core never sends anything else here
            }
        }
    }

    // MARK: The link

    private func send(_ message: HostMessage) {
        do { try link.sendUp(message.encoded()) } catch {
            // A frame too large for the link is the TA's doing (e.g. a huge storage object).
            panic(ta: tee?.properties ?? TAProperties(uuid: .zero), code: 0xBAD0_0040, reason: "a request larger than the TA-host link: \(error.reason)")
        }
    }

    /// The core's next frame; nil (and the host should end) if the daemon is gone.
    private func receive() -> HostMessage? {
        guard let bytes = link.receiveDown(stillWanted: { getppid() == parent }) else { return nil }
        return try? HostMessage(decoding: bytes)
    }

    /// One request to the core and its answer (the host ends if the core is gone).
    func request(_ message: HostMessage) -> (result: TEEResult, origin: ReturnOrigin, value: UInt64, params: HostParameters, blobs: [[UInt8]]) {
        send(message)
        guard case .reply(let result, let origin, let value, let params, let blobs)? = receive() else { exit(0) }
        return (result, origin, value, params, blobs)
    }

    // MARK: Parameters

    /// The call's parameters: client memory mapped (the core's copy of exactly the named
    /// window), private bytes copied into private buffers. Nil when a window cannot be mapped
    /// (the call then fails, origin TEE; the host lives on): what a client sent never ends the
    /// host. Every descriptor of the call is taken off the socket either way.
    private func parameters(_ hp: HostParameters) -> (Parameters, [MappedWindow])? {
        var params: [Parameter] = []
        params.reserveCapacity(4)
        var windows: [MappedWindow] = []
        var failed = false
        for i in 0..<4 {
            let type = hp.types[i]
            switch hp.params[i] {
            case .none: params.append(.none)
            case .value(let a, let b): params.append(.value(a: a, b: b))
            case .memref(let r):
                let size = Int(r.size)
                switch r.kind {
                case .mapped:
                    // The core is gone if its socket is: nothing more to serve.
                    guard let fd = HostDescriptors.receive(on: socket) else { exit(0) }
                    guard let window = try? MappedWindow(fd: fd, offset: r.offset, count: size, writable: type.isOutput, slot: i) else {
                        failed = true
                        params.append(.none)
                        continue
                    }
                    windows.append(window)
                    params.append(.memref(MemoryReference(buffer: window, offset: 0, size: size, direction: type)))
                case .inline:
                    let bytes = type.isInput && r.bytes.count == size ? r.bytes : [UInt8](repeating: 0, count: size)
                    params.append(.memref(MemoryReference(buffer: PrivateBuffer(bytes: bytes), offset: 0, size: size, direction: type)))
                case .null, .ref:
                    params.append(.memref(MemoryReference(buffer: nil, offset: 0, size: size, direction: type)))
                }
            }
        }
        guard !failed else {
            for w in windows { w.unmap() }
            return nil
        }
        return (Parameters(types: hp.types, params: params), windows)
    }

    /// A TA's parameters for a call to another TA: its memory references into the current call's
    /// client memory go by reference (the core checks them against the call), others by copy.
    private func encodeUp(_ p: Parameters) -> HostParameters {
        var out: [HostParameter] = []
        out.reserveCapacity(4)
        for i in 0..<4 {
            switch p[i] {
            case .none: out.append(.none)
            case .value(let a, let b): out.append(.value(a: a, b: b))
            case .memref(let m):
                let (buffer, offset) = m.backing
                if let window = buffer as? MappedWindow {
                    out.append(.memref(HostMemref(kind: .ref, slot: UInt8(window.slot), offset: UInt64(offset), size: UInt64(m.capacity))))
                } else if let buffer {
                    let bytes = m.direction.isInput ? buffer.copyBytes(offset: offset, count: m.capacity) : []
                    out.append(.memref(HostMemref(kind: .inline, size: UInt64(m.capacity), bytes: bytes)))
                } else {
                    out.append(.memref(HostMemref(kind: .null, size: UInt64(m.capacity))))
                }
            }
        }
        return (try? HostParameters(types: p.types, params: out)) ?? .none
    }

    /// Takes back what the other TA left: values, sizes, private output bytes.
    private func applyUp(_ back: HostParameters, to p: inout Parameters) {
        guard back.types == p.types else { return }
        for i in 0..<4 {
            switch (p[i], back.params[i]) {
            case (.value, .value(let a, let b)):
                if p.types[i].isOutput { p[i] = .value(a: a, b: b) }
            case (.memref(var m), .memref(let r)):
                if m.direction.isOutput {
                    let (buffer, offset) = m.backing
                    if r.kind == .inline, let buffer, !r.bytes.isEmpty, r.bytes.count <= m.capacity { buffer.store(r.bytes, at: offset) }
                    m.size = Int(min(r.size, UInt64(Int32.max)))
                }
                p[i] = .memref(m)
            default: continue
            }
        }
    }

    // MARK: TARuntime

    var implementationProperties: [String: PropertyValue] { TEE.implementationProperties(deviceID: deviceID) }

    func panic(ta: TAProperties, code: UInt32, reason: String) -> Never {
        try? link.sendUp(HostMessage.panic(code: code, reason: reason).encoded())
        // A panic is a path a test suite covers too: under --ta-coverage, exit's handlers write
        // the counters (a TA that faults or is killed leaves none).
        if HostSandbox.coverage { exit(70) }
        _exit(70)
    }

    func openTASession(caller: TEEUUID, target: TEEUUID, timeout: UInt32, params: inout Parameters) throws(TEEError) -> UInt32 {
        let answer = request(.openTA(target: target, timeout: timeout, params: encodeUp(params)))
        applyUp(answer.params, to: &params)
        guard answer.result == .success else { throw TEEError(answer.result, origin: answer.origin) }
        return UInt32(truncatingIfNeeded: answer.value)
    }

    func invokeTASession(caller: TEEUUID, session: UInt32, command: UInt32, timeout: UInt32, params: inout Parameters) throws(TEEError) {
        let answer = request(.invokeTA(session: session, command: command, timeout: timeout, params: encodeUp(params)))
        applyUp(answer.params, to: &params)
        guard answer.result == .success else { throw TEEError(answer.result, origin: answer.origin) }
    }

    func closeTASession(caller: TEEUUID, session: UInt32) {
        _ = request(.closeTA(session: session))
    }

    func storage(for ta: TEEUUID, space: StorageSpace) throws(TEEResult) -> any TrustedStorageBackend {
        if let known = storageBackends[space] { return known }
        let backend = HostStorage(host: self, space: space)
        // Whether the space exists is the core's say (RPMB only with a device).
        if space != .ree { _ = try backend.ask(.list, 0, []) }
        storageBackends[space] = backend
        return backend
    }

    func log(ta: TAProperties, _ message: String) {
        _ = request(.log(message))
    }
}

/// Trusted storage as the core keeps it, asked for over the link (one TA's objects only: the core
/// knows which TA this host is).
final class HostStorage: TrustedStorageBackend, ObjectHandles, @unchecked Sendable {
    // @unchecked: used from the entry-point thread only.
    unowned let host: HostProcess
    let space: StorageSpace

    init(host: HostProcess, space: StorageSpace) {
        self.host = host
        self.space = space
    }

    func ask(_ op: StorageOperation, _ value: UInt64 = 0, _ blobs: [[UInt8]]) throws(TEEResult) -> (UInt64, [[UInt8]]) {
        let answer = host.request(.storage(op, space: space.rawValue, value: value, blobs: blobs))
        guard answer.result == .success else { throw answer.result }
        return (answer.value, answer.blobs)
    }

    /// Reads and whole records larger than this go in pieces (an answer must fit the link).
    static let readPiece = 1 << 20
    /// A write or a whole record travels in one message (it is atomic): at most this much.
    static let maxWrite = HostLink.frameCapacity - (64 << 10)

    func load(_ id: [UInt8]) throws(TEEResult) -> [UInt8] {
        try read(id, at: 0, count: try size(id))
    }
    func store(_ id: [UInt8], _ data: [UInt8]) throws(TEEResult) {
        guard data.count <= Self.maxWrite else { throw .outOfMemory }
        _ = try ask(.store, 0, [id, data])
    }
    func size(_ id: [UInt8]) throws(TEEResult) -> Int { Int(clamping: try ask(.size, 0, [id]).0) }
    func read(_ id: [UInt8], at offset: Int, count: Int) throws(TEEResult) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            let want = min(count - out.count, Self.readPiece)
            let (_, blobs) = try ask(.read, UInt64(offset + out.count), [id, (0..<8).map { UInt8(truncatingIfNeeded: UInt64(want) >> (8 * UInt64($0))) }])
            guard blobs.count == 1, blobs[0].count <= want else { throw .communication }
            out += blobs[0]
            if blobs[0].count < want { break }
        }
        return out
    }
    func write(_ id: [UInt8], at offset: Int, _ bytes: [UInt8]) throws(TEEResult) {
        guard bytes.count <= Self.maxWrite else { throw .outOfMemory }
        _ = try ask(.write, UInt64(offset), [id, bytes])
    }
    func truncate(_ id: [UInt8], to size: Int) throws(TEEResult) { _ = try ask(.truncate, UInt64(size), [id]) }
    func exists(_ id: [UInt8]) -> Bool { ((try? ask(.exists, 0, [id]))?.0 ?? 0) != 0 }
    func delete(_ id: [UInt8]) throws(TEEResult) { _ = try ask(.delete, 0, [id]) }
    func rename(_ from: [UInt8], to: [UInt8]) throws(TEEResult) { _ = try ask(.rename, 0, [from, to]) }
    func list() throws(TEEResult) -> [[UInt8]] { try ask(.list, 0, []).1 }
    var handles: any ObjectHandles { self }
    func loadTimeOffset() throws(TEEResult) -> Int64 { Int64(bitPattern: try ask(.loadTimeOffset, 0, []).0) }
    func storeTimeOffset(_ offset: Int64) throws(TEEResult) { _ = try ask(.storeTimeOffset, UInt64(bitPattern: offset), []) }

    func acquire(_ id: [UInt8], flags: DataFlags) throws(TEEResult) -> UInt64 { try ask(.acquireHandle, UInt64(flags.rawValue), [id]).0 }
    func release(_ id: [UInt8], token: UInt64) { _ = try? ask(.releaseHandle, token, [id]) }
    func move(_ from: [UInt8], to: [UInt8]) { _ = try? ask(.moveHandles, 0, [from, to]) }
    func isOpenElsewhere(_ id: [UInt8], except token: UInt64) -> Bool { ((try? ask(.isOpenElsewhere, token, [id]))?.0 ?? 0) != 0 }
}

/// The TA a pooled host runs once before it is needed (see `warmUp`): it does nothing.
private final class WarmUpTA: TrustedApplication {
    static var properties: TAProperties { TAProperties(uuid: .zero, description: "warm-up") }
    init(tee: TEE) throws(TEEResult) {}
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {}
}

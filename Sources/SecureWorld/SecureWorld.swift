// The simulated SoC the secure world drives: its types are part of this module's API (TEEEmbedded,
// the CLI and tests build boards and platforms through SecureWorld).
@_exported import Platform
import Foundation
import Logging
import Synchronization
import TEECrypto
import TEEInternalAPI
import TEETransport
import TEEWire

/// The simulated secure-world OS: a registry of TAs and pseudo-TAs by UUID, their instances and
/// sessions, parameter validation and copy-back, cancellation, trusted storage, and the log an
/// OP-TEE secure console would show. It serves TEEWire frames through `SecureEndpoint`.
public final class SecureWorld: SecureEndpoint, TARuntime, @unchecked Sendable {
    // @unchecked: every mutable table is guarded by `lock`; TA code never runs under it.
    let logger: Logger
    let stateDirectory: URL?
    private let lock = NSLock()
    private var factories: [TEEUUID: Factory] = [:]
    private var pseudoTAs: [TEEUUID: any PseudoTA] = [:]
    private var singleInstances: [TEEUUID: TAInstance] = [:]
    private var sessions: [UInt32: SessionRecord] = [:]
    private var nextSession: UInt32 = 1
    private var running: [RunningKey: any TAInstance] = [:]
    /// Set in daemon mode: every TA instance then runs in a TA host process of its own.
    private var isolation: TAHostLauncher?
    /// Where native (C) TAs come from, if the daemon serves them.
    private var nativeStore: NativeTAStore?
    private var nativeFirst = false
    /// Native TAs whose hosts start debuggable and stopped (`--ta-debug`).
    private var debuggedTAs: Set<TEEUUID> = []
    private var storages: [StorageKey: FileStorage] = [:]
    /// One root per storage folder (the TAs' and the core's), shared by its FileStorages.
    private var storageRoots: [String: StorageRoot] = [:]
    private var deviceSecretCache: SecureBytes?
    /// The last cancel ID given to a TA's timed call to another TA.
    private var nextTimedCancel: UInt32 = 0
    /// Where the timers of those calls run: a queue of their own (an overcommitting serial
    /// queue gets a thread even when every thread of the global pool is blocked — in the
    /// embedded world, the client's own threads may be).
    private let timeouts = DispatchQueue(label: "rproc-tee.ta-call-timeouts")
    /// Plugin calls between TAs and the supplicant (or plugins registered in this process).
    let supplicant = SupplicantBroker()
    /// Sessions each owner holds (bounded per client connection), and each non-kernel uid.
    private var sessionsPerOwner: [Owner: Int] = [:]
    private var sessionsPerUID: [UInt32: Int] = [:]
    /// TA host processes started on behalf of each (non-kernel) client uid.
    private var hostsPerUID: [UInt32: Int] = [:]

    /// What one client may hold. Attacker: any client, or another local user with access to
    /// the socket (red-team M4): sessions per connection and per uid, and TA host processes per uid — with
    /// a reserve of hosts that only the normal-world kernel's uids may use, so that an
    /// unprivileged client cannot starve the remoteproc TA.
    public struct Limits: Sendable {
        public var sessionsPerConnection = 1024
        /// Sessions of one (non-kernel) uid's connections together.
        public var sessionsPerUID = 4096
        /// TA hosts started for one uid's OpenSessions (kernel uids: only the global limit).
        public var hostsPerUID = 32
        /// TA hosts only kernel uids may take (out of the launcher's maximum).
        public var kernelHostReserve = 8
        public init() {}
    }
    public var limits = Limits()

    struct Factory {
        let properties: TAProperties
        /// Makes an instance in this process (`TA_CreateEntryPoint` runs in it).
        let make: (TEE, ClientIdentity) throws(TEEResult) -> any TAEntryPoints
        /// A native TA's verified image (it runs only in a TA host: `make` refuses).
        var native: NativeTAStore.Image? = nil
    }

    /// Who owns a session: a client connection (its memory table) or a TA.
    enum Owner: Hashable {
        case connection(ObjectIdentifier)
        case ta(TEEUUID)
        /// A TA instance in a TA host process (its sessions to other TAs and pseudo-TAs).
        case instance(ObjectIdentifier)
    }

    /// A class, not a struct: every call looks its session up, and handing out one reference
    /// is cheaper than copying the enum and existential payloads out of the table each time.
    final class SessionRecord: @unchecked Sendable {
        // @unchecked: `runningCancelID` is an atomic; the rest is immutable.
        let owner: Owner
        let client: ClientIdentity
        let target: Target
        /// The client's cancel ID of the call running in this session now (0: none, or a timed
        /// call, which `running` keeps). A session runs one call at a time (its instance's lock),
        /// so one field is the whole registry for the hot path — no hashing per call, and no
        /// lock: an atomic (`cancel` reads it under the world's lock as it scans the sessions).
        let runningCancelID = Atomic<UInt32>(0)
        /// Whether a call runs in this session now, whatever its cancel ID (0 included): a
        /// client that dies has every call it left running asked to cancel (red-team H2).
        let callRunning = Atomic<Bool>(false)

        var instance: (any TAInstance)? {
            if case .ta(let instance) = target { return instance }
            return nil
        }

        /// The (non-kernel) client uid this session counts against (`Limits.sessionsPerUID`).
        let quotaUID: UInt32?

        init(owner: Owner, client: ClientIdentity, target: Target, quotaUID: UInt32? = nil) {
            self.owner = owner
            self.client = client
            self.target = target
            self.quotaUID = quotaUID
        }
    }

    enum Target {
        case ta(TAInstance)
        case pseudo(any PseudoTA)
    }

    struct RunningKey: Hashable {
        let owner: Owner
        let cancelID: UInt32
        /// Tells apart a client's OpenSession calls sent with cancel ID 0 (not cancellable by
        /// the client, but by its death); 0 for every other call.
        var serial: UInt64 = 0
    }
    /// The last serial given to a client's call with cancel ID 0.
    private var nextSerial: UInt64 = 0

    /// - Parameter stateDirectory: where trusted storage and the device secret live; nil means
    ///   no trusted storage (STORAGE_NOT_AVAILABLE).
    public init(stateDirectory: URL? = nil, logger: Logger = Logger(label: "rproc-tee.secure-world")) {
        self.stateDirectory = stateDirectory
        self.logger = logger
        pseudoTAs[SystemPTA.id] = SystemPTA(world: self)
    }

    /// Registers TA type `T` under its UUID.
    public func register<T: TrustedApplication>(_ type: T.Type) {
        let properties = T.properties
        lock.withLock {
            factories[properties.uuid] = Factory(properties: properties) { (tee, client) throws(TEEResult) -> any TAEntryPoints in
                try T.instantiate(tee: tee, client: client)
            }
        }
        logger.info("TA registered: \(properties.uuid) \(properties.description)")
    }

    /// Runs every TA instance from now on in a TA host process of its own, started by
    /// `launcher` (daemon mode): a TA that panics, traps or is killed takes only its own
    /// sessions down (TARGET_DEAD, origin TEE).
    public func isolate(using launcher: TAHostLauncher) {
        lock.withLock { isolation = launcher }
        launcher.start()
        logger.info("TA isolation: every TA instance runs in a TA host process (\(launcher.executable))")
    }

    /// Serves native (C) TAs from `store`'s folders for every UUID no registered TA has (they
    /// run isolated only: in-process, OpenSession of one is NOT_SUPPORTED).
    /// `first`: a UUID a TA folder has is served from it even when a registered TA has the same
    /// UUID (to run OP-TEE's own TAs in place of their Swift ports).
    public func serveNativeTAs(from store: NativeTAStore, first: Bool = false) {
        if stateDirectory != nil {
            do {
                store.versions = TAVersionDatabase(storage: try coreStorage())
            } catch {
                logger.error("native TA versions cannot be kept (\(error)): a TA older than one already run is not refused")
            }
        }
        lock.withLock {
            nativeStore = store
            nativeFirst = first
        }
        logger.info("native TAs from \(store.folders.map(\.path).joined(separator: ", ")) (\(store.keys.count) TA-signing keys)")
    }

    /// The factory of a UUID no registered TA has: a native TA from the folders, verified (or
    /// its cached verified image).
    private func nativeFactory(_ uuid: TEEUUID) throws(TEEError) -> Factory? {
        guard let store = lock.withLock({ nativeStore }), let image = try store.image(for: uuid, logger: logger) else { return nil }
        return Factory(properties: image.properties, make: { (_, _) throws(TEEResult) -> any TAEntryPoints in throw .notSupported }, native: image)
    }

    /// Starts the hosts of these native TAs debuggable (dumpable, any process of their user may
    /// ptrace them: the one relaxation of their sandbox) and stopped before the TA's code runs.
    public func debugNativeTAs(_ uuids: Set<TEEUUID>) {
        lock.withLock { debuggedTAs = uuids }
        for uuid in uuids { logger.warning("TA \(uuid) will run in a debuggable TA host (--ta-debug): any process of the host's user can read its memory") }
    }

    func isDebugged(_ uuid: TEEUUID) -> Bool { lock.withLock { debuggedTAs.contains(uuid) } }

    /// Set when TA hosts write gcov data (`--ta-coverage`): a host whose TA panicked gets a
    /// moment to write it before it is killed.
    public let collectsCoverage = Atomic<Bool>(false)

    /// Gives the frames of a native TA in its hosts' sanitizer reports their source lines, from
    /// the `<uuid>.elf` beside each `.ta` (`SanitizerSymbolizer`). Call before `isolate`.
    public func symbolizeSanitizerReports(of launcher: TAHostLauncher) {
        let symbolizer = SanitizerSymbolizer(elf: { [weak self] name in
            guard let self, let store = self.lock.withLock({ self.nativeStore }) else { return nil }
            return store.debugELF(named: name)
        })
        if symbolizer.tool == nil { logger.warning("no addr2line on the PATH: sanitizer reports from native TAs name offsets, not source lines") }
        launcher.annotateOutput = { symbolizer.annotate($0) }
    }

    /// A folder for gdb's solib-search-path: the TA and its libraries under the names the loader
    /// gives them (their UUIDs), as links to the unstripped `<uuid>.elf` the kit wrote beside
    /// each `.ta` (where one is).
    func debugSymbols(for uuid: TEEUUID, native: NativeTAStore.Image) -> String {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("rproc-tee-debug-\(getpid())/\(uuid)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, ta) in [(uuid.description, native.path)] + native.libraries.map({ ($0.name, $0.path) }) {
            let elf = URL(fileURLWithPath: ta).deletingPathExtension().appendingPathExtension("elf").path
            let link = folder.appendingPathComponent(name).path
            try? FileManager.default.removeItem(atPath: link)
            if FileManager.default.fileExists(atPath: elf) { try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: elf) }
        }
        return folder.path
    }

    /// A TA library a native TA dlopens by UUID, with what it needs, verified and sealed.
    func nativeLibrary(_ name: String) throws(TEEError) -> [(name: String, region: MappedRegion, path: String)] {
        guard let store = lock.withLock({ nativeStore }) else { throw TEEError(.itemNotFound, origin: .tee) }
        return try store.library(named: name, logger: logger)
    }

    /// Kills every TA host process (a shutdown that must end now: calls still running in them
    /// answer TARGET_DEAD).
    public func killAllHosts() {
        shuttingDown.store(true, ordering: .releasing)
        lock.withLock { isolation }?.killAll()
    }

    /// Stops the launcher's pool of ready hosts (the daemon is shutting down).
    public func stopIsolation() {
        shuttingDown.store(true, ordering: .releasing)
        lock.withLock { isolation }?.stop()
    }

    /// Set once the daemon shuts down: a TA host that ends now ended with it (an info line),
    /// not a TA that died.
    let shuttingDown = Atomic<Bool>(false)

    /// Serves `plugin` in this process to TAs that call it (`TEE.invokeSupplicantPlugin`), ahead
    /// of any supplicant: for embedded worlds, where a test stands in for the normal world.
    public func register(plugin: any SupplicantPlugin) {
        supplicant.register(plugin)
        logger.info("supplicant plugin registered in-process: \(plugin.uuid)")
    }

    /// The isolated instance whose TA's call a pseudo-TA serves now (set around the calls its
    /// host makes). A class, not a closure: a closure-typed task-local crashed the release build
    /// in swift_task_localValuePush (Swift 6.3.1) where the debug build ran.
    @TaskLocal static var servingInstance: IsolatedInstance?

    /// Whether the TA call on whose behalf a pseudo-TA works now was given up: for an isolated
    /// TA, once it is overdue after a cancellation (about to be abandoned); in this process, the
    /// TA's own `isCancelled`.
    static var currentCallGivenUp: Bool {
        if let instance = servingInstance { return instance.isOverdue }
        return TEE.currentIfRunning?.isCancelled ?? false
    }

    /// Whether a supplicant connection serves plugin calls now.
    public var isSupplicantServing: Bool { supplicant.isServed }

    /// How long a supplicant's request for work is held before NO_DATA (0…5 s, default 0.5).
    public var supplicantReceiveWait: TimeInterval {
        get { supplicant.receiveWait }
        set { supplicant.receiveWait = newValue }
    }

    public func register(pseudoTA: any PseudoTA) {
        lock.withLock { pseudoTAs[pseudoTA.uuid] = pseudoTA }
        logger.info("pseudo-TA registered: \(pseudoTA.uuid) \(pseudoTA.name)")
    }

    // MARK: SecureEndpoint

    public func handle(_ frame: [UInt8], memory: MemoryTable) -> [UInt8] {
        var reply: [UInt8] = []
        handle(frame, memory: memory, into: &reply)
        return reply
    }

    public func handle(_ frame: [UInt8], memory: MemoryTable, into reply: inout [UInt8]) {
        let message: WireMessage
        do {
            message = try WireCodec.decode(frame)
        } catch {
            logger.warning("refused a malformed frame: \(error)")
            return WireCodec.encode(.response(id: 0, kind: 0, WireResponse(result: .communication, origin: .comms)), into: &reply)
        }
        guard case .request(let id, let request) = message else {
            logger.warning("refused a response frame sent as a request")
            return WireCodec.encode(.response(id: 0, kind: 0, WireResponse(result: .communication, origin: .comms)), into: &reply)
        }
        let owner = Owner.connection(ObjectIdentifier(memory))
        let kind = Self.kind(request)
        let response: WireResponse
        switch request {
        case .openSession(let uuid, let login, let connectionData, let cancelID, let params):
            // Attacker: any client. The login method is the client's claim; what it may claim
            // depends on who the OS says it is. TRUSTED_APP is never a client's to claim, and
            // REE_KERNEL only the normal-world kernel's (Linux refuses it from user space).
            guard login.isClientLogin, login != .reeKernel || memory.peer.kernel else {
                logger.warning("open session to \(uuid) refused: login \(login) is not available to client uid \(memory.peer.uid) pid \(memory.peer.pid)")
                response = WireResponse(result: .accessDenied, origin: .tee, params: params)
                break
            }
            let peer = memory.peer
            return wireCall(params, memory: memory) { (p: inout Parameters) throws(TEEError) -> UInt32 in
                let identity = try Self.identity(for: login, peer: peer, connectionData: connectionData)
                return try self.openSession(owner: owner, client: ClientIdentity(login: login, uuid: identity), uuid: uuid, cancelID: cancelID, peer: peer, params: &p)
            }.encode(id: id, kind: kind, into: &reply)
        case .invoke(let session, let command, let cancelID, let params):
            return wireCall(params, memory: memory) { (p: inout Parameters) throws(TEEError) -> UInt32 in
                try self.invoke(owner: owner, session: session, command: command, cancelID: cancelID, params: &p)
                return 0
            }.encode(id: id, kind: kind, into: &reply)
        case .closeSession(let session):
            closeSession(owner: owner, session: session)
            response = WireResponse(result: .success, origin: .tee)
        case .cancel(let cancelID):
            cancel(RunningKey(owner: owner, cancelID: cancelID))
            response = WireResponse(result: .success, origin: .tee)
        case .registerMemory(let memoryID, let size, let flags):
            if let entry = memory.lookup(memoryID), UInt64(entry.region.count) == size, entry.flags == flags {
                response = WireResponse(result: .success, origin: .tee)
            } else {
                logger.warning("register memory \(memoryID): no such region of \(size) bytes with flags \(flags)")
                response = WireResponse(result: .badParameters, origin: .tee)
            }
        case .unregisterMemory:
            // The region itself belongs to the transport, which removes it (and, across
            // processes, unmaps it and gives its bytes back to the connection's budget) when
            // the client releases it. Removing it here too made that release find nothing, so
            // every released region stayed counted against the connection's limit.
            response = WireResponse(result: .success, origin: .tee)
        case .supplicantReceive(let region):
            let (result, call, started) = supplicant.receive(owner: ObjectIdentifier(memory), memory: memory, region: region)
            if started && (result == .success || result == .noData) {
                logger.info("supplicant: uid \(memory.peer.uid) pid \(memory.peer.pid) serves plugin calls")
            }
            if let call {
                // OP-TEE's RPC layout: the plugin UUID's octets as four little-endian words.
                let o = call.plugin.octets
                func word(_ i: Int) -> UInt32 { UInt32(o[i]) | UInt32(o[i + 1]) << 8 | UInt32(o[i + 2]) << 16 | UInt32(o[i + 3]) << 24 }
                let params = try? WireParameters(types: ParamTypes(.valueInput, .valueInput, .valueInout, .memrefInout),
                                                 params: [.value(a: word(0), b: word(4)), .value(a: word(8), b: word(12)), .value(a: call.command, b: call.subCommand),
                                                          .memref(memory: region, offset: 0, size: UInt64(call.length))])
                response = WireResponse(result: .success, origin: .tee, session: call.id, params: params ?? .none)
            } else {
                if result != .noData { logger.warning("supplicant request from uid \(memory.peer.uid) pid \(memory.peer.pid) refused: \(result)") }
                response = WireResponse(result: result, origin: .tee)
            }
        case .supplicantReply(let call, let result, let length):
            let accepted = supplicant.reply(owner: ObjectIdentifier(memory), call: call, result: result, outputLength: length)
            if accepted != .success { logger.warning("supplicant reply to call \(call) from pid \(memory.peer.pid) refused: \(accepted)") }
            response = WireResponse(result: accepted, origin: .tee)
        }
        WireCodec.encode(.response(id: id, kind: kind, response), into: &reply)
    }

    public func disconnect(memory: MemoryTable) {
        if supplicant.disconnect(owner: ObjectIdentifier(memory)) {
            logger.info("supplicant gone: uid \(memory.peer.uid) pid \(memory.peer.pid); plugin calls fail with COMMUNICATION until another serves")
        }
        let owner = Owner.connection(ObjectIdentifier(memory))
        let owned = lock.withLock { sessions.filter { $0.value.owner == owner }.map(\.key) }
        for session in owned { closeSession(owner: owner, session: session) }
        if !owned.isEmpty { logger.info("client gone: \(owned.count) session(s) closed") }
    }

    public func cancelAll(memory: MemoryTable) {
        let owner = Owner.connection(ObjectIdentifier(memory))
        let pending = lock.withLock {
            running.filter { $0.key.owner == owner }.map(\.value)
                + sessions.values.filter { $0.owner == owner && $0.callRunning.load(ordering: .acquiring) }.compactMap(\.instance)
        }
        for instance in pending { instance.requestCancellation() }
        if !pending.isEmpty { logger.info("client gone: \(pending.count) call(s) in progress asked to cancel") }
    }

    static func kind(_ request: WireRequest) -> UInt16 {
        switch request {
        case .openSession: 1
        case .invoke: 2
        case .closeSession: 3
        case .cancel: 4
        case .registerMemory: 5
        case .unregisterMemory: 6
        case .supplicantReceive: 7
        case .supplicantReply: 8
        }
    }

    /// Linux's TEE driver's client identities (`tee_session_calc_client_uuid`), from the OS's
    /// credentials of the peer, never the client's word: PUBLIC and REE_KERNEL the nil UUID;
    /// USER a UUIDv5 of "uid=<euid hex>", GROUP of "gid=<gid hex>" after checking the peer is
    /// in that group (ACCESS_DENIED otherwise); the APPLICATION variants are refused, as Linux
    /// refuses them (NOT_SUPPORTED).
    static func identity(for login: Login, peer: PeerCredentials, connectionData: UInt32) throws(TEEError) -> TEEUUID {
        switch login {
        case .public, .reeKernel: return .zero
        case .user: return uuidV5("uid=" + String(peer.uid, radix: 16))
        case .group:
            guard peer.gid == connectionData || peer.groups.contains(connectionData) else { throw TEEError(.accessDenied, origin: .tee) }
            return uuidV5("gid=" + String(connectionData, radix: 16))
        default: throw TEEError(.notSupported, origin: .tee)
        }
    }

    /// The namespace of Linux's TEE client UUIDs.
    static let clientNamespace: TEEUUID = "58ac9ca0-2086-4683-a1b8-ec4bc08e01b6"

    /// UUIDv5 (RFC 9562 §5.5): SHA-1 of namespace ‖ name, version and variant bits set.
    static func uuidV5(_ name: String) -> TEEUUID {
        var bytes = Array(SHA1.hash(clientNamespace.octets + Array(name.utf8)).prefix(16))
        bytes[6] = bytes[6] & 0x0F | 0x50
        bytes[8] = bytes[8] & 0x3F | 0x80
        return TEEUUID(octets: bytes)!
    }

    /// Resolves wire parameters into TA parameters, runs `body`, and encodes the parameters as
    /// the TA left them (values and sizes on every result).
    /// What a call left: its result, and the parameters as the TA left them (nil when they
    /// could not be resolved: the wire's own go back).
    struct CallOutcome {
        var result = TEEResult.success
        var origin = ReturnOrigin.trustedApp
        var session: UInt32 = 0
        let wire: WireParameters
        var params: Parameters?

        /// The response frame: values and sizes copied back on every result, written straight
        /// into the frame (this runs after every call; `frame` is the channel's, reused).
        func encode(id: UInt32, kind: UInt16, into frame: inout [UInt8]) {
            WireCodec.encodeResponse(id: id, kind: kind, result: result, origin: origin, session: session, types: wire.types, into: &frame) { i in
                let sent = wire.params[i]
                guard let params else { return sent }
                switch (sent, params[i]) {
                case (.value, .value(let a, let b)): return .value(a: a, b: b)
                case (.memref(let id, let offset, _), .memref(let m)): return .memref(memory: id, offset: offset, size: UInt64(max(0, m.size)))
                default: return sent
                }
            }
        }
    }

    /// Resolves wire parameters into TA parameters and runs `body` on them.
    private func wireCall(_ wire: WireParameters, memory: MemoryTable, _ body: (inout Parameters) throws(TEEError) -> UInt32) -> CallOutcome {
        var outcome = CallOutcome(wire: wire)
        var params: Parameters
        do {
            params = try resolve(wire, memory: memory)
        } catch {
            outcome.result = error.result
            outcome.origin = error.origin
            return outcome
        }
        do {
            outcome.session = try body(&params)
        } catch {
            outcome.result = error.result
            outcome.origin = error.origin
        }
        outcome.params = params
        return outcome
    }

    private func resolve(_ wire: WireParameters, memory: MemoryTable) throws(TEEError) -> Parameters {
        var params: [Parameter] = []
        params.reserveCapacity(4)
        for i in 0..<4 {
            let type = wire.types[i]
            switch wire.params[i] {
            case .none: params.append(.none)
            case .value(let a, let b): params.append(.value(a: a, b: b))
            case .memref(let id, let offset, let size):
                if id == 0 {
                    params.append(.memref(MemoryReference(buffer: nil, offset: 0, size: Int(size), direction: type)))
                    continue
                }
                // Attacker-controlled: the memory id, offset and size from the client's frame.
                guard let entry = memory.lookup(id) else {
                    logger.warning("parameter \(i): memory \(id) is not registered")
                    throw TEEError(.badParameters, origin: .tee)
                }
                guard offset <= UInt64(entry.region.count), size <= UInt64(entry.region.count) - offset else {
                    logger.warning("parameter \(i): [\(offset), +\(size)) is outside memory \(id) of \(entry.region.count) bytes")
                    throw TEEError(.badParameters, origin: .tee)
                }
                guard (!type.isInput || entry.flags & 1 != 0), (!type.isOutput || entry.flags & 2 != 0) else {
                    logger.warning("parameter \(i): \(type) on memory \(id) shared with flags \(entry.flags)")
                    throw TEEError(.badParameters, origin: .tee)
                }
                params.append(.memref(MemoryReference(buffer: entry.region, offset: Int(offset), size: Int(size), direction: type)))
            }
        }
        return Parameters(types: wire.types, params: params)
    }

    // MARK: Sessions

    /// - Parameter peer: the client's OS identity, for its quotas (nil: a TA's call).
    func openSession(owner: Owner, client: ClientIdentity, uuid: TEEUUID, cancelID: UInt32, timeout: UInt32 = TEE.timeoutInfinite,
                     peer: PeerCredentials? = nil, params: inout Parameters) throws(TEEError) -> UInt32 {
        if case .connection = owner, lock.withLock({ sessionsPerOwner[owner, default: 0] }) >= limits.sessionsPerConnection {
            logger.warning("open session to \(uuid) refused: the connection holds \(limits.sessionsPerConnection) sessions (its limit)")
            throw TEEError(.outOfMemory, origin: .tee)
        }
        let quotaUID = peer.flatMap { $0.kernel ? nil : $0.uid }
        if let quotaUID, lock.withLock({ sessionsPerUID[quotaUID, default: 0] }) >= limits.sessionsPerUID {
            logger.warning("open session to \(uuid) refused: uid \(quotaUID) holds \(limits.sessionsPerUID) sessions (its limit)")
            throw TEEError(.outOfMemory, origin: .tee)
        }
        if let pta = lock.withLock({ pseudoTAs[uuid] }) {
            if let allowed = pta.allowedCallers, !(client.login == .trustedApp && allowed.contains(client.uuid)) {
                logger.warning("open session to pseudo-TA \(pta.name) refused: caller \(client.login) \(client.uuid) is not allowed")
                throw TEEError(.accessDenied, origin: .tee)
            }
            do {
                try pta.openSession(client: client, &params)
            } catch {
                throw TEEError(error, origin: .trustedApp)
            }
            let id = addSession(SessionRecord(owner: owner, client: client, target: .pseudo(pta), quotaUID: quotaUID))
            logger.debug("session \(id) opened to pseudo-TA \(pta.name)")
            return id
        }
        var registered = lock.withLock { nativeFirst ? nil : factories[uuid] }
        if registered == nil { registered = try nativeFactory(uuid) ?? lock.withLock { factories[uuid] } }
        guard let factory = registered else {
            logger.warning("open session: no TA \(uuid)")
            throw TEEError(.itemNotFound, origin: .tee)
        }
        let properties = factory.properties
        var found: (any TAInstance)?
        while found == nil {
            lock.lock()
            if properties.singleInstance, let existing = singleInstances[uuid], !existing.isDead {
                lock.unlock()
                existing.lock.lock()
                // It may have ended (destroyed, or its process died) while this call waited for
                // its lock: then a fresh one is made, as if it had not been there.
                if existing.isDead {
                    existing.lock.unlock()
                    continue
                }
                if !properties.multiSession && existing.sessionCount > 0 {
                    existing.lock.unlock()
                    logger.warning("open session to \(properties.description) refused: single-session TA busy")
                    throw TEEError(.busy, origin: .tee)
                }
                found = existing
            } else {
                let launcher = isolation
                lock.unlock()
                let made: any TAInstance
                do throws(TEEError) {
                    if let launcher {
                        let quotaUID = try reserveHost(for: peer, launcher: launcher)
                        do {
                            let isolated = try IsolatedInstance.create(properties: properties, native: factory.native, client: client, launcher: launcher, world: self)
                            if let quotaUID { holdHost(quotaUID, by: isolated) }
                            made = isolated
                        } catch {
                            if let quotaUID { lock.withLock { releaseHostLocked(quotaUID) } }
                            throw error
                        }
                    } else if factory.native != nil {
                        logger.warning("open session to native TA \(uuid) refused: native TAs run only isolated (not with --no-isolation)")
                        throw TEEError(.notSupported, origin: .tee)
                    } else {
                        let tee = TEE(properties: properties, runtime: self)
                        do { made = LocalInstance(try factory.make(tee, client)) } catch { throw TEEError(error, origin: .trustedApp) }
                    }
                } catch {
                    logger.warning("TA \(properties.description): create entry point failed with \(error.result) (origin \(error.origin))")
                    throw error
                }
                made.lock.lock()
                if properties.singleInstance { lock.withLock { singleInstances[uuid] = made } }
                logger.info("TA instance created: \(uuid) \(properties.description)")
                found = made
            }
        }
        let instance = found!
        defer { instance.lock.unlock() }
        let id = lock.withLock { () -> UInt32 in
            defer { nextSession = nextSession == .max ? 1 : nextSession + 1 }
            return nextSession
        }
        let key = register(instance, owner: owner, cancelID: cancelID, timeout: timeout)
        defer { if let key { _ = lock.withLock { running.removeValue(forKey: key) } } }
        do {
            try instance.openSession(id: id, client: client, &params)
        } catch {
            logger.info("TA \(properties.description) refused the session: \(error.result) (origin \(error.origin))")
            if instance.sessionCount == 0 && !(properties.singleInstance && properties.instanceKeepAlive) || instance.isDead {
                destroyLocked(instance, uuid: uuid)
            }
            throw error
        }
        lock.withLock { insertLocked(id, SessionRecord(owner: owner, client: client, target: .ta(instance), quotaUID: quotaUID)) }
        logger.debug("session \(id) opened to \(properties.description) (\(uuid)), login \(client.login)")
        return id
    }

    private func addSession(_ record: SessionRecord) -> UInt32 {
        lock.withLock {
            let id = nextSession
            nextSession = nextSession == .max ? 1 : nextSession + 1
            insertLocked(id, record)
            return id
        }
    }

    private func insertLocked(_ id: UInt32, _ record: SessionRecord) {
        sessions[id] = record
        sessionsPerOwner[record.owner, default: 0] += 1
        if let uid = record.quotaUID { sessionsPerUID[uid, default: 0] += 1 }
    }

    private func removeLocked(_ id: UInt32) {
        guard let record = sessions.removeValue(forKey: id) else { return }
        let left = sessionsPerOwner[record.owner, default: 1] - 1
        sessionsPerOwner[record.owner] = left > 0 ? left : nil
        if let uid = record.quotaUID {
            let mine = sessionsPerUID[uid, default: 1] - 1
            sessionsPerUID[uid] = mine > 0 ? mine : nil
        }
    }

    // MARK: TA host quotas

    /// Reserves a TA host for a client's OpenSession: nil for the kernel and for TAs (bounded
    /// by the launcher's maximum only), else the uid it counts against.
    private func reserveHost(for peer: PeerCredentials?, launcher: TAHostLauncher) throws(TEEError) -> UInt32? {
        guard let peer, !peer.kernel else { return nil }
        // The reserve is never more than half of what the launcher may start.
        guard launcher.liveHosts < launcher.maxHosts - min(limits.kernelHostReserve, launcher.maxHosts / 2) else {
            logger.warning("OpenSession refused for uid \(peer.uid): the last \(limits.kernelHostReserve) TA host processes are kept for the normal-world kernel")
            throw TEEError(.outOfMemory, origin: .tee)
        }
        lock.lock()
        defer { lock.unlock() }
        let mine = hostsPerUID[peer.uid, default: 0]
        guard mine < limits.hostsPerUID else {
            logger.warning("OpenSession refused: uid \(peer.uid) holds \(mine) TA host processes (its limit)")
            throw TEEError(.outOfMemory, origin: .tee)
        }
        hostsPerUID[peer.uid] = mine + 1
        return peer.uid
    }

    /// The instance holds its uid's reservation until it ends (`instanceDied`); one that has
    /// already ended gives it back now.
    private func holdHost(_ uid: UInt32, by instance: IsolatedInstance) {
        lock.withLock {
            if instance.isDead { releaseHostLocked(uid) } else { instance.quotaUID = uid }
        }
    }

    private func releaseHostLocked(_ uid: UInt32) {
        let left = hostsPerUID[uid, default: 1] - 1
        hostsPerUID[uid] = left > 0 ? left : nil
    }

    func invoke(owner: Owner, session: UInt32, command: UInt32, cancelID: UInt32, timeout: UInt32 = TEE.timeoutInfinite, params: inout Parameters) throws(TEEError) {
        guard let record = lock.withLock({ sessions[session] }), record.owner == owner else {
            logger.warning("invoke: session \(session) is not open for this caller")
            throw TEEError(.badParameters, origin: .tee)
        }
        switch record.target {
        case .pseudo(let pta):
            do {
                try pta.invoke(client: record.client, command: command, &params)
            } catch {
                throw TEEError(error, origin: .trustedApp)
            }
        case .ta(let instance):
            instance.lock.lock()
            defer { instance.lock.unlock() }
            if case .connection = owner {
                // A client's call: the session records it (see `cancel` and `cancelAll`),
                // cancellable by its cancel ID if it has one, and by the client's death always.
                record.runningCancelID.store(cancelID, ordering: .releasing)
                record.callRunning.store(true, ordering: .releasing)
                defer {
                    record.callRunning.store(false, ordering: .releasing)
                    record.runningCancelID.store(0, ordering: .releasing)
                }
                try instance.invoke(id: session, client: record.client, command: command, &params)
                return
            }
            let key = register(instance, owner: owner, cancelID: cancelID, timeout: timeout)
            defer { if let key { _ = lock.withLock { running.removeValue(forKey: key) } } }
            try instance.invoke(id: session, client: record.client, command: command, &params)
        }
    }

    func closeSession(owner: Owner, session: UInt32) {
        guard let record = lock.withLock({ () -> SessionRecord? in
            guard let r = sessions[session], r.owner == owner else { return nil }
            removeLocked(session)
            return r
        }) else {
            logger.warning("close: session \(session) is not open for this caller")
            return
        }
        switch record.target {
        case .pseudo(let pta):
            pta.closeSession(client: record.client)
        case .ta(let instance):
            instance.lock.lock()
            defer { instance.lock.unlock() }
            instance.closeSession(id: session, client: record.client)
            let p = instance.properties
            if instance.sessionCount == 0 && !(p.singleInstance && p.instanceKeepAlive) {
                destroyLocked(instance, uuid: p.uuid)
            }
        }
        logger.debug("session \(session) closed")
    }

    /// Destroys an instance whose lock the caller holds.
    private func destroyLocked(_ instance: any TAInstance, uuid: TEEUUID) {
        instance.destroy()
        lock.withLock {
            if singleInstances[uuid] === instance { singleInstances[uuid] = nil }
        }
        logger.info("TA instance destroyed: \(uuid) \(instance.properties.description)")
    }

    /// Makes the call about to run in `instance` cancellable: by its client's cancel ID, or —
    /// a TA's call to another TA with a timeout — by a cancel ID of its own that a timer uses
    /// once `timeout` ms have passed (GP's cancellationRequestTimeout; the timer is set only now,
    /// when the call is in `running`, so a short timeout is never lost). A client's call with
    /// cancel ID 0 is recorded too, under a serial of its own: its client cannot cancel it, its
    /// death does (`cancelAll`). Returns its key, nil when nothing was recorded.
    private func register(_ instance: any TAInstance, owner: Owner, cancelID: UInt32, timeout: UInt32) -> RunningKey? {
        let timed = cancelID == 0 && timeout != TEE.timeoutInfinite
        var isClient = false
        if case .connection = owner { isClient = true }
        guard cancelID != 0 || timed || isClient else { return nil }   // a TA's untimed call: its caller's cancellation reaches it
        let key = lock.withLock { () -> RunningKey in
            var id = cancelID
            var serial: UInt64 = 0
            if timed {
                // Owners of timed calls are TAs; their ids never meet a client's (another owner).
                nextTimedCancel = nextTimedCancel == .max ? 1 : nextTimedCancel + 1
                id = nextTimedCancel
            } else if cancelID == 0 {
                nextSerial += 1
                serial = nextSerial
            }
            let key = RunningKey(owner: owner, cancelID: id, serial: serial)
            running[key] = instance
            return key
        }
        if timed {
            timeouts.asyncAfter(deadline: .now() + .milliseconds(Int(timeout))) { [weak self] in
                self?.cancel(key)
                self?.keepCancelling(key)
            }
        }
        return key
    }

    /// Asks again every 50 ms while the timed-out call still runs: a request that reached the
    /// callee before its entry point began (a timeout of 0 or a few ms) is cleared by the entry,
    /// and GP's "the operation is cancelled once the timeout passes" must still hold.
    private func keepCancelling(_ key: RunningKey) {
        timeouts.asyncAfter(deadline: .now() + .milliseconds(50)) { [weak self] in
            guard let self, let instance = self.lock.withLock({ self.running[key] }) else { return }
            instance.requestCancellation()
            self.keepCancelling(key)
        }
    }

    /// The call with `key`: an open or timed call in `running`, else an invoke a session records.
    private func cancel(_ key: RunningKey) {
        guard key.cancelID != 0, let instance = lock.withLock({
            running[key] ?? sessions.values.first { $0.owner == key.owner && $0.runningCancelID.load(ordering: .acquiring) == key.cancelID }?.instance
        }) else { return }
        instance.requestCancellation()
        logger.info("cancellation requested (cancel id \(key.cancelID))")
    }

    /// An isolated instance died: a single instance is forgotten (the next OpenSession starts
    /// a fresh one), and the sessions it had opened to other TAs and pseudo-TAs are closed — the
    /// platform pseudo-TA stops and wipes what a dead remoteproc TA had loaded. Its own sessions
    /// stay until their clients close them (every call on them answers TARGET_DEAD).
    func instanceDied(_ instance: any TAInstance) {
        let owner = Owner.instance(ObjectIdentifier(instance))
        let owned = lock.withLock { () -> [UInt32] in
            if singleInstances[instance.properties.uuid] === instance { singleInstances[instance.properties.uuid] = nil }
            if let isolated = instance as? IsolatedInstance, let uid = isolated.quotaUID {
                isolated.quotaUID = nil
                releaseHostLocked(uid)
            }
            return sessions.filter { $0.value.owner == owner }.map(\.key)
        }
        for session in owned { closeSession(owner: owner, session: session) }
    }

    /// Whether a single-instance TA has a live instance (for tests of keep-alive).
    public func hasInstance(of uuid: TEEUUID) -> Bool { lock.withLock { singleInstances[uuid].map { !$0.isDead } ?? false } }

    /// Open sessions (for tests and the log).
    public var sessionCount: Int { lock.withLock { sessions.count } }

    // MARK: TARuntime

    public var implementationProperties: [String: PropertyValue] {
        TEE.implementationProperties(deviceID: deviceID)
    }

    /// The device's identity, derived from the device secret (nil UUID without storage).
    var deviceID: TEEUUID {
        (try? deviceSecret()).map { secret -> TEEUUID in
            var bytes = Array(Digest.hash(.sha256, Array("rproc-tee device id".utf8) + secret.unsafeBytes).bytes.prefix(16))
            bytes[6] = bytes[6] & 0x0F | 0x50
            bytes[8] = bytes[8] & 0x3F | 0x80
            return TEEUUID(octets: bytes)!
        } ?? .zero
    }

    public func panic(ta: TAProperties, code: UInt32, reason: String) -> Never {
        let hexCode = String(code, radix: 16, uppercase: true)
        logger.critical("TA panicked: \(ta.description) (\(ta.uuid)) code 0x\(hexCode): \(reason)")
        fatalError("rproc-tee: TA \"\(ta.description)\" (\(ta.uuid)) panicked with code 0x\(hexCode): \(reason). In embedded mode a TA panic ends the process; the daemon isolates each TA.")
    }

    public func openTASession(caller: TEEUUID, target: TEEUUID, timeout: UInt32, params: inout Parameters) throws(TEEError) -> UInt32 {
        try openSession(owner: .ta(caller), client: ClientIdentity(login: .trustedApp, uuid: caller), uuid: target, cancelID: 0, timeout: timeout, params: &params)
    }

    public func invokeTASession(caller: TEEUUID, session: UInt32, command: UInt32, timeout: UInt32, params: inout Parameters) throws(TEEError) {
        try invoke(owner: .ta(caller), session: session, command: command, cancelID: 0, timeout: timeout, params: &params)
    }

    public func closeTASession(caller: TEEUUID, session: UInt32) {
        closeSession(owner: .ta(caller), session: session)
    }

    public func storage(for ta: TEEUUID, space: StorageSpace) throws(TEEResult) -> any TrustedStorageBackend {
        guard space == .ree || rpmb != nil else { throw .itemNotFound }
        guard let root = stateDirectory else { throw .storageNotAvailable }
        let secret = try deviceSecret()
        lock.lock()
        defer { lock.unlock() }
        if let s = storages[StorageKey(ta: ta, space: space)] { return s }
        let folder = root.appendingPathComponent(space == .ree ? "storage" : "storage-rpmb")
        let anchor = try storageRoot(folder, secret, rpmbBlock: space == .ree ? 0 : 1)
        let s = try FileStorage(root: folder, deviceSecret: secret, ta: ta, anchor: anchor)
        storages[StorageKey(ta: ta, space: space)] = s
        return s
    }

    struct StorageKey: Hashable {
        var ta: TEEUUID
        var space: StorageSpace
    }

    /// The emulated RPMB device (`--rpmb`): it anchors every storage folder's root (restoring the
    /// state folder whole is then CORRUPT_OBJECT) and serves TEE_STORAGE_PRIVATE_RPMB. Set before
    /// the first use of trusted storage.
    public var rpmb: EmulatedRPMB? {
        get { lock.withLock { rpmbDevice } }
        set { lock.withLock { rpmbDevice = newValue } }
    }
    private var rpmbDevice: EmulatedRPMB?
    private var rpmbClient: RPMBClient?

    /// The root of a storage folder, anchored in RPMB block `rpmbBlock` when there is a device
    /// (caller holds `lock`).
    private func storageRoot(_ folder: URL, _ secret: SecureBytes, rpmbBlock: Int) throws(TEEResult) -> StorageRoot {
        if let known = storageRoots[folder.path] { return known }
        var anchor: RPMBAnchor?
        if let rpmbDevice {
            if rpmbClient == nil { rpmbClient = try RPMBClient(device: rpmbDevice, deviceSecret: secret) }
            anchor = RPMBAnchor(client: rpmbClient!, address: rpmbBlock)
        }
        let root = try StorageRoot(folder: folder, deviceSecret: secret, rpmb: anchor)
        storageRoots[folder.path] = root
        return root
    }

    /// The core's own sealed records (`<state>/core/`): no TA's storage folder, whatever its UUID.
    func coreStorage() throws(TEEResult) -> any TrustedStorageBackend {
        guard let root = stateDirectory else { throw .storageNotAvailable }
        let folder = root.appendingPathComponent("core"), secret = try deviceSecret()
        lock.lock()
        defer { lock.unlock() }
        let anchor = try storageRoot(folder, secret, rpmbBlock: 2)
        return try FileStorage(root: folder, deviceSecret: secret, ta: .zero, anchor: anchor)
    }

    public func log(ta: TAProperties, _ message: String) {
        logger.info("[\(ta.description)] \(Self.oneLine(message))")
    }

    /// A TA's text as one log line: a TA (isolated ones are hostile to the core) cannot forge
    /// lines of the secure log with newlines or terminal escapes.
    static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 && scalar != "\t" || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A state folder that is not safe to keep secrets in (see `checkStateDirectory`).
    public struct StateError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The state folder holds the device secret (every TA's storage key) and trusted storage:
    /// it, and `storage/` in it if present, must be folders (not symbolic links) of this user
    /// that no group or other user can write — else another local user could plant a device
    /// secret they know, or a `storage` link into a folder of theirs (red-team M3). Made (mode
    /// 0700) if missing.
    public static func checkStateDirectory(_ root: URL) throws(StateError) {
        let path = root.path
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw StateError(description: "cannot create the state folder \(path): \(String(cString: strerror(errno)))")
        }
        for folder in [path, path + "/storage"] {
            var st = stat()
            guard lstat(folder, &st) == 0 else {
                if folder != path && errno == ENOENT { continue }
                throw StateError(description: "\(folder): \(String(cString: strerror(errno)))")
            }
            guard st.st_mode & S_IFMT == S_IFDIR else { throw StateError(description: "\(folder) is not a folder (a symbolic link is refused)") }
            guard st.st_uid == geteuid() else { throw StateError(description: "\(folder) belongs to uid \(st.st_uid), not to this user (uid \(geteuid()))") }
            guard st.st_mode & 0o022 == 0 else {
                throw StateError(description: "\(folder) can be written by other users (mode \(String(st.st_mode & 0o7777, radix: 8))): another user could plant a device secret or redirect trusted storage")
            }
        }
    }

    /// The per-installation secret storage keys derive from: 32 random bytes in
    /// `<state>/device-secret`, made on first use (mode 0600, never following a link). One that
    /// exists is never replaced: a secret of the wrong size, owner or mode is an error
    /// (STORAGE_NOT_AVAILABLE, logged), not a fresh secret that would make every object
    /// CORRUPT_OBJECT for good (red-team L2).
    func deviceSecret() throws(TEEResult) -> SecureBytes {
        if let cached = lock.withLock({ deviceSecretCache }) { return cached }
        guard let root = stateDirectory else { throw .storageNotAvailable }
        do { try Self.checkStateDirectory(root) } catch {
            logger.error("trusted storage unavailable: \(error.description)")
            throw .storageNotAvailable
        }
        let path = root.appendingPathComponent("device-secret").path
        let secret: SecureBytes
        do { secret = try Self.readOrMakeSecret(path) } catch {
            logger.error("trusted storage unavailable: \(error.description)")
            throw .storageNotAvailable
        }
        lock.withLock { deviceSecretCache = secret }
        return secret
    }

    private static func readOrMakeSecret(_ path: String) throws(StateError) -> SecureBytes {
        var bytes = [UInt8](repeating: 0, count: 33)
        defer { bytes.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) } }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            guard errno == ENOENT else { throw StateError(description: "the device secret \(path): \(String(cString: strerror(errno))) (a symbolic link is refused)") }
            let secret: SecureBytes
            do { secret = try RandomGenerator.shared.secureBytes(count: 32) } catch {
                throw StateError(description: "no randomness for a device secret")
            }
            let out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard out >= 0 else { throw StateError(description: "cannot create the device secret \(path): \(String(cString: strerror(errno)))") }
            defer { close(out) }
            let written = secret.unsafeBytes.withUnsafeBytes { write(out, $0.baseAddress, 32) }
            guard written == 32, fsync(out) == 0 else {
                unlink(path)
                throw StateError(description: "cannot write the device secret \(path): \(String(cString: strerror(errno)))")
            }
            return secret
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw StateError(description: "the device secret \(path) is not a regular file") }
        guard st.st_uid == geteuid() else { throw StateError(description: "the device secret \(path) belongs to uid \(st.st_uid), not to this user (another user may know it)") }
        guard st.st_mode & 0o077 == 0 else { throw StateError(description: "the device secret \(path) is readable or writable by others (mode \(String(st.st_mode & 0o7777, radix: 8)))") }
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, 33) }
        guard n == 32 else { throw StateError(description: "the device secret \(path) is \(n < 0 ? "unreadable" : "\(n == 33 ? "more than 32" : String(n)) bytes"), not 32: refused, never replaced (every object would become CORRUPT_OBJECT)") }
        return SecureBytes(Array(bytes[0..<32]))
    }
}

import FirmwareImage
import Foundation
import TAHost
import TEEInternalAPI
import TEETransport
import TEEWire

/// A TA instance in a TA host process, as the core drives it: every entry point is a frame down
/// the host's link; while it runs, the host may ask the core for services (sessions to other TAs
/// and pseudo-TAs, trusted storage, the log), which the core performs with the TA's identity.
///
/// Attacker: the TA host. A TA may be malicious or broken: every frame it sends is decoded as
/// hostile, every memory reference it names is checked against what the current call gave it,
/// and a host that breaks the protocol is killed. Its death — TEE_Panic, a trap, a signal, a
/// kill from outside — makes this call and every later one TARGET_DEAD with origin TEE.
final class IsolatedInstance: TAInstance, @unchecked Sendable {
    // @unchecked: `sessionCount` and `current` are touched under `lock` (the serving thread);
    // the death state is behind `state`.
    let properties: TAProperties
    let lock = NSLock()
    private(set) var sessionCount = 0
    let host: HostHandle
    unowned let world: SecureWorld
    let abandonAfter: Double
    /// The parameters of the entry point being served (what the TA may pass on by reference).
    private var current: Parameters?
    private let state = Locked<State>(State())
    /// The client uid whose TA-host quota this instance counts against (nil: none). Touched
    /// only under the world's lock.
    var quotaUID: UInt32?

    struct State {
        var exit: TAHostProcess.Exit?
        var panicCode: UInt32?
        /// TA_DestroyEntryPoint was sent (the host's end is no death) / has returned.
        var destroying = false
        var destroyed = false
        var callInProgress = false
        var cancelDeadline: Date?
        /// Storage handles the TA holds (released by the core if the TA dies holding them).
        var handles: [HandleKey: [UInt8]] = [:]
    }

    /// A storage handle: its storage and the token that storage's handle table gave it.
    struct HandleKey: Hashable {
        var space: StorageSpace
        var token: UInt64
    }

    /// Open trusted-storage objects one instance may hold.
    static let maxHandles = 4096

    private init(properties: TAProperties, host: HostHandle, world: SecureWorld, abandonAfter: Double) {
        self.properties = properties
        self.host = host
        self.world = world
        self.abandonAfter = abandonAfter
    }

    var owner: SecureWorld.Owner { .instance(ObjectIdentifier(self)) }
    var pid: Int32 { host.process.pid }
    var isDead: Bool { state.withLock { $0.exit != nil || $0.panicCode != nil || $0.destroyed } }

    /// Takes a ready host and runs `TA_CreateEntryPoint` in it. A waiting host that was killed
    /// from outside just before (it died without reading the create frame: no TA code ran) is
    /// not a dead TA: the next host is taken instead, a few times at most.
    static func create(properties: TAProperties, native: NativeTAStore.Image? = nil, client: ClientIdentity, launcher: TAHostLauncher,
                       world: SecureWorld) throws(TEEError) -> IsolatedInstance {
        var tries = 0
        while true {
            tries += 1
            let debugged = native != nil && world.isDebugged(properties.uuid)
            let host = debugged ? try launcher.takeDebuggable() : try launcher.take()
            if debugged, let native {
                world.logger.notice("TA \(properties.uuid) is debugged (--ta-debug): its host pid \(host.process.pid) waits for a debugger before the TA is loaded: gdb -p \(host.process.pid) -ex 'handle SIGSYS nostop noprint pass' -ex 'set solib-search-path \(world.debugSymbols(for: properties.uuid, native: native))' -ex 'set breakpoint pending on' -ex 'break TA_CreateEntryPoint' -ex continue")
            }
            do {
                return try create(properties: properties, native: native, client: client, host: host, launcher: launcher, world: world)
            } catch where error.result == .targetDead && error.origin == .tee && !host.process.link.hostTookLastFrame && tries < 4 {
                // (The reaper logged the death as the TA's: it cannot tell, without racing this thread.)
                world.logger.warning("the TA host pid \(host.process.pid) died before it was told which TA to be (a waiting host killed from outside): \(properties.description) takes another one")
            }
        }
    }

    private static func create(properties: TAProperties, native: NativeTAStore.Image?, client: ClientIdentity, host: HostHandle,
                               launcher: TAHostLauncher, world: SecureWorld) throws(TEEError) -> IsolatedInstance {
        let instance = IsolatedInstance(properties: properties, host: host, world: world, abandonAfter: launcher.abandonAfter)
        // Strong: the instance must hear of its death even after the core let go of it (a failed
        // OpenSession); the handle drops the handler once it has run.
        host.onExit { exit in instance.died(exit) }
        var none: Parameters? = nil
        instance.lock.lock()
        defer { instance.lock.unlock() }
        let message: HostMessage
        if let native {
            // The sealed images first (the host takes them off its socket in this order), then
            // the frame that names them.
            for region in [native.region] + native.libraries.map(\.region) {
                do { try host.process.send(descriptor: region.fd) } catch { throw TEEError(.targetDead, origin: .tee) }
            }
            message = .createNative(uuid: properties.uuid, login: client.login, client: client.uuid, deviceID: world.deviceID,
                                    stackSize: native.stackSize, dataSize: native.dataSize, libraries: native.libraries.map(\.name))
        } else {
            message = .create(uuid: properties.uuid, login: client.login, client: client.uuid, deviceID: world.deviceID)
        }
        let result = try instance.call(message, &none)
        guard result == .success else {
            // The host ends itself after a refused create: an end, not a death.
            instance.state.withLock {
                $0.destroying = true
                $0.destroyed = true
            }
            throw TEEError(result, origin: .trustedApp)
        }
        world.logger.info("TA \(properties.description) (\(properties.uuid)) runs in TA host pid \(host.process.pid)")
        return instance
    }

    // MARK: Entry points (the caller holds `lock`)

    func openSession(id: UInt32, client: ClientIdentity, _ params: inout Parameters) throws(TEEError) {
        var p: Parameters? = params
        defer { params = p! }
        let result = try call(.open(session: id, login: client.login, client: client.uuid, params: .none), &p)
        guard result == .success else { throw TEEError(result, origin: .trustedApp) }
        sessionCount += 1
    }

    func invoke(id: UInt32, client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEError) {
        var p: Parameters? = params
        defer { params = p! }
        let result = try call(.invoke(session: id, login: client.login, client: client.uuid, command: command, params: .none), &p)
        guard result == .success else { throw TEEError(result, origin: .trustedApp) }
    }

    func closeSession(id: UInt32, client: ClientIdentity) {
        sessionCount = max(0, sessionCount - 1)
        guard !isDead else { return }
        var none: Parameters? = nil
        _ = try? call(.close(session: id, login: client.login, client: client.uuid), &none)
    }

    func destroy() {
        guard !isDead else { return }
        state.withLock { $0.destroying = true }
        var none: Parameters? = nil
        _ = try? call(.destroy, &none)
        state.withLock { $0.destroyed = true }
        // The host exits after TA_DestroyEntryPoint (in about a millisecond); one that has not
        // within a second is ended.
        if !host.waitForExit(seconds: 1) { host.process.kill() }
    }

    func requestCancellation() {
        host.process.link.requestCancellation()
        let abandonAfter = abandonAfter
        state.withLock { s in
            if s.callInProgress && s.cancelDeadline == nil { s.cancelDeadline = Date().addingTimeInterval(abandonAfter) }
        }
    }

    // MARK: Death

    /// The reaper's report: the host process has ended.
    private func died(_ exit: TAHostProcess.Exit) {
        // What the dead TA held goes back before anyone can see it dead (a client that learns of
        // the death and opens a new session finds its objects free).
        releaseHandles()
        let (destroying, panicCode) = state.withLock { s -> (Bool, UInt32?) in
            s.exit = exit
            return (s.destroying, s.panicCode)
        }
        let name = "\(properties.description) (\(properties.uuid)), TA host pid \(pid)"
        if destroying {
            world.logger.info("TA instance ended: \(name) \(exit)")
        } else if world.shuttingDown.load(ordering: .acquiring) && panicCode == nil {
            world.logger.info("TA instance ended with the daemon: \(name) \(exit)")
        } else if let panicCode {
            world.logger.error("TA died: \(name) after TEE_Panic 0x\(String(panicCode, radix: 16, uppercase: true)), \(exit)")
        } else {
            world.logger.error("TA died: \(name) \(exit); its sessions answer TARGET_DEAD")
        }
        world.instanceDied(self)
    }

    /// Gives back the storage handles the TA held (once: the table is emptied). The reaper and
    /// the thread whose call saw the death both call this; the release lock makes the second
    /// wait until the first has given every handle back, so neither reports the death (and no
    /// client can open the objects again) while handles are still held.
    private func releaseHandles() {
        releasing.lock()
        defer { releasing.unlock() }
        let handles = state.withLock { s -> [HandleKey: [UInt8]] in
            defer { s.handles = [:] }
            return s.handles
        }
        for (key, id) in handles {
            if let backend = try? world.storage(for: properties.uuid, space: key.space) { backend.handles.release(id, token: key.token) }
        }
    }
    private let releasing = NSLock()

    private var targetDead: TEEError { TEEError(.targetDead, origin: .tee) }

    /// Ends a host that broke the protocol (it is a dead TA from now on).
    private func refuse(_ why: String) -> TEEError {
        world.logger.error("TA \(properties.description) (\(properties.uuid)), TA host pid \(pid): \(why); the host is killed")
        state.withLock { if $0.panicCode == nil { $0.panicCode = 0 } }
        host.process.kill()
        releaseHandles()
        return targetDead
    }

    // MARK: The conversation

    /// Sends one entry point (with `params`' memory references mapped or copied) and serves the
    /// host's requests until it answers. Returns the TA's result; throws TARGET_DEAD.
    private func call(_ message: HostMessage, _ params: inout Parameters?) throws(TEEError) -> TEEResult {
        guard !isDead else { throw targetDead }
        state.withLock {
            $0.callInProgress = true
            $0.cancelDeadline = nil
        }
        defer { state.withLock { $0.callInProgress = false } }
        var frame = message
        var windows: [Window] = []
        if let p = params {
            let (encoded, made, view) = try encodeDown(p)
            windows = made
            current = view
            switch message {
            case .open(let s, let l, let c, _): frame = .open(session: s, login: l, client: c, params: encoded)
            case .invoke(let s, let l, let c, let cmd, _): frame = .invoke(session: s, login: l, client: c, command: cmd, params: encoded)
            default: break
            }
        }
        defer { current = nil }
        do {
            try host.process.link.sendDown(frame.encoded())
        } catch {
            throw TEEError(.outOfMemory, origin: .tee)
        }
        while true {
            guard let bytes = host.process.link.receiveUp(tick: { abandonIfOverdue() }) else {
                // Dead mid-call: its handles go back before its client hears of it.
                releaseHandles()
                throw targetDead
            }
            let up: HostMessage
            do { up = try HostMessage(decoding: bytes) } catch { throw refuse("a malformed frame (\(error))") }
            switch up {
            case .done(let result, let out):
                if var p = params {
                    guard apply(out, to: &p) else { throw refuse("answered with parameters that do not match the call") }
                    copyBack(windows, sizes: p)
                    params = p
                }
                return result
            case .unavailable(let result):
                // The host could not run the entry point (a window it could not map): this call
                // fails, the TA did not run and lives on.
                world.logger.warning("TA \(properties.description) (\(properties.uuid)), TA host pid \(pid): the call could not be run (\(result))")
                throw TEEError(result, origin: .tee)
            case .panic(let code, let reason):
                state.withLock { $0.panicCode = code }
                let hexCode = String(code, radix: 16, uppercase: true)
                world.logger.critical("TA panicked: \(properties.description) (\(properties.uuid)) code 0x\(hexCode): \(SecureWorld.oneLine(reason))")
                // --ta-coverage: the host writes its TA's counters as it ends (bounded).
                if world.collectsCoverage.load(ordering: .acquiring) { _ = host.waitForExit(seconds: 2) }
                host.process.kill()
                releaseHandles()
                throw targetDead
            case .openTA, .invokeTA, .closeTA, .log, .storage, .loadLibrary:
                // What the TA calls on its client's behalf stops waiting once the TA is overdue
                // after a cancellation (it is then abandoned at the next look at the link).
                let answer = SecureWorld.$servingInstance.withValue(self) { serve(up) }
                do { try host.process.link.sendDown(answer.encoded()) } catch { throw refuse("a request whose answer does not fit the link") }
            case .create, .createNative, .open, .invoke, .close, .destroy, .reply:
                throw refuse("sent a core-to-host message")
            }
        }
    }

    /// Whether the client asked to cancel more than `abandonAfter` ago and the TA has not answered.
    var isOverdue: Bool {
        guard let deadline = state.withLock({ $0.cancelDeadline }) else { return false }
        return Date() > deadline
    }

    /// A TA that neither answers nor dies after its client asked to cancel is abandoned.
    private func abandonIfOverdue() {
        guard let deadline = state.withLock({ $0.cancelDeadline }), Date() > deadline else { return }
        state.withLock { $0.cancelDeadline = .distantFuture }
        world.logger.error("TA \(properties.description) (\(properties.uuid)), TA host pid \(pid), did not answer within \(abandonAfter) s of a cancellation: abandoned (killed)")
        host.process.kill()
    }

    /// A copy of exactly the bytes a memory reference names, in a memfd of its own that the
    /// host maps for the call: the host never holds a writable descriptor of the client's
    /// region, nor one of more than the call names. The core copies the bytes in before the call
    /// and the output back after it.
    struct Window {
        let copy: MappedRegion
        let source: MappedRegion
        let offset: Int
        let index: Int
        let output: Bool
    }

    /// Shared memory goes as exactly the window the call names: an input naming a whole region
    /// as a read-only descriptor of it, anything else as a window copy (read-only for an input:
    /// sealed so that no writable mapping of it can be made); anything that is not shared memory
    /// (a TA's private buffer, in a call from another TA) travels inline. Returns the frame's
    /// parameters, the windows, and the parameters as the TA sees them (its memory references
    /// backed by the windows: what it passes on to another TA by reference is what it has written).
    private func encodeDown(_ p: Parameters) throws(TEEError) -> (HostParameters, [Window], Parameters) {
        var out: [HostParameter] = []
        out.reserveCapacity(4)
        var windows: [Window] = []
        var view = p
        var slot: UInt8 = 0
        for i in 0..<4 {
            switch p[i] {
            case .none: out.append(.none)
            case .value(let a, let b): out.append(.value(a: a, b: b))
            case .memref(let m):
                let (buffer, offset) = m.backing
                guard let buffer else {
                    out.append(.memref(HostMemref(kind: .null, size: UInt64(m.capacity))))
                    continue
                }
                if let region = buffer as? MappedRegion, m.capacity > 0, !m.direction.isOutput, offset == 0, m.capacity == region.count,
                   let view = TAHostProcess.descriptor(for: region, writable: false) {
                    // An input that names a whole region: a read-only descriptor of it is exactly
                    // the window (no copy; the bulk path, e.g. a firmware image to LOAD).
                    defer { close(view) }
                    do { try host.process.send(descriptor: view) } catch { throw targetDead }
                    out.append(.memref(HostMemref(kind: .mapped, slot: slot, offset: 0, size: UInt64(m.capacity))))
                    slot += 1
                } else if let region = buffer as? MappedRegion, m.capacity > 0 {
                    let copy: MappedRegion
                    do {
                        copy = try MappedRegion.window(count: m.capacity)
                        // Every direction starts from the client's bytes, as a mapping of its
                        // memory would: an output reference the TA writes only in part leaves
                        // the rest as the client had it.
                        copy.fill(from: region, offset: offset, count: m.capacity)
                        try copy.finishWindow(writable: m.direction.isOutput)
                    } catch {
                        world.logger.warning("a \(m.capacity)-byte window for TA \(properties.description): \(error.reason)")
                        throw TEEError(.outOfMemory, origin: .tee)
                    }
                    do { try host.process.send(descriptor: copy.fd) } catch { throw targetDead }
                    windows.append(Window(copy: copy, source: region, offset: offset, index: i, output: m.direction.isOutput))
                    view[i] = .memref(MemoryReference(buffer: copy, offset: 0, size: m.capacity, direction: m.direction))
                    out.append(.memref(HostMemref(kind: .mapped, slot: slot, offset: 0, size: UInt64(m.capacity))))
                    slot += 1
                } else {
                    guard m.capacity <= HostLink.frameCapacity / 2 else { throw TEEError(.outOfMemory, origin: .tee) }
                    let bytes = m.direction.isInput ? buffer.copyBytes(offset: offset, count: m.capacity) : []
                    out.append(.memref(HostMemref(kind: .inline, size: UInt64(m.capacity), bytes: bytes)))
                }
            }
        }
        do { return (try HostParameters(types: p.types, params: out), windows, view) } catch { throw TEEError(.badParameters, origin: .tee) }
    }

    /// What the TA wrote into its output windows goes back to the memory the call named: the
    /// bytes up to the size it reported (at most the capacity).
    private func copyBack(_ windows: [Window], sizes p: Parameters) {
        for w in windows where w.output {
            guard case .memref(let m) = p[w.index] else { continue }
            let count = min(max(m.size, 0), w.copy.count)
            guard count > 0 else { continue }
            w.source.fill(from: w.copy, offset: 0, count: count, at: w.offset)
        }
    }

    /// The parameters as the TA left them. Attacker: the host — shapes must match the call,
    /// sizes are taken as reported (GP lets a TA ask for more), bytes are bounded by the capacity.
    private func apply(_ out: HostParameters, to p: inout Parameters) -> Bool {
        guard out.types == p.types else { return false }
        for i in 0..<4 {
            switch (p[i], out.params[i]) {
            case (.none, .none): continue
            case (.value, .value(let a, let b)):
                if p.types[i].isOutput { p[i] = .value(a: a, b: b) }
            case (.memref(var m), .memref(let r)):
                guard r.size <= UInt64(Int32.max) else { return false }
                if m.direction.isOutput {
                    if r.kind == .inline && !r.bytes.isEmpty {
                        let (buffer, offset) = m.backing
                        guard let buffer, r.bytes.count <= m.capacity else { return false }
                        buffer.store(r.bytes, at: offset)
                    }
                    m.size = Int(r.size)
                }
                p[i] = .memref(m)
            default: return false
            }
        }
        return true
    }

    // MARK: Services for the TA

    /// Libraries a native TA may dlopen at run time, all together.
    static let maxRuntimeLibraries = 12
    private var librariesLoaded = 0

    private var identity: ClientIdentity { ClientIdentity(login: .trustedApp, uuid: properties.uuid) }

    private func serve(_ request: HostMessage) -> HostMessage {
        func answer(_ result: TEEResult, _ origin: ReturnOrigin = .tee, value: UInt64 = 0, params: HostParameters = .none, blobs: [[UInt8]] = []) -> HostMessage {
            .reply(result: result, origin: origin, value: value, params: params, blobs: blobs)
        }
        switch request {
        case .openTA(let target, let timeout, let hp):
            guard var p = resolveUp(hp) else { return answer(.badParameters) }
            do {
                let session = try world.openSession(owner: owner, client: identity, uuid: target, cancelID: 0, timeout: timeout, params: &p)
                return answer(.success, .trustedApp, value: UInt64(session), params: HostParameters(answering: p, like: hp))
            } catch {
                return answer(error.result, error.origin, params: HostParameters(answering: p, like: hp))
            }
        case .invokeTA(let session, let command, let timeout, let hp):
            guard var p = resolveUp(hp) else { return answer(.badParameters) }
            do {
                try world.invoke(owner: owner, session: session, command: command, cancelID: 0, timeout: timeout, params: &p)
                return answer(.success, .trustedApp, params: HostParameters(answering: p, like: hp))
            } catch {
                return answer(error.result, error.origin, params: HostParameters(answering: p, like: hp))
            }
        case .closeTA(let session):
            world.closeSession(owner: owner, session: session)
            return answer(.success)
        case .log(let text):
            world.log(ta: properties, text)
            return answer(.success)
        case .storage(let op, let space, let value, let blobs):
            do throws(TEEResult) {
                guard let space = StorageSpace(rawValue: space) else { throw .badParameters }
                let (v, out) = try storage(op, space, value, blobs)
                return answer(.success, value: v, blobs: out)
            } catch {
                return answer(error)
            }
        case .loadLibrary(let name):
            // Attacker: the TA (through its dlopen): any name, any number of times. Only a
            // UUID-named library a TA folder has, verified like a TA; at most
            // `maxRuntimeLibraries` per instance (the host's open broker holds 32 names).
            guard NativeTAELF.isUUIDName(name), librariesLoaded < Self.maxRuntimeLibraries else { return answer(.itemNotFound) }
            do {
                let libraries = try world.nativeLibrary(name)
                for library in libraries {
                    do { try host.process.send(descriptor: library.region.fd) } catch { return answer(.targetDead) }
                }
                librariesLoaded += libraries.count
                return answer(.success, blobs: libraries.map { Array($0.name.utf8) })
            } catch {
                return answer(error.result, error.origin)
            }
        default:
            return answer(.badParameters)
        }
    }

    /// At most this much of a record in one answer (the host reads more in pieces).
    static let maxStorageRead = 1 << 20

    /// Attacker: the host. Object ids are at most 64 bytes (GP; empty is allowed), data is bounded by the link.
    private func storage(_ op: StorageOperation, _ space: StorageSpace, _ value: UInt64, _ blobs: [[UInt8]]) throws(TEEResult) -> (UInt64, [[UInt8]]) {
        let backend = try world.storage(for: properties.uuid, space: space)
        func id(_ i: Int) throws(TEEResult) -> [UInt8] {
            guard i < blobs.count, blobs[i].count <= TrustedStorage.maxObjectIDLength else { throw .badParameters }
            return blobs[i]
        }
        switch op {
        case .load:
            // Whole records only as large as an answer may be (hosts read larger ones by range).
            let object = try id(0)
            guard try backend.size(object) <= Self.maxStorageRead else { throw .outOfMemory }
            return (0, [try backend.load(object)])
        case .store:
            guard blobs.count == 2 else { throw .badParameters }
            try backend.store(try id(0), blobs[1])
            return (0, [])
        case .exists: return (backend.exists(try id(0)) ? 1 : 0, [])
        case .delete:
            try backend.delete(try id(0))
            return (0, [])
        case .rename:
            try backend.rename(try id(0), to: try id(1))
            return (0, [])
        case .list: return (0, try backend.list())
        case .acquireHandle:
            let object = try id(0)
            // A TA cannot grow the core's tables without end: as many open objects as OP-TEE's
            // default heap would hold, and then some.
            guard state.withLock({ $0.handles.count }) < Self.maxHandles else { throw .outOfMemory }
            let token = try backend.handles.acquire(object, flags: DataFlags(rawValue: UInt32(truncatingIfNeeded: value)))
            state.withLock { $0.handles[HandleKey(space: space, token: token)] = object }
            return (token, [])
        case .releaseHandle:
            // Only a handle this instance holds (a TA cannot release another's).
            guard let object = state.withLock({ $0.handles.removeValue(forKey: HandleKey(space: space, token: value)) }) else { throw .badParameters }
            backend.handles.release(object, token: value)
            return (0, [])
        case .moveHandles:
            let from = try id(0), to = try id(1)
            backend.handles.move(from, to: to)
            // This instance's own record of its handles follows the rename too: a release after
            // it names the handle by its token, and the table holds it under the new id (before
            // this, a renamed object stayed open until the instance ended: ACCESS_CONFLICT on
            // every later open — xtest 6008).
            state.withLock { s in
                for (key, object) in s.handles where key.space == space && object == from { s.handles[key] = to }
            }
            return (0, [])
        case .isOpenElsewhere:
            return (backend.handles.isOpenElsewhere(try id(0), except: value) ? 1 : 0, [])
        case .loadTimeOffset:
            return (UInt64(bitPattern: try backend.loadTimeOffset()), [])
        case .storeTimeOffset:
            // Attacker: the TA. Any offset is its own time's; it reaches only its own record.
            try backend.storeTimeOffset(Int64(bitPattern: value))
            return (0, [])
        case .size:
            return (UInt64(try backend.size(try id(0))), [])
        case .read:
            // Attacker: the host, asking for any range: the answer must fit the link (a larger
            // read is asked for in pieces), offsets past the record read nothing.
            guard blobs.count == 2, blobs[1].count == 8, value <= UInt64(Int.max / 2) else { throw .badParameters }
            let count = blobs[1].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard count <= UInt64(Self.maxStorageRead) else { throw .badParameters }
            return (0, [try backend.read(try id(0), at: Int(value), count: Int(count))])
        case .write:
            guard blobs.count == 2, value <= UInt64(Int.max / 2) else { throw .badParameters }
            try backend.write(try id(0), at: Int(value), blobs[1])
            return (0, [])
        case .truncate:
            guard blobs.count == 1, value <= UInt64(Int.max / 2) else { throw .badParameters }
            try backend.truncate(try id(0), to: Int(value))
            return (0, [])
        }
    }

    /// The parameters of a TA's call to another TA. A `ref` names the current call's own memory
    /// reference `slot`: it must be one, the window must lie inside it, and the direction must be
    /// one the current call allows. Attacker: the host.
    private func resolveUp(_ hp: HostParameters) -> Parameters? {
        var params: [Parameter] = []
        params.reserveCapacity(4)
        for i in 0..<4 {
            let type = hp.types[i]
            switch hp.params[i] {
            case .none: params.append(.none)
            case .value(let a, let b): params.append(.value(a: a, b: b))
            case .memref(let r):
                guard r.size <= UInt64(HostLink.frameCapacity) || r.kind == .ref else { return nil }
                switch r.kind {
                case .null:
                    params.append(.memref(MemoryReference(buffer: nil, offset: 0, size: Int(r.size), direction: type)))
                case .inline:
                    guard !type.isInput || r.bytes.count == Int(r.size) else { return nil }
                    let bytes = type.isInput ? r.bytes : [UInt8](repeating: 0, count: Int(r.size))
                    params.append(.memref(MemoryReference(buffer: PrivateBuffer(bytes: bytes), offset: 0, size: Int(r.size), direction: type)))
                case .ref:
                    guard let current, case .memref(let source) = current[Int(r.slot)] else { return nil }
                    let (buffer, offset) = source.backing
                    guard let buffer, r.offset <= UInt64(source.capacity), r.size <= UInt64(source.capacity) - r.offset,
                          !type.isInput || source.direction.isInput, !type.isOutput || source.direction.isOutput else { return nil }
                    params.append(.memref(MemoryReference(buffer: buffer, offset: offset + Int(r.offset), size: Int(r.size), direction: type)))
                case .mapped:
                    return nil
                }
            }
        }
        return Parameters(types: hp.types, params: params)
    }
}

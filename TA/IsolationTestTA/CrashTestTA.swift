import Foundation   // kill, getpid and /proc (Foundation brings the C library along)
import TEEInternalAPI

/// The interface of the crash-test TAs: TAs that die on request, in any entry point, in each of
/// the ways a TA process can end — for the TA-isolation tests and for seeing what a client gets.
public enum CrashTest {
    /// Multi-instance: every session has an instance (and a TA host process) of its own.
    public static let uuid: TEEUUID = "c7a5e0d4-6b1f-4e8a-9d3c-5f2a1b0e9c41"
    /// Single instance, multi-session, keep-alive: the counter survives its sessions, not its death.
    public static let keepAliveUUID: TEEUUID = "c7a5e0d4-6b1f-4e8a-9d3c-5f2a1b0e9c42"

    public enum Command: UInt32 {
        /// value out: a = calls so far on this instance (from 1), b = the TA's process id.
        case ping = 0
        /// value in: a = `Death`, b = the panic code for `.panic`.
        case die = 1
        /// value in: a = milliseconds; cancellation unmasked (CANCEL if the client cancels).
        case sleep = 2
        /// Never returns, cancellation masked: the TA neither answers nor dies.
        case spin = 3
        /// value in: a = bytes to allocate and touch; value out: a = their sum (mod 2^32).
        case allocate = 4
        /// value in: a = recursion depth (1 KiB of stack each); value out: a = the depth reached.
        case recurse = 5
        /// value in: a = `Death` for the next instance's create entry point (kept in storage).
        case dieAtNextCreate = 6
        /// memref in (optional, param 0); value inout (param 1): in a = milliseconds to hold the
        /// call after touching the memref (cancellable), out a = the memref's first byte, b =
        /// this process's id. A test reads the process's mappings from outside while it holds (a
        /// sandboxed TA cannot open /proc): only the call's window is mapped, and only then.
        case mappings = 7
        /// memref in (param 0), value inout (param 1): opens a session to the keep-alive
        /// crash-test TA and passes the memref and the hold time on to its `mappings` (TA to TA,
        /// by reference); out a = the first byte it saw, b = its answer's origin.
        case relay = 8
        /// value inout: a = how many handles on one storage object to open and keep, b = 1 for
        /// exclusive ones (no sharing: they conflict with any other open handle); out a = how
        /// many it got (the core bounds what one instance holds), b = the result that stopped it.
        case holdObjects = 9
        /// What a hostile TA would try, each attempt reported (red-team H4). memref in (param 0):
        /// a file path to open (the device secret); value in (param 1): a = another process to
        /// reach (a sibling TA host), b = the daemon's pid; value out (param 2): a = a bit per
        /// attempt that succeeded (`Escape`), b = this process's uid. Last it tries execve of
        /// /bin/true: had that worked, the host would have ended (TARGET_DEAD).
        case escape = 10
    }

    /// The escapes `escape` tries: a set bit is one that worked.
    public struct Escape: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// open() of the path given (the device secret: every TA's storage key).
        public static let openFile = Escape(rawValue: 1 << 0)
        /// open() of /proc/<daemon>/fd (every client's memory behind the daemon's descriptors).
        public static let daemonDescriptors = Escape(rawValue: 1 << 1)
        /// open() of /proc/<sibling>/mem (what ptrace would give).
        public static let readSibling = Escape(rawValue: 1 << 2)
        /// posix_spawn of /bin/true (a process of its own).
        public static let spawn = Escape(rawValue: 1 << 3)
        /// socket(AF_UNIX) (to reach the daemon's socket or anything else).
        public static let socket = Escape(rawValue: 1 << 4)
        /// mmap of a descriptor it was not handed for this call (another client's region).
        public static let foreignMapping = Escape(rawValue: 1 << 5)
        /// kill(daemon, 0): a signal to another process.
        public static let signalDaemon = Escape(rawValue: 1 << 6)
    }

    /// How to die. OpenSession's value parameter 0 (a) takes one too (die while opening).
    public enum Death: UInt32 {
        case none = 0
        case panic = 1
        /// A Swift runtime trap (fatalError).
        case trap = 2
        /// Unbounded recursion past the TA's stack: SIGSEGV on the guard page.
        case stackOverflow = 3
        /// SIGKILL to its own process (a kill from outside looks the same to the core).
        case kill = 4
    }

    /// The object `dieAtNextCreate` leaves in the TA's storage.
    static let createObject = Array("die-at-create".utf8)
}

/// Dies as told. Never returns for anything but `.none`.
func die(_ death: CrashTest.Death, code: UInt32, tee: TEE) {
    switch death {
    case .none: return
    case .panic: tee.panic(code, "crash test: TEE_Panic as asked")
    case .trap: fatalError("crash test: a Swift trap as asked")
    case .stackOverflow: _ = overflow(1)
    case .kill: _ = kill(getpid(), SIGKILL)
    }
    // A kill takes effect before this line; anything else does not return.
    while true { pause() }
}

/// Recursion the optimizer cannot remove (each frame's buffer feeds the result).
@inline(never)
func overflow(_ depth: Int) -> Int {
    var frame = [UInt8](repeating: UInt8(truncatingIfNeeded: depth), count: 64)
    frame.withUnsafeMutableBytes { $0[0] &+= 1 }
    return overflow(depth + 1) &+ Int(frame[0])
}

@inline(never)
func recurse(_ depth: UInt32, _ target: UInt32) -> UInt32 {
    // 1 KiB of stack per frame, used so that it is not elided.
    let frame = (0..<128).map { UInt64($0) &+ UInt64(depth) }
    guard depth < target else { return depth &+ UInt32(truncatingIfNeeded: frame[127] &- frame[127]) }
    return recurse(depth + 1, target) &+ UInt32(truncatingIfNeeded: frame[0] &- UInt64(depth))
}

/// The commands both crash-test TAs share.
func crashTestInvoke(tee: TEE, calls: inout UInt32, held: inout [PersistentObject], command: UInt32, _ params: inout Parameters) throws(TEEResult) {
    guard let cmd = CrashTest.Command(rawValue: command) else { throw .notSupported }
    calls += 1
    switch cmd {
    case .ping:
        try params.require(ParamTypes(.valueOutput))
        params.setValue(0, a: calls, b: UInt32(getpid()))
    case .die:
        try params.require(ParamTypes(.valueInput))
        let (kind, code) = params.value(0)
        guard let death = CrashTest.Death(rawValue: kind) else { throw .badParameters }
        die(death, code: code, tee: tee)
    case .sleep:
        try params.require(ParamTypes(.valueInput))
        tee.setCancellationMasked(false)
        try tee.wait(milliseconds: params.value(0).a)
    case .spin:
        tee.setCancellationMasked(true)
        var n: UInt64 = 0
        while !tee.isCancelled || n < UInt64.max { n &+= 1 }
    case .allocate:
        try params.require(ParamTypes(.valueInout))
        let bytes = [UInt8](repeating: 3, count: Int(params.value(0).a))
        params.setValue(0, a: bytes.reduce(0) { $0 &+ UInt32($1) })
    case .recurse:
        try params.require(ParamTypes(.valueInout))
        params.setValue(0, a: recurse(1, max(1, params.value(0).a)))
    case .dieAtNextCreate:
        try params.require(ParamTypes(.valueInput))
        let object = try tee.storage.create(CrashTest.createObject, flags: [.accessWrite, .overwrite], initialData: withUnsafeBytes(of: params.value(0).a.littleEndian, Array.init))
        object.close()
    case .relay:
        try params.require(ParamTypes(.memrefInput, .valueInout))
        var nested = Parameters(types: ParamTypes(.memrefInput, .valueInout), params: [.memref(params.memref(0)), .value(a: params.value(1).a, b: 0), .none, .none])
        var none = Parameters.empty
        do {
            let other = try tee.openSession(CrashTest.keepAliveUUID, &none)
            defer { other.close() }
            try other.invoke(CrashTest.Command.mappings.rawValue, &nested)
            params.setValue(1, a: nested.value(1).a, b: ReturnOrigin.trustedApp.rawValue)
        } catch {
            params.setValue(1, a: .max, b: error.origin.rawValue)
            throw error.result
        }
    case .holdObjects:
        try params.require(ParamTypes(.valueInout))
        let id = Array("held".utf8)
        let flags: DataFlags = params.value(0).b == 1 ? [.accessRead, .accessWriteMeta] : [.accessRead, .shareRead]
        // Made once (a second create finds it: ACCESS_CONFLICT, which is fine here).
        (try? tee.storage.create(id, flags: [.accessWrite]))?.close()
        var stop = TEEResult.success
        for _ in 0..<params.value(0).a {
            do { held.append(try tee.storage.open(id, flags: flags)) } catch { stop = error; break }
        }
        params.setValue(0, a: UInt32(held.count), b: stop.rawValue)
    case .mappings:
        guard params.types[1] == .valueInout else { throw .badParameters }
        var first: UInt32 = 0
        if params.types[0].isMemref, params.memref(0).capacity > 0 { first = UInt32((try params.memref(0).read(offset: 0, count: 1))[0]) }
        tee.setCancellationMasked(false)
        try tee.wait(milliseconds: params.value(1).a)
        params.setValue(1, a: first, b: UInt32(getpid()))
    case .escape:
        try params.require(ParamTypes(.memrefInput, .valueInput, .valueOutput))
        let path = String(decoding: try params.memref(0).read(offset: 0, count: params.memref(0).capacity), as: UTF8.self)
        let (sibling, daemon) = params.value(1)
        params.setValue(2, a: escapes(path: path, sibling: Int32(bitPattern: sibling), daemon: Int32(bitPattern: daemon)).rawValue, b: getuid())
    }
}

/// Tries each escape once; what worked.
func escapes(path: String, sibling: Int32, daemon: Int32) -> CrashTest.Escape {
    var worked: CrashTest.Escape = []
    let file = open(path, O_RDONLY | O_CLOEXEC)
    if file >= 0 { worked.insert(.openFile); close(file) }
    let descriptors = open("/proc/\(daemon)/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if descriptors >= 0 { worked.insert(.daemonDescriptors); close(descriptors) }
    // What ptrace would give: the sibling's memory through /proc (open refused: EPERM).
    let memory = open("/proc/\(sibling)/mem", O_RDONLY | O_CLOEXEC)
    if memory >= 0 { worked.insert(.readSibling); close(memory) }
    var child: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
    defer { for p in argv { free(p) } }
    if posix_spawn(&child, "/bin/true", nil, nil, argv, nil) == 0 { worked.insert(.spawn) }
    let sock = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    if sock >= 0 { worked.insert(.socket); close(sock) }
    // Every descriptor but the host's own link (3), which it maps already: none may map.
    for fd in Int32(0)..<256 where fd != 3 {
        if let p = mmap(nil, 4096, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED {
            worked.insert(.foreignMapping)
            munmap(p, 4096)
        }
    }
    if kill(daemon, 0) == 0 { worked.insert(.signalDaemon) }
    // Last: had it worked, the host would now be /bin/true and end (the call: TARGET_DEAD).
    execve("/bin/true", argv, [nil])
    return worked
}

/// Multi-instance: dies on request in create (from storage), open (its value parameter) or invoke.
public final class CrashTestTA: TrustedApplication {
    public static let properties = TAProperties(
        uuid: CrashTest.uuid, dataSize: 1 << 20, stackSize: 64 * 1024, version: "1.0",
        description: "crash test TA (isolation)"
    )
    let tee: TEE
    var calls: UInt32 = 0
    var held: [PersistentObject] = []

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
        // A death asked for by an earlier session, once.
        if let storage = try? tee.storage, let object = try? storage.open(CrashTest.createObject, flags: [.accessRead, .accessWriteMeta]) {
            let bytes = (try? object.read(4)) ?? []
            try? object.closeAndDelete()
            if bytes.count == 4, let death = CrashTest.Death(rawValue: UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24) {
                die(death, code: 0xC0DE_0001, tee: tee)
            }
        }
    }

    public func openSession(_ params: inout Parameters) throws(TEEResult) {
        if params.types[0] == .valueInput, let death = CrashTest.Death(rawValue: params.value(0).a) {
            die(death, code: 0xC0DE_0002, tee: tee)
        }
    }

    public func closeSession(_ session: Void) {}

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        try crashTestInvoke(tee: tee, calls: &calls, held: &held, command: command, &params)
    }
}

/// Single instance, multi-session, keep-alive: after its death the next OpenSession starts a
/// fresh instance (the call counter starts again from 1).
public final class KeepAliveCrashTestTA: TrustedApplication {
    public static let properties = TAProperties(
        uuid: CrashTest.keepAliveUUID, singleInstance: true, multiSession: true, instanceKeepAlive: true,
        dataSize: 1 << 20, stackSize: 64 * 1024, version: "1.0", description: "keep-alive crash test TA (isolation)"
    )
    let tee: TEE
    var calls: UInt32 = 0
    var held: [PersistentObject] = []

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
    }

    public func openSession(_ params: inout Parameters) throws(TEEResult) {}
    public func closeSession(_ session: Void) {}

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        try crashTestInvoke(tee: tee, calls: &calls, held: &held, command: command, &params)
    }
}

import OPTEETestTAInterface
import TEEInternalAPI

/// optee_test's `sims` TA in Swift (single instance, multi-session; also built as `sims_keepalive`
/// and `miss` with other flags), written from what the
/// original (`ta/sims/ta_sims.c`) does: four storage buckets shared by every session of the
/// instance, a per-session copy of how many sessions the instance had opened before it, a session
/// that may hold a session to another TA, and a panic on request — its own, or another TA's.
public final class SIMSCore {
    public final class Session {
        /// The instance's session count when this one opened.
        var counter: UInt32
        var peer: TASession?
        init(counter: UInt32) { self.counter = counter }
    }

    let tee: TEE
    private var storage = [[UInt8]?](repeating: nil, count: SIMSTA.buckets)
    private var opened: UInt32 = 0

    init(tee: TEE) {
        self.tee = tee
    }

    func open() -> Session {
        defer { opened &+= 1 }
        return Session(counter: opened)
    }

    func close(_ session: Session) {
        session.peer?.close()
        session.peer = nil
    }

    func invoke(_ session: Session, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = SIMSTA.Command(rawValue: command) else { throw .badParameters }
        switch command {
        case .read:
            try params.require(ParamTypes(.valueInput, .memrefOutput))
            let index = Int(params.value(0).a)
            // Attacker: the client names the bucket.
            guard index < SIMSTA.buckets else { throw .badParameters }
            let bytes = storage[index] ?? []
            guard bytes.count <= params.memref(1).capacity else { throw .overflow }
            try params.withMemref(1) { (out) throws(TEEResult) in try out.write(bytes) }
        case .write:
            try params.require(ParamTypes(.valueInput, .memrefInput))
            let index = Int(params.value(0).a)
            guard index < SIMSTA.buckets else { throw .badParameters }
            storage[index] = try params.memref(1).read()
        case .getCounter:
            try params.require(ParamTypes(.valueOutput))
            params.setValue(0, a: session.counter)
        case .openTASession:
            try params.require(ParamTypes(.memrefInput))
            try openPeer(session, try params.memref(0).read())
        case .panic:
            try params.require(ParamTypes(.memrefInput))
            let uuid = params.memref(0).isNull ? [] : try params.memref(0).read()
            guard !uuid.isEmpty else { tee.panic(0xBEEF, "sims: panic requested") }
            try openPeer(session, uuid)
            // The other TA panics; what it answers (TARGET_DEAD) is not this TA's concern.
            var none = Parameters(types: ParamTypes(.memrefInput), params: [.memref(MemoryReference(buffer: nil, offset: 0, size: 0, direction: .memrefInput)), .none, .none, .none])
            try? session.peer?.invoke(SIMSTA.Command.panic.rawValue, &none)
        }
    }

    /// Opens this session's session to the TA named by a C `TEE_UUID` (16 bytes, see
    /// `TEEUUID.cLayout`). Attacker: the client — the size is checked first.
    private func openPeer(_ session: Session, _ bytes: [UInt8]) throws(TEEResult) {
        guard let uuid = TEEUUID(cLayout: bytes) else { throw .badParameters }
        session.peer = try tee.session(to: uuid)
        session.counter &+= 1
    }
}

/// The three builds of the SIMS code differ only in their properties: each is a `SIMSBuild`,
/// whose entry points are the core's.
public protocol SIMSBuild: TrustedApplication where Session == SIMSSession {
    var core: SIMSCore { get }
}

extension SIMSBuild {
    public func openSession(_ params: inout Parameters) throws(TEEResult) -> SIMSSession { SIMSSession(core.open()) }
    public func closeSession(_ session: SIMSSession) { core.close(session.state) }
    public func invoke(_ session: SIMSSession, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        try core.invoke(session.state, command: command, &params)
    }
}

/// `ta/sims`: single instance, multi-session.
public final class SIMSTestTA: SIMSBuild {
    public static let properties = TAProperties(uuid: SIMSTA.uuid, singleInstance: true, multiSession: true,
                                                description: "sims (optee_test), single instance multi-session")
    public let core: SIMSCore
    public init(tee: TEE) throws(TEEResult) { core = SIMSCore(tee: tee) }
}

/// `ta/sims_keepalive`: the same TA, kept alive when its last session closes.
public final class SIMSKeepAliveTestTA: SIMSBuild {
    public static let properties = TAProperties(uuid: SIMSTA.keepAliveUUID, singleInstance: true, multiSession: true, instanceKeepAlive: true,
                                                description: "sims keep-alive (optee_test)")
    public let core: SIMSCore
    public init(tee: TEE) throws(TEEResult) { core = SIMSCore(tee: tee) }
}

/// `ta/miss`: the same TA, an instance per session (multi-instance, single session).
public final class MISSTestTA: SIMSBuild {
    public static let properties = TAProperties(uuid: SIMSTA.multiInstanceUUID, description: "miss (optee_test), multi-instance single session")
    public let core: SIMSCore
    public init(tee: TEE) throws(TEEResult) { core = SIMSCore(tee: tee) }
}

/// A session of any of the three (its state is the core's).
public struct SIMSSession {
    let state: SIMSCore.Session
    init(_ state: SIMSCore.Session) { self.state = state }
}

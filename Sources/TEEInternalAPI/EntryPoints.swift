/// One instance of a TA with its sessions, whatever the TA's type: what a runtime (the embedded
/// secure world, or a TA host process) drives. The runtime guarantees that entry points of one
/// instance never run concurrently.
public protocol TAEntryPoints: AnyObject {
    var tee: TEE { get }
    var sessionCount: Int { get }
    func openSession(id: UInt32, client: ClientIdentity, _ params: inout Parameters) throws(TEEResult)
    func closeSession(id: UInt32, client: ClientIdentity)
    func invoke(id: UInt32, client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult)
    func destroy()
}

extension TrustedApplication {
    /// Runs `TA_CreateEntryPoint` for a new instance on `tee`, called by `client`.
    public static func instantiate(tee: TEE, client: ClientIdentity) throws(TEEResult) -> any TAEntryPoints {
        try TypedEntryPoints<Self>(tee: tee, client: client)
    }
}

/// The typed instance of TA type `T`, keeping each session's `T.Session`.
final class TypedEntryPoints<T: TrustedApplication>: TAEntryPoints {
    let tee: TEE
    private(set) var sessionCount = 0
    let ta: T
    var sessions: [UInt32: T.Session] = [:]

    init(tee: TEE, client: ClientIdentity) throws(TEEResult) {
        self.tee = tee
        ta = try tee.enter(client: client) { () throws(TEEResult) -> T in try T(tee: tee) }
    }

    func openSession(id: UInt32, client: ClientIdentity, _ params: inout Parameters) throws(TEEResult) {
        let session = try tee.enter(client: client) { () throws(TEEResult) -> T.Session in try ta.openSession(&params) }
        sessions[id] = session
        sessionCount += 1
    }

    func closeSession(id: UInt32, client: ClientIdentity) {
        guard let session = sessions.removeValue(forKey: id) else { return }
        sessionCount -= 1
        try? tee.enter(client: client) { () throws(TEEResult) in ta.closeSession(session) }
    }

    func invoke(id: UInt32, client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let session = sessions[id] else { throw .badState }
        try tee.enter(client: client) { () throws(TEEResult) in try ta.invoke(session, command: command, &params) }
    }

    func destroy() {
        try? tee.enter(client: ClientIdentity(login: .public, uuid: .zero)) { () throws(TEEResult) in ta.destroy() }
    }
}

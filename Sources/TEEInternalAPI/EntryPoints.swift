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
    var sessionCount: Int { sessions.count }
    let ta: T
    /// The sessions' values, densely, and where each session id's is. The index is a concrete
    /// dictionary (specialized where it is compiled); a `[UInt32: T.Session]` was generic code
    /// run unspecialized on every invoke, with a runtime metadata lookup for its optional result.
    private var sessions: [T.Session] = []
    private var ids: [UInt32] = []
    private var slot: [UInt32: Int] = [:]

    init(tee: TEE, client: ClientIdentity) throws(TEEResult) {
        self.tee = tee
        ta = try tee.enter(client: client) { () throws(TEEResult) -> T in try T(tee: tee) }
    }

    func openSession(id: UInt32, client: ClientIdentity, _ params: inout Parameters) throws(TEEResult) {
        let session = try tee.enter(client: client) { () throws(TEEResult) -> T.Session in try ta.openSession(&params) }
        if let i = slot[id] {
            sessions[i] = session
        } else {
            slot[id] = sessions.count
            sessions.append(session)
            ids.append(id)
        }
    }

    func closeSession(id: UInt32, client: ClientIdentity) {
        guard let i = slot.removeValue(forKey: id) else { return }
        // The last session takes the closed one's place.
        sessions.swapAt(i, sessions.count - 1)
        ids.swapAt(i, ids.count - 1)
        let session = sessions.removeLast()
        ids.removeLast()
        if i < ids.count { slot[ids[i]] = i }
        try? tee.enter(client: client) { () throws(TEEResult) in ta.closeSession(session) }
    }

    func invoke(id: UInt32, client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let i = slot[id] else { throw .badState }
        let session = sessions[i]
        try tee.enter(client: client) { () throws(TEEResult) in try ta.invoke(session, command: command, &params) }
    }

    func destroy() {
        try? tee.enter(client: ClientIdentity(login: .public, uuid: .zero)) { () throws(TEEResult) in ta.destroy() }
    }
}

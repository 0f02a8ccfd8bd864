import Foundation
import TEEInternalAPI

/// One instance of a TA with its sessions, whatever the TA's type. Every entry point runs under
/// `lock`, so entry points of one instance never run concurrently (GP).
protocol TAInstance: AnyObject, Sendable {
    // In embedded mode a TA panic ends the process (TEE.panic), so an instance never outlives
    // its own death; the TA-host issue adds dead instances and TARGET_DEAD.
    var tee: TEE { get }
    var lock: NSLock { get }
    var sessionCount: Int { get }
    func openSession(id: UInt32, client: ClientIdentity, _ params: inout Parameters) throws(TEEResult)
    func closeSession(id: UInt32, client: ClientIdentity)
    func invoke(id: UInt32, client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult)
    func destroy()
}

extension TAInstance {
    var properties: TAProperties { tee.properties }
}

/// The typed instance of TA type `T`, keeping each session's `T.Session`.
final class TypedTAInstance<T: TrustedApplication>: TAInstance, @unchecked Sendable {
    // @unchecked: all mutable state is touched under `lock`.
    let tee: TEE
    let lock = NSLock()
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

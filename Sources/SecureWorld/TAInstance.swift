import Foundation
import TEEInternalAPI

/// One instance of a TA with its sessions. Every entry point runs under `lock`, so entry points
/// of one instance never run concurrently (GP).
class TAInstance: @unchecked Sendable {
    // @unchecked: all mutable state is touched under `lock`.
    let tee: TEE
    let lock = NSLock()
    var sessionCount = 0
    var dead = false
    var properties: TAProperties { tee.properties }

    init(tee: TEE) { self.tee = tee }

    func openSession(id: UInt32, client: ClientIdentity, _ params: inout Parameters) throws(TEEResult) { fatalError("abstract") }
    func closeSession(id: UInt32, client: ClientIdentity) { fatalError("abstract") }
    func invoke(id: UInt32, client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult) { fatalError("abstract") }
    func destroy() { fatalError("abstract") }
}

/// The typed instance of TA type `T`, keeping each session's `T.Session`.
final class TypedTAInstance<T: TrustedApplication>: TAInstance, @unchecked Sendable {
    let ta: T
    var sessions: [UInt32: T.Session] = [:]

    init(tee: TEE, client: ClientIdentity) throws(TEEResult) {
        ta = try tee.enter(client: client) { () throws(TEEResult) -> T in try T(tee: tee) }
        super.init(tee: tee)
    }

    override func openSession(id: UInt32, client: ClientIdentity, _ params: inout Parameters) throws(TEEResult) {
        let session = try tee.enter(client: client) { () throws(TEEResult) -> T.Session in try ta.openSession(&params) }
        sessions[id] = session
        sessionCount += 1
    }

    override func closeSession(id: UInt32, client: ClientIdentity) {
        guard let session = sessions.removeValue(forKey: id) else { return }
        sessionCount -= 1
        try? tee.enter(client: client) { () throws(TEEResult) in ta.closeSession(session) }
    }

    override func invoke(id: UInt32, client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let session = sessions[id] else { throw .badState }
        try tee.enter(client: client) { () throws(TEEResult) in try ta.invoke(session, command: command, &params) }
    }

    override func destroy() {
        try? tee.enter(client: ClientIdentity(login: .public, uuid: .zero)) { () throws(TEEResult) in ta.destroy() }
    }
}

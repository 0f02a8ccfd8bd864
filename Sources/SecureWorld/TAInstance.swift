import Foundation
import TEEInternalAPI

/// One instance of a TA with its sessions, in this process or in a TA host process. Every entry
/// point runs under `lock`, so entry points of one instance never run concurrently (GP).
/// Results carry their origin: TRUSTED_APP for what the TA said, TEE for what the core says
/// (TARGET_DEAD once the instance has died).
protocol TAInstance: AnyObject, Sendable {
    var properties: TAProperties { get }
    var lock: NSLock { get }
    var sessionCount: Int { get }
    /// Whether the instance has ended — died (its process is gone: every later call is
    /// TARGET_DEAD) or been destroyed (a caller that waited for its lock makes a fresh one).
    var isDead: Bool { get }
    func openSession(id: UInt32, client: ClientIdentity, _ params: inout Parameters) throws(TEEError)
    func closeSession(id: UInt32, client: ClientIdentity)
    func invoke(id: UInt32, client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEError)
    func destroy()
    /// A client asked to cancel the entry point running now (or about to run).
    func requestCancellation()
}

/// An instance in the core's own process (embedded mode). A TA panic ends the process
/// (there is no process to sacrifice), so it never dies on its own.
final class LocalInstance: TAInstance, @unchecked Sendable {
    // @unchecked: the entry points are touched under `lock`.
    let entry: any TAEntryPoints
    let lock = NSLock()
    private var destroyed = false   // under `lock`

    init(_ entry: any TAEntryPoints) {
        self.entry = entry
    }

    var properties: TAProperties { entry.tee.properties }
    var sessionCount: Int { entry.sessionCount }
    var isDead: Bool { destroyed }

    func openSession(id: UInt32, client: ClientIdentity, _ params: inout Parameters) throws(TEEError) {
        do { try entry.openSession(id: id, client: client, &params) } catch { throw TEEError(error, origin: .trustedApp) }
    }

    func closeSession(id: UInt32, client: ClientIdentity) { entry.closeSession(id: id, client: client) }

    func invoke(id: UInt32, client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEError) {
        do { try entry.invoke(id: id, client: client, command: command, &params) } catch { throw TEEError(error, origin: .trustedApp) }
    }

    func destroy() {
        entry.destroy()
        destroyed = true
    }

    func requestCancellation() { entry.tee.requestCancellation() }
}

import TEEInternalAPI

/// A pseudo-TA: secure-world service code with privileges ordinary TAs lack (it is built with
/// the SecureWorld's own objects), reached like a TA by UUID.
public protocol PseudoTA: AnyObject, Sendable {
    var uuid: TEEUUID { get }
    var name: String { get }
    /// Which TAs may open it; nil lets anyone, including normal-world clients.
    var allowedCallers: Set<TEEUUID>? { get }
    func openSession(client: ClientIdentity, _ params: inout Parameters) throws(TEEResult)
    func invoke(client: ClientIdentity, command: UInt32, _ params: inout Parameters) throws(TEEResult)
    func closeSession(client: ClientIdentity)
}

extension PseudoTA {
    public func openSession(client: ClientIdentity, _ params: inout Parameters) throws(TEEResult) {}
    public func closeSession(client: ClientIdentity) {}
}

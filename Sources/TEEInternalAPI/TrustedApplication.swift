@_exported import TEECore

/// What a TA declares about itself: OP-TEE's `TA_FLAGS`, `TA_DATA_SIZE`, `TA_STACK_SIZE`,
/// version and description, readable by the TA and its clients as the gpd.ta.* properties.
public struct TAProperties: Sendable {
    public var uuid: TEEUUID
    /// One instance serves every session (`TA_FLAG_SINGLE_INSTANCE`).
    public var singleInstance: Bool
    /// A single instance accepts several sessions at once (`TA_FLAG_MULTI_SESSION`).
    public var multiSession: Bool
    /// A single instance survives its last session (`TA_FLAG_INSTANCE_KEEP_ALIVE`).
    public var instanceKeepAlive: Bool
    public var dataSize: UInt32
    public var stackSize: UInt32
    public var version: String
    public var description: String
    /// Further properties the TA publishes (OP-TEE's `TA_CURRENT_TA_EXT_PROPERTIES`).
    public var extra: [String: PropertyValue]

    public init(uuid: TEEUUID, singleInstance: Bool = false, multiSession: Bool = false, instanceKeepAlive: Bool = false,
                dataSize: UInt32 = 32 * 1024, stackSize: UInt32 = 2 * 1024, version: String = "1.0",
                description: String = "", extra: [String: PropertyValue] = [:]) {
        self.uuid = uuid
        self.singleInstance = singleInstance
        self.multiSession = multiSession
        self.instanceKeepAlive = instanceKeepAlive
        self.dataSize = dataSize
        self.stackSize = stackSize
        self.version = version
        self.description = description
        self.extra = extra
    }
}

/// A trusted application: the five GP entry points. Entry points of one instance never run
/// concurrently; the runtime guarantees it.
///
/// A result is returned by throwing a `TEEResult` (success = returning normally); parameters
/// are `inout`, so output values and sizes set before a throw still reach the client (GP copies
/// them back whatever the result, e.g. the required size with SHORT_BUFFER).
public protocol TrustedApplication: AnyObject {
    /// Per-session state the TA keeps (GP's `sess_ctx`).
    associatedtype Session = Void

    static var properties: TAProperties { get }

    /// `TA_CreateEntryPoint`. `tee` is the TA's handle on the Internal API for its whole life.
    init(tee: TEE) throws(TEEResult)

    /// `TA_DestroyEntryPoint`.
    func destroy()

    /// `TA_OpenSessionEntryPoint`: may refuse by throwing.
    func openSession(_ params: inout Parameters) throws(TEEResult) -> Session

    /// `TA_CloseSessionEntryPoint`: cannot refuse.
    func closeSession(_ session: Session)

    /// `TA_InvokeCommandEntryPoint`.
    func invoke(_ session: Session, command: UInt32, _ params: inout Parameters) throws(TEEResult)
}

extension TrustedApplication {
    public func destroy() {}
}

extension TrustedApplication where Session == Void {
    public func openSession(_ params: inout Parameters) throws(TEEResult) {}
    public func closeSession(_ session: Void) {}
}

/// Per-session state a TA starts from nothing (`init()`): with it, `openSession` makes a fresh
/// one and `closeSession` lets it go, unless the TA says otherwise.
public protocol FreshSessionState: AnyObject {
    init()
}

extension TrustedApplication where Session: FreshSessionState {
    public func openSession(_ params: inout Parameters) throws(TEEResult) -> Session { Session() }
    public func closeSession(_ session: Session) {}
}

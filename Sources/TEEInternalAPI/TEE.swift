import Foundation

/// Who called the current entry point.
public struct ClientIdentity: Sendable, Hashable {
    public var login: Login
    /// The calling TA's UUID for TRUSTED_APP, else a UUID derived from the login (nil UUID for PUBLIC).
    public var uuid: TEEUUID

    public init(login: Login, uuid: TEEUUID) {
        self.login = login
        self.uuid = uuid
    }
}

/// What the TA runtime (the SecureWorld, or a test runtime) provides to the Internal API.
public protocol TARuntime: AnyObject, Sendable {
    /// The implementation's gpd.tee.* properties.
    var implementationProperties: [String: PropertyValue] { get }
    /// Ends the instance. In one process the whole process ends, with a message naming the TA.
    func panic(ta: TAProperties, code: UInt32, reason: String) -> Never
    /// Opens a session from TA `caller` to TA or pseudo-TA `uuid` (login TRUSTED_APP). After
    /// `timeout` ms (`TEE.timeoutInfinite`: never) the callee is asked to cancel (GP's
    /// cancellationRequestTimeout), as for every call below.
    func openTASession(caller: TEEUUID, target: TEEUUID, timeout: UInt32, params: inout Parameters) throws(TEEError) -> UInt32
    func invokeTASession(caller: TEEUUID, session: UInt32, command: UInt32, timeout: UInt32, params: inout Parameters) throws(TEEError)
    func closeTASession(caller: TEEUUID, session: UInt32)
    /// The TA's trusted storage in `space` (objects private to `ta`); ITEM_NOT_FOUND for a space
    /// this TEE does not have (RPMB without a device).
    func storage(for ta: TEEUUID, space: StorageSpace) throws(TEEResult) -> any TrustedStorageBackend
    /// Writes a line to the secure-world log.
    func log(ta: TAProperties, _ message: String)
}

extension TARuntime {
    /// The TA's storage on the REE file system (TEE_STORAGE_PRIVATE, and its persistent time).
    public func storage(for ta: TEEUUID) throws(TEEResult) -> any TrustedStorageBackend {
        try storage(for: ta, space: .ree)
    }
}

/// A result and where it came from, for calls that cross to another TA.
public struct TEEError: Error, Hashable, Sendable {
    public var result: TEEResult
    public var origin: ReturnOrigin
    public init(_ result: TEEResult, origin: ReturnOrigin) {
        self.result = result
        self.origin = origin
    }
}

/// The TA's handle on the Internal Core API: properties, panic, cancellation, sessions to other
/// TAs, trusted storage, time, random numbers, crypto operations. One per TA instance.
public final class TEE: @unchecked Sendable {
    // @unchecked: the mutable call state is set by the runtime around each entry point, and entry
    // points of one instance never run concurrently; `cancelFlag` is read across threads under a lock.
    public let properties: TAProperties
    public let runtime: any TARuntime
    /// The client of the entry point being run.
    public internal(set) var client = ClientIdentity(login: .public, uuid: .zero)
    private let cancelLock = NSLock()
    private var cancelRequested = false
    private var cancellationMasked = true

    public init(properties: TAProperties, runtime: any TARuntime) {
        self.properties = properties
        self.runtime = runtime
    }

    // MARK: Entry-point bracketing (called by the runtime)

    /// Runs an entry point with this TEE as the current one and `client` as the caller. The
    /// current TEE is a task-local value (a thread-local outside tasks): pushing it costs a
    /// pointer, where Foundation's thread dictionary cost a dictionary write per call.
    public func enter<R>(client: ClientIdentity, _ body: () throws(TEEResult) -> R) throws(TEEResult) -> R {
        self.client = client
        cancelLock.withLock {
            cancelRequested = false
            cancellationMasked = true
        }
        var outcome: Result<R, TEEResult>!
        Self.$running.withValue(self) {
            do throws(TEEResult) { outcome = .success(try body()) } catch { outcome = .failure(error) }
        }
        return try outcome.get()
    }

    /// `enter` for an entry point that returns nothing (invoke, close): not generic, so the hot
    /// path pays no generic-metadata lookup.
    public func enter(client: ClientIdentity, _ body: () throws(TEEResult) -> Void) throws(TEEResult) {
        self.client = client
        cancelLock.withLock {
            cancelRequested = false
            cancellationMasked = true
        }
        var failure: TEEResult?
        Self.$running.withValue(self) {
            do throws(TEEResult) { try body() } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Marks the current operation cancelled (a client's RequestCancellation).
    public func requestCancellation() {
        cancelLock.withLock { cancelRequested = true }
    }

    @TaskLocal static var running: TEE?

    /// The TEE of the entry point running on this thread, if one runs (for runtime services a
    /// TA's call reaches on its own thread, such as a pseudo-TA asking whether it was cancelled).
    public static var currentIfRunning: TEE? { running }

    /// The TEE of the entry point running on this thread.
    public static var current: TEE {
        guard let tee = running else {
            fatalError("rproc-tee: an Internal API function was called outside a TA entry point")
        }
        return tee
    }

    // MARK: Panic and logging

    /// `TEE_Panic`: the instance dies; its sessions answer TARGET_DEAD from then on.
    public func panic(_ code: UInt32, _ reason: String = "TEE_Panic called") -> Never {
        runtime.panic(ta: properties, code: code, reason: reason)
    }

    public func log(_ message: String) { runtime.log(ta: properties, message) }

    // MARK: Properties

    public func properties(_ set: PropertySet) -> PropertyReader {
        switch set {
        case .currentTA: PropertyReader(properties.gpdValues)
        case .currentClient: PropertyReader([
            "gpd.client.identity": .identity(login: client.login, uuid: client.uuid),
            "gpd.client.endian": .u32(0),
        ])
        case .implementation: PropertyReader(runtime.implementationProperties)
        }
    }

    // MARK: Cancellation

    /// `TEE_GetCancellationFlag`: false while cancellation is masked (the default).
    public var isCancelled: Bool { cancelLock.withLock { cancelRequested && !cancellationMasked } }

    /// `TEE_UnmaskCancellation` / `TEE_MaskCancellation`; returns the previous mask state.
    @discardableResult
    public func setCancellationMasked(_ masked: Bool) -> Bool {
        cancelLock.withLock {
            defer { cancellationMasked = masked }
            return cancellationMasked
        }
    }

    /// `TEE_Wait`: sleeps up to `milliseconds`; throws CANCEL early if the operation is cancelled
    /// while cancellation is unmasked.
    public func wait(milliseconds: UInt32) throws(TEEResult) {
        let deadline = Date().addingTimeInterval(Double(milliseconds) / 1000)
        while Date() < deadline {
            if isCancelled { throw .cancel }
            Thread.sleep(forTimeInterval: min(0.002, deadline.timeIntervalSinceNow.clamped(to: 0...0.002)))
        }
        if isCancelled { throw .cancel }
    }

    // MARK: Time

    /// `TEE_GetSystemTime`: monotonic since an arbitrary origin, in seconds and milliseconds.
    public var systemTime: (seconds: UInt32, milliseconds: UInt32) {
        let uptime = ProcessInfo.processInfo.systemUptime
        return (UInt32(uptime), UInt32((uptime - uptime.rounded(.down)) * 1000))
    }

    /// `TEE_GetTAPersistentTime`: the time this TA last set, advanced by the time passed since.
    /// TIME_NOT_SET before the first `setTAPersistentTime`, TIME_NEEDS_RESET if its record fails
    /// authentication (edited in the state folder); OVERFLOW once the seconds no longer
    /// fit 32 bits (`taPersistentTimeWrapping` hands out the truncated time with it, as GP). The
    /// time runs on the REE's clock (a simulator has no secure one): a normal world that moves
    /// its clock moves this time too.
    public func taPersistentTime() throws(TEEResult) -> (seconds: UInt32, milliseconds: UInt32) {
        let time = try taPersistentTimeWrapping()
        guard !time.overflowed else { throw .overflow }
        return (time.seconds, time.milliseconds)
    }

    /// `TEE_GetTAPersistentTime` as GP defines its OVERFLOW: the seconds truncated to 32 bits and
    /// `overflowed` set (a C TA gets TEE_ERROR_OVERFLOW with the truncated time filled in).
    public func taPersistentTimeWrapping() throws(TEEResult) -> (seconds: UInt32, milliseconds: UInt32, overflowed: Bool) {
        let offset = try storedTimeOffset()
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) &+ offset
        guard now >= 0 else { throw .timeNotSet }
        return (UInt32(truncatingIfNeeded: now / 1000), UInt32(now % 1000), now / 1000 > Int64(UInt32.max))
    }

    /// `TEE_SetTAPersistentTime`: this TA's persistent time is `seconds`.`milliseconds` now, and
    /// keeps running (it survives the instance and, with a state folder, the daemon).
    public func setTAPersistentTime(seconds: UInt32, milliseconds: UInt32) throws(TEEResult) {
        guard milliseconds < 1000 else { throw .badParameters }
        let wanted = Int64(seconds) * 1000 + Int64(milliseconds)
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        try runtime.storage(for: properties.uuid).storeTimeOffset(wanted &- now)
    }

    private func storedTimeOffset() throws(TEEResult) -> Int64 {
        let backend: any TrustedStorageBackend
        do { backend = try runtime.storage(for: properties.uuid) } catch { throw .timeNotSet }
        do { return try backend.loadTimeOffset() } catch {
            throw error == .itemNotFound ? .timeNotSet : error == .corruptObject ? .timeNeedsReset : error
        }
    }

    /// `TEE_GetREETime`: the normal world's wall clock.
    public var reeTime: (seconds: UInt32, milliseconds: UInt32) {
        let now = Date().timeIntervalSince1970
        return (UInt32(now), UInt32((now - now.rounded(.down)) * 1000))
    }

    // MARK: Sessions to other TAs

    /// GP's TEE_TIMEOUT_INFINITE: a call to another TA that is never cancelled for its duration.
    public static let timeoutInfinite: UInt32 = 0xFFFF_FFFF

    /// `TEE_OpenTASession`: login TRUSTED_APP, this TA's UUID as the identity. After `timeout`
    /// milliseconds the other TA is asked to cancel (it sees `isCancelled`, `wait` ends with CANCEL).
    public func openSession(_ uuid: TEEUUID, _ params: inout Parameters, timeout: UInt32 = TEE.timeoutInfinite) throws(TEEError) -> TASession {
        TASession(tee: self, handle: try runtime.openTASession(caller: properties.uuid, target: uuid, timeout: timeout, params: &params))
    }

    // MARK: Supplicant plugins

    /// OP-TEE's `tee_invoke_supp_plugin` (an OP-TEE extension of GP's API): runs `command` of
    /// the tee-supplicant plugin `plugin` in the normal world with `data`, whose first bytes come
    /// back as the plugin left them (at most `data.count`); returns the length the plugin
    /// reported. Throws the plugin's error, ITEM_NOT_FOUND if no plugin has that UUID,
    /// COMMUNICATION if no supplicant runs (Linux's driver's answer), OUT_OF_MEMORY above
    /// `SystemPTAInterface.maxPluginData` bytes. Through the system pseudo-TA, as libutee does.
    public func invokeSupplicantPlugin(_ plugin: TEEUUID, command: UInt32, subCommand: UInt32 = 0, data: inout [UInt8]) throws(TEEResult) -> Int {
        var none = Parameters.empty
        let system: TASession
        do { system = try openSession(SystemPTAInterface.uuid, &none) } catch { throw error.result }
        defer { system.close() }
        let buffer = data.isEmpty ? MemoryReference(buffer: nil, offset: 0, size: 0, direction: .memrefInout) : .privateInout(data)
        var params = Parameters(types: ParamTypes(.memrefInput, .valueInput, .memrefInout, .valueOutput),
                                params: [.memref(.privateInput(plugin.octets)), .value(a: command, b: subCommand), .memref(buffer), .value(a: 0, b: 0)])
        do {
            try system.invoke(SystemPTAInterface.Command.supplicantPluginInvoke.rawValue, &params)
        } catch {
            throw error.result
        }
        if !data.isEmpty { data = try params.memref(2).written() }
        return Int(params.value(3).a)
    }

    // MARK: Storage

    /// This TA's private trusted storage (TEE_STORAGE_PRIVATE: on the REE file system, as
    /// OP-TEE's default build has it).
    public var storage: TrustedStorage {
        get throws(TEEResult) { TrustedStorage(backend: try runtime.storage(for: properties.uuid)) }
    }

    /// The storage GP's `storageID` names: PRIVATE and PRIVATE_REE the REE file system's,
    /// PRIVATE_RPMB the one anchored in the RPMB device (ITEM_NOT_FOUND without one, and for
    /// every other id).
    public func storage(_ storageID: UInt32) throws(TEEResult) -> TrustedStorage {
        guard let space = StorageSpace(storageID: storageID) else { throw .itemNotFound }
        return TrustedStorage(backend: try runtime.storage(for: properties.uuid, space: space))
    }
}

/// A session this TA opened to another TA or pseudo-TA. Close it when done.
public final class TASession: @unchecked Sendable {
    let tee: TEE
    let handle: UInt32
    private var closed = false

    init(tee: TEE, handle: UInt32) {
        self.tee = tee
        self.handle = handle
    }

    /// `TEE_InvokeTACommand`: after `timeout` milliseconds the other TA is asked to cancel.
    public func invoke(_ command: UInt32, _ params: inout Parameters, timeout: UInt32 = TEE.timeoutInfinite) throws(TEEError) {
        guard !closed else { throw TEEError(.badState, origin: .api) }
        try tee.runtime.invokeTASession(caller: tee.properties.uuid, session: handle, command: command, timeout: timeout, params: &params)
    }

    /// `TEE_CloseTASession`.
    public func close() {
        guard !closed else { return }
        closed = true
        tee.runtime.closeTASession(caller: tee.properties.uuid, session: handle)
    }

    deinit { close() }
}

extension Double {
    func clamped(to range: ClosedRange<Double>) -> Double { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}

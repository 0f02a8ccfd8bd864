
/// Where a TA's persistent objects live. The runtime provides one per TA UUID, shared by all
/// instances of that TA; it stores each object's data encrypted and authenticated, and answers
/// CORRUPT_OBJECT for data changed outside the TEE.
public protocol TrustedStorageBackend: AnyObject, Sendable {
    func load(_ id: [UInt8]) throws(TEEResult) -> [UInt8]
    func store(_ id: [UInt8], _ data: [UInt8]) throws(TEEResult)
    func exists(_ id: [UInt8]) -> Bool
    func delete(_ id: [UInt8]) throws(TEEResult)
    /// Renames; ACCESS_CONFLICT if `to` exists.
    func rename(_ from: [UInt8], to: [UInt8]) throws(TEEResult)
    func list() throws(TEEResult) -> [[UInt8]]
    /// The open handles of this TA's objects, for GP's sharing rules.
    var handles: any ObjectHandles { get }
    /// The TA's persistent time as an offset in milliseconds from the REE's clock, kept beside
    /// its objects (not one of them); ITEM_NOT_FOUND while none was set.
    func loadTimeOffset() throws(TEEResult) -> Int64
    func storeTimeOffset(_ offset: Int64) throws(TEEResult)
}

/// GP's sharing rules over a TA's open object handles (one table per TA, whichever instance or
/// process opens the object).
public protocol ObjectHandles: AnyObject, Sendable {
    /// A token for a new handle on `id` with `flags`, or ACCESS_CONFLICT.
    func acquire(_ id: [UInt8], flags: DataFlags) throws(TEEResult) -> UInt64
    func release(_ id: [UInt8], token: UInt64)
    func move(_ from: [UInt8], to: [UInt8])
    func isOpenElsewhere(_ id: [UInt8], except token: UInt64) -> Bool
}

/// GP data-object flags (`TEE_DATA_FLAG_*`).
public struct DataFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let accessRead = DataFlags(rawValue: 0x1)
    public static let accessWrite = DataFlags(rawValue: 0x2)
    public static let accessWriteMeta = DataFlags(rawValue: 0x4)
    public static let shareRead = DataFlags(rawValue: 0x10)
    public static let shareWrite = DataFlags(rawValue: 0x20)
    public static let overwrite = DataFlags(rawValue: 0x400)
    static let known: DataFlags = [.accessRead, .accessWrite, .accessWriteMeta, .shareRead, .shareWrite, .overwrite]
}

/// Open handles by object id, with GP's compatibility rule: a new handle may open an object only
/// if every open handle shares what the new one accesses, and the new one shares what every open
/// handle accesses. ACCESS_WRITE_META (delete, rename) requires exclusive access.
public final class ObjectHandleTable: ObjectHandles {
    private let open = Locked<[[UInt8]: [UInt64: DataFlags]]>([:])
    private let next = Locked<UInt64>(1)

    public init() {}

    public func acquire(_ id: [UInt8], flags: DataFlags) throws(TEEResult) -> UInt64 {
        let token = next.withLock { n -> UInt64 in defer { n += 1 }; return n }
        let ok = open.withLock { table -> Bool in
            for existing in (table[id] ?? [:]).values {
                if flags.contains(.accessWriteMeta) || existing.contains(.accessWriteMeta) { return false }
                if flags.contains(.accessRead) && !existing.contains(.shareRead) { return false }
                if flags.contains(.accessWrite) && !existing.contains(.shareWrite) { return false }
                if existing.contains(.accessRead) && !flags.contains(.shareRead) { return false }
                if existing.contains(.accessWrite) && !flags.contains(.shareWrite) { return false }
            }
            table[id, default: [:]][token] = flags
            return true
        }
        guard ok else { throw .accessConflict }
        return token
    }

    public func release(_ id: [UInt8], token: UInt64) {
        open.withLock { table in
            table[id]?.removeValue(forKey: token)
            if table[id]?.isEmpty == true { table[id] = nil }
        }
    }

    public func move(_ from: [UInt8], to: [UInt8]) {
        open.withLock { table in
            if let handles = table.removeValue(forKey: from) { table[to] = handles }
        }
    }

    public func isOpenElsewhere(_ id: [UInt8], except token: UInt64) -> Bool {
        open.withLock { ($0[id] ?? [:]).keys.contains { $0 != token } }
    }
}

/// A TA's trusted storage (`TEE_STORAGE_PRIVATE`): persistent data objects, private to the TA.
public struct TrustedStorage: Sendable {
    public static let maxObjectIDLength = 64
    let backend: any TrustedStorageBackend

    /// GP: an object id is at most TEE_OBJECT_ID_MAX_LEN (64) bytes; the empty id is an id like
    /// any other (OP-TEE accepts it; xtest 6001 creates one).
    static func check(_ id: [UInt8]) throws(TEEResult) {
        guard id.count <= maxObjectIDLength else { throw .badParameters }
    }

    /// `TEE_CreatePersistentObject`: creates `id` with `initialData`. An existing
    /// object is replaced only with OVERWRITE, else ACCESS_CONFLICT. With `key` (an initialized
    /// transient object) it is a persistent key object: the key's type, sizes, usage and
    /// attributes are stored with it, and `keyObject()` gives the key back for an operation.
    public func create(_ id: [UInt8], flags: DataFlags, key: TransientObject? = nil, initialData: [UInt8] = []) throws(TEEResult) -> PersistentObject {
        try Self.check(id)
        guard DataFlags.known.isSuperset(of: flags) else { throw .badParameters }
        var record = StoredObject.dataObject(initialData)
        if let key {
            // GP: the attributes object must be initialized (else a panic in TEE_CreatePersistentObject).
            guard key.isInitialized else { TEE.current.panic(TEEResult.badState.rawValue, "TEE_CreatePersistentObject from an uninitialized object") }
            record.type = key.type
            record.keySize = UInt32(key.keySize)
            record.maxKeySize = UInt32(key.maxKeySize)
            record.usage = key.usage
            record.attributes = key.exportedAttributes()
        }
        if backend.exists(id) && !flags.contains(.overwrite) { throw .accessConflict }
        let token = try backend.handles.acquire(id, flags: flags.subtracting(.overwrite))
        do {
            try backend.store(id, record.encoded())
        } catch {
            backend.handles.release(id, token: token)
            throw error
        }
        return PersistentObject(backend: backend, id: id, flags: flags.subtracting(.overwrite), token: token, record: record)
    }

    /// `TEE_OpenPersistentObject`: ITEM_NOT_FOUND, ACCESS_CONFLICT (sharing rules) or
    /// CORRUPT_OBJECT (the stored data fails authentication).
    public func open(_ id: [UInt8], flags: DataFlags) throws(TEEResult) -> PersistentObject {
        try Self.check(id)
        guard DataFlags.known.subtracting(.overwrite).isSuperset(of: flags) else { throw .badParameters }
        guard backend.exists(id) else { throw .itemNotFound }
        let token = try backend.handles.acquire(id, flags: flags)
        let record: StoredObject
        do {
            record = try StoredObject.decode(try backend.load(id))
        } catch {
            backend.handles.release(id, token: token)
            throw error
        }
        return PersistentObject(backend: backend, id: id, flags: flags, token: token, record: record)
    }

    /// The ids of every object of this TA, in byte order (`PersistentObjectEnumerator` walks them
    /// GP's way).
    public func objectIDs() throws(TEEResult) -> [[UInt8]] {
        try backend.list().sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// `TEE_STORAGE_PRIVATE`: the one storage a TA has here.
    public static let privateStorageID: UInt32 = 0x1
    /// OP-TEE's `TEE_STORAGE_PRIVATE_REE`, which is what PRIVATE is on an OP-TEE built with its
    /// default REE file system: the same storage. (`TEE_STORAGE_PRIVATE_RPMB`, 0x80000100, and
    /// every other id name none: ITEM_NOT_FOUND, as on an OP-TEE without RPMB.)
    public static let reeStorageID: UInt32 = 0x8000_0000

    /// Whether a GP storage id names this TA's storage.
    public static func names(storageID: UInt32) -> Bool { storageID == privateStorageID || storageID == reeStorageID }

    /// The information GP's enumerator reports for object `id` (not opened: no data position, no
    /// access flags). ITEM_NOT_FOUND if it is gone, CORRUPT_OBJECT if it fails authentication.
    public func info(of id: [UInt8]) throws(TEEResult) -> PersistentObjectInfo {
        try Self.check(id)
        guard backend.exists(id) else { throw .itemNotFound }
        return PersistentObjectInfo(try StoredObject.decode(try backend.load(id)), dataPosition: 0, dataFlags: [])
    }
}

extension ObjectType {
    /// `TEE_TYPE_DATA`: a persistent object that holds data only.
    public static let data = ObjectType(rawValue: 0xA000_00BF)
}

/// `TEE_ObjectInfo` of a persistent object (`TEE_GetObjectInfo1`, and what
/// `TEE_GetNextPersistentObject` reports): its type (DATA for a data object) and key sizes, its
/// usage, the data's size and the handle's position, and the handle flags — PERSISTENT,
/// INITIALIZED and the data flags the handle was opened with, in one word as GP packs them.
public struct PersistentObjectInfo: Sendable, Hashable {
    public var objectType: ObjectType = .data
    public var objectSize: UInt32 = 0
    public var maxObjectSize: UInt32 = 0
    public var objectUsage: KeyUsage = .all
    public var dataSize: Int
    public var dataPosition: Int
    public var handleFlags: HandleFlags
    public var dataFlags: DataFlags

    public init(dataSize: Int, dataPosition: Int, handleFlags: HandleFlags, dataFlags: DataFlags) {
        (self.dataSize, self.dataPosition, self.handleFlags, self.dataFlags) = (dataSize, dataPosition, handleFlags, dataFlags)
    }

    init(_ record: StoredObject, dataPosition: Int, dataFlags: DataFlags) {
        self.init(dataSize: record.data.count, dataPosition: dataPosition, handleFlags: [.persistent, .initialized], dataFlags: dataFlags)
        objectType = record.type
        objectSize = record.keySize
        maxObjectSize = record.maxKeySize
        objectUsage = record.usage
    }

    /// GP's `handleFlags` word: the handle flags with the data flags in the low bits.
    public var handleFlagsWord: UInt32 { handleFlags.rawValue | dataFlags.rawValue }

    /// The 28 bytes of GP's `TEE_ObjectInfo` (seven little-endian u32s, as OP-TEE lays it out):
    /// objectType, objectSize, maxObjectSize, objectUsage, dataSize, dataPosition, handleFlags.
    public var bytes: [UInt8] {
        [objectType.rawValue, objectSize, maxObjectSize, objectUsage.rawValue, UInt32(clamping: dataSize), UInt32(clamping: dataPosition), handleFlagsWord]
            .flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    }
}

/// GP's persistent-object enumerator (`TEE_AllocatePersistentObjectEnumerator` … `Free`): a
/// snapshot of the TA's object ids taken at `start`, walked in byte order; objects deleted since
/// are skipped, objects created since are not seen until the next `start`.
public final class PersistentObjectEnumerator {
    private let storage: TrustedStorage
    private var pending: ArraySlice<[UInt8]>?

    /// `TEE_AllocatePersistentObjectEnumerator`.
    public init(storage: TrustedStorage) { self.storage = storage }

    /// `TEE_ResetPersistentObjectEnumerator`: back to the state after allocation.
    public func reset() { pending = nil }

    /// `TEE_StartPersistentObjectEnumerator`: ITEM_NOT_FOUND for a storage id that names no
    /// storage (`TrustedStorage.names(storageID:)`), or when it holds no object.
    public func start(storageID: UInt32 = TrustedStorage.privateStorageID) throws(TEEResult) {
        guard TrustedStorage.names(storageID: storageID) else { throw .itemNotFound }
        let ids = try storage.objectIDs()
        guard !ids.isEmpty else {
            pending = nil
            throw .itemNotFound
        }
        pending = ids[...]
    }

    /// `TEE_GetNextPersistentObject`: the next object's id and information; ITEM_NOT_FOUND
    /// before `start` and after the last one.
    public func next() throws(TEEResult) -> (id: [UInt8], info: PersistentObjectInfo) {
        while let id = pending?.popFirst() {
            do { return (id, try storage.info(of: id)) } catch where error == .itemNotFound { continue }
        }
        throw .itemNotFound
    }
}

/// An open handle on a persistent data object, with its own data position.
public final class PersistentObject: @unchecked Sendable {
    // @unchecked: a handle belongs to one TA instance, whose entry points never run concurrently.
    let backend: any TrustedStorageBackend
    public private(set) var id: [UInt8]
    public let flags: DataFlags
    let token: UInt64
    public private(set) var position = 0
    private var closed = false

    /// `record`: what was just stored or loaded for the object (kept as `record()` would).
    init(backend: any TrustedStorageBackend, id: [UInt8], flags: DataFlags, token: UInt64, record: StoredObject) {
        self.backend = backend
        self.id = id
        self.flags = flags
        self.token = token
        keep(record)
    }

    deinit { close() }

    private func live() throws(TEEResult) {
        guard !closed else { throw .badState }
    }

    /// The record as this handle last loaded or stored it, kept while no other handle can change
    /// the object: GP's sharing rules (`ObjectHandleTable.acquire`) let a handle write only if
    /// every other open handle shares writing, so a handle opened without SHARE_WRITE is the
    /// object's only writer while it is open, in every instance and process of its TA. It saves
    /// loading and authenticating the whole record for each read and write (xtest's storage
    /// benchmark reads and writes 1 MiB in 1 KiB chunks). Attacker: the REE, editing the file
    /// under an open handle — the handle goes on with the authentic record it loaded or wrote
    /// itself, and the next load (another handle, or this one after a record too large to
    /// keep) finds the change: CORRUPT_OBJECT. One way GP's rules (and OP-TEE's) leave open: a
    /// create with OVERWRITE and no access rights, sharing reading and writing, replaces the
    /// object under open handles; this handle then goes on with the record it had, as a file
    /// descriptor does with a file replaced by rename (it used to see the new object).
    private var kept: StoredObject?

    /// Records up to this size are kept (a TA's memory holds what its handles keep between
    /// calls; larger ones are loaded for each access, as before).
    static let maxKeptData = 4 << 20

    /// The object's record (metadata and data): the kept one, else loaded and authenticated.
    private func record() throws(TEEResult) -> StoredObject {
        if let kept { return kept }
        let r = try StoredObject.decode(try backend.load(id))
        keep(r)
        return r
    }

    private func keep(_ r: StoredObject) {
        kept = !flags.contains(.shareWrite) && r.data.count <= Self.maxKeptData ? r : nil
    }

    /// The record, to change and `commit`: no longer kept meanwhile, so changing its data does
    /// not copy it.
    private func recordToChange() throws(TEEResult) -> StoredObject {
        let r = try record()
        kept = nil
        return r
    }

    /// Stores `r` as the object's record (and keeps it).
    private func commit(_ r: StoredObject) throws(TEEResult) {
        try backend.store(id, r.encoded())
        keep(r)
    }

    public var dataSize: Int {
        get throws(TEEResult) {
            try live()
            return try record().data.count
        }
    }

    /// `TEE_GetObjectInfo1`.
    public var info: PersistentObjectInfo {
        get throws(TEEResult) {
            try live()
            return PersistentObjectInfo(try record(), dataPosition: position, dataFlags: flags)
        }
    }

    /// A persistent key object's key, for an operation (GP's TEE_SetOperationKey with a
    /// persistent handle): a transient copy, populated from the stored attributes with the
    /// stored usage. BAD_PARAMETERS for a data object; CORRUPT_OBJECT for a record whose key
    /// does not populate.
    public func keyObject() throws(TEEResult) -> TransientObject {
        try live()
        let r = try record()
        guard r.isKey else { throw .badParameters }
        let key = try TransientObject(type: r.type, maxKeySize: Int(r.maxKeySize))
        do { try key.populate(r.attributes) } catch { throw .corruptObject }
        key.restrictUsage(r.usage)
        return key
    }

    /// `TEE_RestrictObjectUsage1` on a persistent object: its stored usage becomes the
    /// intersection with `mask`. Needs ACCESS_WRITE_META (else ACCESS_CONFLICT; GP panics).
    public func restrictUsage(_ mask: KeyUsage) throws(TEEResult) {
        try live()
        guard flags.contains(.accessWriteMeta) else { throw .accessConflict }
        var r = try recordToChange()
        r.usage.formIntersection(mask)
        try commit(r)
    }

    /// `TEE_ReadObjectData`: up to `count` bytes from the position; fewer at the end.
    public func read(_ count: Int) throws(TEEResult) -> [UInt8] {
        try live()
        guard flags.contains(.accessRead) else { throw .accessConflict }
        let data = try record().data
        guard position < data.count else { return [] }
        let end = min(data.count, position + max(0, count))
        defer { position = end }
        return Array(data[position..<end])
    }

    /// `TEE_WriteObjectData`: writes at the position (zero-filling a gap past the end).
    public func write(_ bytes: [UInt8]) throws(TEEResult) {
        try live()
        guard flags.contains(.accessWrite) else { throw .accessConflict }
        var r = try recordToChange()
        if position > r.data.count { r.data += [UInt8](repeating: 0, count: position - r.data.count) }
        let end = position + bytes.count
        if end > r.data.count { r.data += [UInt8](repeating: 0, count: end - r.data.count) }
        r.data.replaceSubrange(position..<end, with: bytes)
        try commit(r)
        position = end
    }

    public enum Whence: Sendable { case set, current, end }

    /// `TEE_SeekObjectData`. A position before 0 or past 2^31 is OVERFLOW.
    public func seek(_ offset: Int, from whence: Whence) throws(TEEResult) {
        try live()
        let base: Int
        switch whence {
        case .set: base = 0
        case .current: base = position
        case .end: base = try record().data.count
        }
        let (target, overflow) = base.addingReportingOverflow(offset)
        guard !overflow, target >= 0, target <= Int(Int32.max) else { throw .overflow }
        position = target
    }

    /// `TEE_TruncateObjectData`: shortens or zero-extends.
    public func truncate(to size: Int) throws(TEEResult) {
        try live()
        guard flags.contains(.accessWrite) else { throw .accessConflict }
        guard size >= 0 else { throw .badParameters }
        var r = try recordToChange()
        if size < r.data.count { r.data.removeSubrange(size...) } else { r.data += [UInt8](repeating: 0, count: size - r.data.count) }
        try commit(r)
    }

    /// `TEE_RenamePersistentObject`: needs ACCESS_WRITE_META; ACCESS_CONFLICT if `newID` exists.
    public func rename(to newID: [UInt8]) throws(TEEResult) {
        try live()
        try TrustedStorage.check(newID)
        guard flags.contains(.accessWriteMeta) else { throw .accessConflict }
        try backend.rename(id, to: newID)
        backend.handles.move(id, to: newID)
        id = newID
    }

    /// `TEE_CloseAndDeletePersistentObject1`: needs ACCESS_WRITE_META.
    public func closeAndDelete() throws(TEEResult) {
        try live()
        guard flags.contains(.accessWriteMeta) else { throw .accessConflict }
        try backend.delete(id)
        close()
    }

    /// `TEE_CloseObject`.
    public func close() {
        guard !closed else { return }
        closed = true
        backend.handles.release(id, token: token)
    }
}

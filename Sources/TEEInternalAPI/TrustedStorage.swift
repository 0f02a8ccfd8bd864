
/// Where a TA's persistent objects live. The runtime provides one per TA UUID, shared by all
/// instances of that TA; it stores each object's record (`StoredObject`'s bytes: metadata, then
/// data) encrypted and authenticated, and answers CORRUPT_OBJECT for data changed outside the
/// TEE. Records are read and changed whole or by range: a range costs its blocks, not the record.
public protocol TrustedStorageBackend: AnyObject, Sendable {
    /// The whole record.
    func load(_ id: [UInt8]) throws(TEEResult) -> [UInt8]
    /// Creates or replaces the whole record, atomically.
    func store(_ id: [UInt8], _ data: [UInt8]) throws(TEEResult)
    /// The record's length.
    func size(_ id: [UInt8]) throws(TEEResult) -> Int
    /// Up to `count` bytes of the record from `offset` (fewer at its end, none past it).
    func read(_ id: [UInt8], at offset: Int, count: Int) throws(TEEResult) -> [UInt8]
    /// Writes `bytes` at `offset` of the record (a gap past its end reads as zeros), atomically.
    func write(_ id: [UInt8], at offset: Int, _ bytes: [UInt8]) throws(TEEResult)
    /// Cuts or zero-extends the record to `size`, atomically.
    func truncate(_ id: [UInt8], to size: Int) throws(TEEResult)
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

    /// The metadata of `id`'s record and where its data starts: a prefix is read (the whole
    /// record only for metadata longer than it, a large key's).
    static func metadata(_ backend: any TrustedStorageBackend, _ id: [UInt8]) throws(TEEResult) -> (StoredObject, dataStart: Int) {
        let prefix = try backend.read(id, at: 0, count: metadataPrefix)
        do {
            return try StoredObject.decodeMetadata(prefix)
        } catch where prefix.count == metadataPrefix {
            return try StoredObject.decodeMetadata(try backend.load(id))
        }
    }

    static let metadataPrefix = 8192

    /// `TEE_OpenPersistentObject`: ITEM_NOT_FOUND, ACCESS_CONFLICT (sharing rules) or
    /// CORRUPT_OBJECT (the stored data fails authentication).
    public func open(_ id: [UInt8], flags: DataFlags) throws(TEEResult) -> PersistentObject {
        try Self.check(id)
        guard DataFlags.known.subtracting(.overwrite).isSuperset(of: flags) else { throw .badParameters }
        guard backend.exists(id) else { throw .itemNotFound }
        let token = try backend.handles.acquire(id, flags: flags)
        do throws(TEEResult) {
            let (metadata, dataStart) = try Self.metadata(backend, id)
            let size = try backend.size(id)
            guard size >= dataStart else { throw TEEResult.corruptObject }
            return PersistentObject(backend: backend, id: id, flags: flags, token: token, metadata: metadata, dataStart: dataStart, dataSize: size - dataStart)
        } catch {
            backend.handles.release(id, token: token)
            throw error
        }
    }

    /// The ids of every object of this TA, in byte order (`PersistentObjectEnumerator` walks them
    /// GP's way).
    public func objectIDs() throws(TEEResult) -> [[UInt8]] {
        try backend.list().sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// `TEE_STORAGE_PRIVATE`: the REE file system's storage, as on OP-TEE's default build.
    public static let privateStorageID: UInt32 = 0x1
    /// OP-TEE's `TEE_STORAGE_PRIVATE_REE`: the same storage as PRIVATE.
    public static let reeStorageID: UInt32 = 0x8000_0000
    /// OP-TEE's `TEE_STORAGE_PRIVATE_RPMB`: a storage of its own, anchored in the RPMB device
    /// (`secure-world --rpmb`; without one ITEM_NOT_FOUND, as on an OP-TEE without RPMB).
    public static let rpmbStorageID: UInt32 = 0x8000_0100

    /// Whether a GP storage id names a storage (whether this TEE has it is the runtime's say).
    public static func names(storageID: UInt32) -> Bool { StorageSpace(storageID: storageID) != nil }

    /// The information GP's enumerator reports for object `id` (not opened: no data position, no
    /// access flags). ITEM_NOT_FOUND if it is gone, CORRUPT_OBJECT if it fails authentication.
    public func info(of id: [UInt8]) throws(TEEResult) -> PersistentObjectInfo {
        try Self.check(id)
        guard backend.exists(id) else { throw .itemNotFound }
        let (metadata, dataStart) = try Self.metadata(backend, id)
        let size = try backend.size(id)
        guard size >= dataStart else { throw .corruptObject }
        return PersistentObjectInfo(metadata, dataSize: size - dataStart, dataPosition: 0, dataFlags: [])
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

    init(_ record: StoredObject, dataSize: Int, dataPosition: Int, dataFlags: DataFlags) {
        self.init(dataSize: dataSize, dataPosition: dataPosition, handleFlags: [.persistent, .initialized], dataFlags: dataFlags)
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

/// Which of a TA's storages: the REE file system's (PRIVATE, PRIVATE_REE) or the RPMB-anchored
/// one (PRIVATE_RPMB).
public enum StorageSpace: UInt8, Sendable, Hashable {
    case ree = 0, rpmb = 1

    public init?(storageID: UInt32) {
        switch storageID {
        case TrustedStorage.privateStorageID, TrustedStorage.reeStorageID: self = .ree
        case TrustedStorage.rpmbStorageID: self = .rpmb
        default: return nil
        }
    }
}

/// GP's persistent-object enumerator (`TEE_AllocatePersistentObjectEnumerator` … `Free`): a
/// snapshot of the TA's object ids taken at `start`, walked in byte order; objects deleted since
/// are skipped, objects created since are not seen until the next `start`.
public final class PersistentObjectEnumerator {
    private let resolve: (UInt32) throws(TEEResult) -> TrustedStorage
    private var storage: TrustedStorage?
    private var pending: ArraySlice<[UInt8]>?

    /// `TEE_AllocatePersistentObjectEnumerator`: the storage is the one `start` names.
    public init(tee: TEE) { resolve = { (id: UInt32) throws(TEEResult) in try tee.storage(id) } }

    /// An enumerator of `storage` (the REE file system's: its storage ids only).
    public init(storage: TrustedStorage) {
        resolve = { (id: UInt32) throws(TEEResult) in
            guard StorageSpace(storageID: id) == .ree else { throw .itemNotFound }
            return storage
        }
    }

    /// `TEE_ResetPersistentObjectEnumerator`: back to the state after allocation.
    public func reset() { pending = nil }

    /// `TEE_StartPersistentObjectEnumerator`: ITEM_NOT_FOUND for a storage id that names no
    /// storage (`TrustedStorage.names(storageID:)`), or when it holds no object.
    public func start(storageID: UInt32 = TrustedStorage.privateStorageID) throws(TEEResult) {
        let storage = try resolve(storageID)
        self.storage = storage
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
        while let id = pending?.popFirst(), let storage {
            do { return (id, try storage.info(of: id)) } catch where error == .itemNotFound { continue }
        }
        throw .itemNotFound
    }
}

/// An open handle on a persistent data object, with its own data position. Reads and writes go
/// to the backend by range (a 1 KiB write to a 1 MiB object costs its block, not the object).
public final class PersistentObject: @unchecked Sendable {
    // @unchecked: a handle belongs to one TA instance, whose entry points never run concurrently.
    let backend: any TrustedStorageBackend
    public private(set) var id: [UInt8]
    public let flags: DataFlags
    let token: UInt64
    public private(set) var position = 0
    private var closed = false
    /// The object's metadata (type, key sizes, usage, attributes; no data). Only a handle with
    /// ACCESS_WRITE_META changes it, and such a handle is the object's only one (GP's sharing
    /// rules), so it holds for the handle's life.
    private var metadata: StoredObject
    /// Where the data starts in the record.
    private let dataStart: Int
    /// The data's size, kept while no other handle can change it: a handle opened without
    /// SHARE_WRITE is the object's only writer while it is open (`ObjectHandleTable.acquire`),
    /// in every instance and process of its TA; with SHARE_WRITE it is asked for each time. One
    /// way GP's rules (and OP-TEE's) leave open: a create with OVERWRITE and no access rights,
    /// sharing reading and writing, replaces the object under open handles, which then read
    /// the new record by their old bounds (the TA's own objects either way).
    private var knownSize: Int?

    /// `record`: what was just stored for the object.
    convenience init(backend: any TrustedStorageBackend, id: [UInt8], flags: DataFlags, token: UInt64, record: StoredObject) {
        var metadata = record
        metadata.data = []
        self.init(backend: backend, id: id, flags: flags, token: token, metadata: metadata, dataStart: metadata.encoded().count, dataSize: record.data.count)
    }

    init(backend: any TrustedStorageBackend, id: [UInt8], flags: DataFlags, token: UInt64, metadata: StoredObject, dataStart: Int, dataSize: Int) {
        self.backend = backend
        self.id = id
        self.flags = flags
        self.token = token
        self.metadata = metadata
        self.dataStart = dataStart
        knownSize = flags.contains(.shareWrite) ? nil : dataSize
    }

    deinit { close() }

    private func live() throws(TEEResult) {
        guard !closed else { throw .badState }
    }

    public var dataSize: Int {
        get throws(TEEResult) {
            try live()
            if let knownSize { return knownSize }
            let size = try backend.size(id) - dataStart
            guard size >= 0 else { throw .corruptObject }
            return size
        }
    }

    /// `TEE_GetObjectInfo1`.
    public var info: PersistentObjectInfo {
        get throws(TEEResult) {
            try live()
            return PersistentObjectInfo(metadata, dataSize: try dataSize, dataPosition: position, dataFlags: flags)
        }
    }

    /// A persistent key object's key, for an operation (GP's TEE_SetOperationKey with a
    /// persistent handle): a transient copy, populated from the stored attributes with the
    /// stored usage. BAD_PARAMETERS for a data object; CORRUPT_OBJECT for a record whose key
    /// does not populate.
    public func keyObject() throws(TEEResult) -> TransientObject {
        try live()
        guard metadata.isKey else { throw .badParameters }
        let key = try TransientObject(type: metadata.type, maxKeySize: Int(metadata.maxKeySize))
        do { try key.populate(metadata.attributes) } catch { throw .corruptObject }
        key.restrictUsage(metadata.usage)
        return key
    }

    /// `TEE_RestrictObjectUsage1` on a persistent object: its stored usage becomes the
    /// intersection with `mask`. Needs ACCESS_WRITE_META (else ACCESS_CONFLICT; GP panics).
    public func restrictUsage(_ mask: KeyUsage) throws(TEEResult) {
        try live()
        guard flags.contains(.accessWriteMeta) else { throw .accessConflict }
        var changed = metadata
        changed.usage.formIntersection(mask)
        // The usage is a fixed-size field: the metadata keeps its length, the data its place.
        try backend.write(id, at: 0, changed.encoded())
        metadata = changed
    }

    /// `TEE_ReadObjectData`: up to `count` bytes from the position; fewer at the end.
    public func read(_ count: Int) throws(TEEResult) -> [UInt8] {
        try live()
        guard flags.contains(.accessRead) else { throw .accessConflict }
        guard count > 0 else { return [] }
        if let knownSize, position >= knownSize { return [] }
        let bytes = try backend.read(id, at: dataStart + position, count: count)
        position += bytes.count
        return bytes
    }

    /// `TEE_WriteObjectData`: writes at the position (zero-filling a gap past the end).
    public func write(_ bytes: [UInt8]) throws(TEEResult) {
        try live()
        guard flags.contains(.accessWrite) else { throw .accessConflict }
        guard !bytes.isEmpty else { return }
        try backend.write(id, at: dataStart + position, bytes)
        position += bytes.count
        if let knownSize { self.knownSize = max(knownSize, position) }
    }

    public enum Whence: Sendable { case set, current, end }

    /// `TEE_SeekObjectData`. A position before 0 or past 2^31 is OVERFLOW.
    public func seek(_ offset: Int, from whence: Whence) throws(TEEResult) {
        try live()
        let base: Int
        switch whence {
        case .set: base = 0
        case .current: base = position
        case .end: base = try dataSize
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
        try backend.truncate(id, to: dataStart + size)
        if knownSize != nil { knownSize = size }
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

import OPTEETestTAInterface
import TEEInternalAPI

/// optee_test's `storage` TA in Swift (and `storage2`, the same code under another UUID, for
/// xtest 6015's isolation check): GP's trusted-storage API one command per function, so xtest's
/// 6000 series drives rproc-tee's `TrustedStorage` from the normal world. Written from what the
/// original (`ta/storage/storage.c`) does:
///
/// - object and enumerator handles live in per-instance tables (multi-instance, as the
///   original's TA_FLAGS 0); a handle is its 1-based slot, 0 is TEE_HANDLE_NULL, and a handle
///   that names nothing is a panic (the original dereferences it);
/// - storage ids PRIVATE and PRIVATE_REE name the TA's REE storage (what PRIVATE is on OP-TEE's
///   default build), PRIVATE_RPMB the RPMB-anchored one of a daemon with `--rpmb` (without one
///   ITEM_NOT_FOUND, as on an OP-TEE without RPMB);
/// - GP's panics: reading or writing without the access flag, renaming or deleting without
///   ACCESS_WRITE_META, an object id in the client's shared memory (the *_ID_IN_SHM commands);
/// - CREATE with an attributes handle makes a persistent key object from a transient object
///   (or from another persistent key object), KEY_IN_PERSISTENT runs the original's sequence
///   (a generated AES key made persistent, reopened, used to set up a cipher).
public class StorageTAImplementation: TrustedApplication {
    public class var properties: TAProperties {
        TAProperties(uuid: StorageTA.uuid, dataSize: 64 * 1024, stackSize: 32 * 1024, description: "storage (optee_test), GP trusted storage driver")
    }

    /// Slots each table may grow to. Attacker: a client opening objects in a loop; past this
    /// the TA answers OUT_OF_MEMORY, as the original when TEE_Malloc fails.
    static let maxHandles = 1024

    private let tee: TEE
    private var objects = HandleTable<AnyObject>(limit: maxHandles)
    private var enumerators = HandleTable<PersistentObjectEnumerator>(limit: maxHandles)

    public required init(tee: TEE) throws(TEEResult) {
        self.tee = tee
    }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = StorageTA.Command(rawValue: command) else { throw .badParameters }
        try run(command, &params)
    }

    // MARK: Handles

    /// A handle for `item`; OUT_OF_MEMORY when the table is full.
    private func put<T: AnyObject>(_ item: T, in table: inout HandleTable<T>) throws(TEEResult) -> UInt32 {
        guard let handle = table.insert(item) else { throw .outOfMemory }
        return handle
    }

    private func lookup<T: AnyObject>(_ handle: UInt32, in table: HandleTable<T>) -> T? { table.lookup(handle, tee, "storage TA") }

    private func persistent(_ handle: UInt32, _ function: String) -> PersistentObject {
        guard let object = lookup(handle, in: objects) as? PersistentObject else {
            tee.panic(TEEResult.badParameters.rawValue, "\(function): handle 0x\(String(handle, radix: 16)) is not a persistent object")
        }
        return object
    }

    private func transient(_ handle: UInt32, _ function: String) -> TransientObject? {
        guard handle != 0 else { return nil }
        guard let object = lookup(handle, in: objects) as? TransientObject else {
            tee.panic(TEEResult.badParameters.rawValue, "\(function): handle 0x\(String(handle, radix: 16)) is not a transient object")
        }
        return object
    }

    private func enumerator(_ handle: UInt32, _ function: String) -> PersistentObjectEnumerator {
        guard let e = lookup(handle, in: enumerators) else { tee.panic(TEEResult.badParameters.rawValue, "\(function): TEE_HANDLE_NULL as an enumerator") }
        return e
    }

    /// GP's rule for the data functions: what they may return is returned, anything else panics.
    private func gp(_ function: String, allowed: [TEEResult], _ body: () throws(TEEResult) -> Void) throws(TEEResult) {
        do { try body() } catch {
            guard allowed.contains(error) else { tee.panic(error.rawValue, "\(function) failed with 0x\(String(error.rawValue, radix: 16))") }
            throw error
        }
    }

    private static let dataFailures: [TEEResult] = [.corruptObject, .storageNotAvailable]

    /// The object id of a memref the TA copied in (the original's TEE_MemMove into TEE_Malloc'd
    /// memory). A NULL buffer is an empty id (which TrustedStorage refuses: BAD_PARAMETERS).
    private static func objectID(_ m: MemoryReference) throws(TEEResult) -> [UInt8] {
        m.isNull ? [] : try m.read()
    }

    /// The *_ID_IN_SHM commands hand GP the id where it lies: the client's shared memory. GP
    /// (and OP-TEE) require an id in TA memory and panic the TA.
    private func refuseSharedID(_ function: String) -> Never {
        tee.panic(TEEResult.accessConflict.rawValue, "\(function): the object id lies in memory shared with the client")
    }

    private func storage(_ id: UInt32) throws(TEEResult) -> TrustedStorage {
        try tee.storage(id)
    }

    /// The attributes object of TEE_CreatePersistentObject: none (a data object), a transient
    /// key, or another persistent key object's key.
    private func keySource(_ handle: UInt32, _ function: String) throws(TEEResult) -> TransientObject? {
        guard handle != 0 else { return nil }
        if let persistent = lookup(handle, in: objects) as? PersistentObject {
            var key: TransientObject?
            try gp(function, allowed: Self.dataFailures) { () throws(TEEResult) in key = try persistent.keyObject() }
            return key
        }
        return transient(handle, function)
    }

    /// The original's KEY_IN_PERSISTENT: a 256-bit AES key generated, stored as a persistent
    /// object whose information matches the key's, deleted, stored again, reopened (the same
    /// information again) and used to set up AES-CBC encryption. GENERIC where the original
    /// finds two informations that differ.
    private func keyInPersistent(_ store: TrustedStorage) throws(TEEResult) {
        let id: [UInt8] = [1, 0, 0, 0]   // the original's uint32_t objectID = 1
        let flags: DataFlags = [.accessRead, .accessWrite, .accessWriteMeta, .shareRead, .shareWrite]
        func same(_ a: ObjectInfo, _ b: PersistentObjectInfo) -> Bool {
            a.objectType == b.objectType && a.objectSize == b.objectSize && a.maxObjectSize == b.maxObjectSize && a.objectUsage == b.objectUsage
        }
        let transientKey = try TransientObject(type: .aes, maxKeySize: 256)
        try transientKey.generateKey(size: 256)
        let first = try store.create(id, flags: flags, key: transientKey)
        guard same(transientKey.info, try first.info) else { throw .generic }
        try first.closeAndDelete()
        try store.create(id, flags: flags, key: transientKey).close()
        let key = try store.open(id, flags: flags)
        defer { try? key.closeAndDelete() }
        guard same(transientKey.info, try key.info) else { throw .generic }
        let operation = try CryptoOperation(algorithm: .aesCBCNoPad, mode: .encrypt, maxKeySize: Int(try key.info.maxObjectSize))
        operation.setKey(try key.keyObject())
        try operation.cipherInit(iv: [UInt8](repeating: 0, count: 16))
    }

    // MARK: Commands

    private func run(_ command: StorageTA.Command, _ params: inout Parameters) throws(TEEResult) {
        switch command {
        case .open, .openIDInSHM:
            try params.require(ParamTypes(.memrefInput, .valueInout, .valueInput))
            if command == .openIDInSHM { refuseSharedID("TEE_OpenPersistentObject") }
            let id = try Self.objectID(params.memref(0))
            let flags = DataFlags(rawValue: params.value(1).a)
            params.setValue(1, a: flags.rawValue, b: 0)
            let object = try storage(params.value(2).a).open(id, flags: flags)
            params.setValue(1, a: flags.rawValue, b: try put(object, in: &objects))

        case .create, .createIDInSHM:
            try params.require(ParamTypes(.memrefInput, .valueInout, .valueInput, .memrefInput))
            if command == .createIDInSHM { refuseSharedID("TEE_CreatePersistentObject") }
            let id = try Self.objectID(params.memref(0))
            let flags = DataFlags(rawValue: params.value(1).a)
            params.setValue(1, a: flags.rawValue, b: 0)
            let (attributes, storageID) = params.value(2)
            let key = try keySource(attributes, "TEE_CreatePersistentObject")
            let data = params.memref(3).isNull ? [] : try params.memref(3).read()
            let object = try storage(storageID).create(id, flags: flags, key: key, initialData: data)
            params.setValue(1, a: flags.rawValue, b: try put(object, in: &objects))

        case .createOverwrite, .createOverwriteIDInSHM:
            try params.require(ParamTypes(.memrefInput, .valueInput))
            if command == .createOverwriteIDInSHM { refuseSharedID("TEE_CreatePersistentObject") }
            try storage(params.value(1).a).create(try Self.objectID(params.memref(0)), flags: .overwrite).close()

        case .close:
            try params.require(ParamTypes(.valueInput))
            let handle = params.value(0).a
            guard handle != 0 else { return }
            if let object = objects.remove(handle, tee, "TEE_CloseObject") as? PersistentObject { object.close() }

        case .read:
            try params.require(ParamTypes(.memrefOutput, .valueInout))
            let object = persistent(params.value(1).a, "TEE_ReadObjectData")
            guard object.flags.contains(.accessRead) else { tee.panic(TEEResult.accessConflict.rawValue, "TEE_ReadObjectData: not opened with ACCESS_READ") }
            var data: [UInt8] = []
            let capacity = params.memref(0).capacity
            try gp("TEE_ReadObjectData", allowed: Self.dataFailures) { () throws(TEEResult) in data = try object.read(capacity) }
            params.setValue(1, a: params.value(1).a, b: UInt32(data.count))
            // The original copies its whole buffer back: the memref keeps its size.
            try params.withMemref(0) { (m) throws(TEEResult) in
                if !m.isNull { try m.write(data + [UInt8](repeating: 0, count: capacity - data.count)) }
                m.size = capacity
            }

        case .write:
            try params.require(ParamTypes(.memrefInput, .valueInput))
            let object = persistent(params.value(1).a, "TEE_WriteObjectData")
            guard object.flags.contains(.accessWrite) else { tee.panic(TEEResult.accessConflict.rawValue, "TEE_WriteObjectData: not opened with ACCESS_WRITE") }
            let data = params.memref(0).isNull ? [] : try params.memref(0).read()
            try gp("TEE_WriteObjectData", allowed: Self.dataFailures + [.storageNoSpace, .overflow]) { () throws(TEEResult) in try object.write(data) }

        case .seek:
            try params.require(ParamTypes(.valueInput, .valueInout))
            let object = persistent(params.value(0).a, "TEE_SeekObjectData")
            let offset = Int(Int32(bitPattern: params.value(0).b))
            let whence: PersistentObject.Whence
            switch params.value(1).a {
            case 0: whence = .set
            case 1: whence = .current
            case 2: whence = .end
            default: tee.panic(TEEResult.badParameters.rawValue, "TEE_SeekObjectData: whence \(params.value(1).a)")
            }
            try gp("TEE_SeekObjectData", allowed: Self.dataFailures + [.overflow]) { () throws(TEEResult) in try object.seek(offset, from: whence) }
            params.setValue(1, a: params.value(1).a, b: UInt32(clamping: try object.info.dataPosition))

        case .unlink:
            try params.require(ParamTypes(.valueInput))
            let handle = params.value(0).a
            guard handle != 0 else { return }
            let object = persistent(handle, "TEE_CloseAndDeletePersistentObject1")
            guard object.flags.contains(.accessWriteMeta) else { tee.panic(TEEResult.accessConflict.rawValue, "TEE_CloseAndDeletePersistentObject1: not opened with ACCESS_WRITE_META") }
            // The handle is gone whatever the result (GP: the object is closed in any case).
            objects.remove(handle, tee, "TEE_CloseAndDeletePersistentObject1")
            try gp("TEE_CloseAndDeletePersistentObject1", allowed: [.storageNotAvailable]) { () throws(TEEResult) in try object.closeAndDelete() }

        case .rename, .renameIDInSHM:
            try params.require(ParamTypes(.valueInput, .memrefInput))
            let object = persistent(params.value(0).a, "TEE_RenamePersistentObject")
            if command == .renameIDInSHM { refuseSharedID("TEE_RenamePersistentObject") }
            guard object.flags.contains(.accessWriteMeta) else { tee.panic(TEEResult.accessConflict.rawValue, "TEE_RenamePersistentObject: not opened with ACCESS_WRITE_META") }
            let id = try Self.objectID(params.memref(1))
            try gp("TEE_RenamePersistentObject", allowed: Self.dataFailures + [.accessConflict, .badParameters]) { () throws(TEEResult) in try object.rename(to: id) }

        case .trunc:
            try params.require(ParamTypes(.valueInput))
            let object = persistent(params.value(0).a, "TEE_TruncateObjectData")
            guard object.flags.contains(.accessWrite) else { tee.panic(TEEResult.accessConflict.rawValue, "TEE_TruncateObjectData: not opened with ACCESS_WRITE") }
            let size = Int(params.value(0).b)
            try gp("TEE_TruncateObjectData", allowed: Self.dataFailures + [.storageNoSpace]) { () throws(TEEResult) in try object.truncate(to: size) }

        case .allocEnum:
            try params.require(ParamTypes(.valueOutput))
            params.setValue(0, a: try put(PersistentObjectEnumerator(tee: tee), in: &enumerators))

        case .freeEnum:
            try params.require(ParamTypes(.valueInput))
            let handle = params.value(0).a
            guard handle != 0 else { return }
            enumerators.remove(handle, tee, "TEE_FreePersistentObjectEnumerator")

        case .resetEnum:
            try params.require(ParamTypes(.valueInput))
            enumerator(params.value(0).a, "TEE_ResetPersistentObjectEnumerator").reset()

        case .startEnum:
            try params.require(ParamTypes(.valueInput))
            try enumerator(params.value(0).a, "TEE_StartPersistentObjectEnumerator").start(storageID: params.value(0).b)

        case .nextEnum:
            // The info memref is optional (NONE: the caller only wants ids).
            let withInfo = params.types[1] == .memrefOutput
            guard params.types[0] == .valueInput, params.types[2] == .memrefOutput, params.types[3] == .none,
                  withInfo || params.types[1] == .none else { throw .badParameters }
            let e = enumerator(params.value(0).a, "TEE_GetNextPersistentObject")
            guard params.memref(2).capacity >= TrustedStorage.maxObjectIDLength else { throw .shortBuffer }
            if withInfo, params.memref(1).capacity < 28 {
                try params.withMemref(1) { (m) throws(TEEResult) in m.size = 28 }
                throw .shortBuffer
            }
            let (id, info) = try e.next()
            try params.withMemref(2) { (m) throws(TEEResult) in try m.write(id) }
            if withInfo { try params.withMemref(1) { (m) throws(TEEResult) in try m.write(info.bytes) } }

        case .keyInPersistent:
            try params.require(ParamTypes(.valueInput))
            try keyInPersistent(storage(params.value(0).a))

        case .loop:
            try params.require(ParamTypes(.valueInput))
            let store = try storage(params.value(0).a)
            for i in 0..<20 {
                let id = (0..<4).map { UInt8(truncatingIfNeeded: UInt32(i) >> (8 * $0)) }   // the original's int id
                try store.create(id, flags: [.overwrite, .accessWriteMeta]).closeAndDelete()
            }

        case .restrictUsage:
            try params.require(ParamTypes(.valueInput))
            let handle = params.value(0).a
            guard handle != 0 else { return }
            let usage = KeyUsage(rawValue: params.value(0).b)
            if let object = lookup(handle, in: objects) as? PersistentObject {
                guard object.flags.contains(.accessWriteMeta) else { tee.panic(TEEResult.accessConflict.rawValue, "TEE_RestrictObjectUsage1: a persistent object not opened with ACCESS_WRITE_META") }
                try gp("TEE_RestrictObjectUsage1", allowed: Self.dataFailures) { () throws(TEEResult) in try object.restrictUsage(usage) }
                return
            }
            guard let object = transient(handle, "TEE_RestrictObjectUsage1") else { return }
            object.restrictUsage(usage)

        case .allocObj:
            try params.require(ParamTypes(.valueInput, .valueOutput))
            let (type, maxSize) = params.value(0)
            params.setValue(1, a: try put(try TransientObject(type: ObjectType(rawValue: type), maxKeySize: Int(maxSize)), in: &objects))

        case .freeObj:
            try params.require(ParamTypes(.valueInput))
            let handle = params.value(0).a
            guard transient(handle, "TEE_FreeTransientObject") != nil else { return }
            objects.remove(handle, tee, "TEE_FreeTransientObject")

        case .resetObj:
            try params.require(ParamTypes(.valueInput))
            transient(params.value(0).a, "TEE_ResetTransientObject")?.reset()

        case .getObjInfo:
            try params.require(ParamTypes(.valueInput, .memrefOutput))
            guard params.memref(1).capacity >= 28 else { throw .shortBuffer }
            let handle = params.value(0).a
            let bytes: [UInt8]
            if let object = lookup(handle, in: objects) as? PersistentObject {
                var info = PersistentObjectInfo(dataSize: 0, dataPosition: 0, handleFlags: [], dataFlags: [])
                try gp("TEE_GetObjectInfo1", allowed: Self.dataFailures) { () throws(TEEResult) in info = try object.info }
                bytes = info.bytes
            } else if let object = transient(handle, "TEE_GetObjectInfo1") {
                // A transient object in GP's layout: no data stream (size and position 0).
                let i = object.info
                var info = PersistentObjectInfo(dataSize: 0, dataPosition: 0, handleFlags: i.handleFlags, dataFlags: [])
                (info.objectType, info.objectSize, info.maxObjectSize, info.objectUsage) = (i.objectType, i.objectSize, i.maxObjectSize, i.objectUsage)
                bytes = info.bytes
            } else {
                tee.panic(TEEResult.badParameters.rawValue, "TEE_GetObjectInfo1: TEE_HANDLE_NULL")
            }
            try params.withMemref(1) { (m) throws(TEEResult) in try m.write(bytes) }

        case .clearStorage:
            try params.require(ParamTypes())
            // As the original: the REE storage, then RPMB's (when this TEE has one).
            for storageID in [TrustedStorage.reeStorageID, TrustedStorage.rpmbStorageID] {
                let store: TrustedStorage
                do { store = try tee.storage(storageID) } catch where error == .itemNotFound { continue }
                let walker = PersistentObjectEnumerator(storage: store)
                do { try walker.start(storageID: TrustedStorage.reeStorageID) } catch where error == .itemNotFound { continue }
                while true {
                    let id: [UInt8]
                    do { id = try walker.next().id } catch where error == .itemNotFound { break }
                    try store.open(id, flags: .accessWriteMeta).closeAndDelete()
                }
            }
        }
    }
}

/// optee_test's `storage2`: the same TA under another UUID (xtest 6015: a TA cannot see another
/// TA's objects).
public final class Storage2TAImplementation: StorageTAImplementation {
    public override class var properties: TAProperties {
        TAProperties(uuid: StorageTA.uuid2, dataSize: 64 * 1024, stackSize: 32 * 1024, description: "storage2 (optee_test), GP trusted storage driver")
    }
}

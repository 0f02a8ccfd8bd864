import TEECore

/// The interface of optee_test's `storage` and `storage2` TAs (`ta/include/ta_storage.h`): their
/// UUIDs and command ids carry over, so xtest's 6000 series drives rproc-tee's port unmodified.
/// Object and enumerator handles cross as 1-based table indexes (0 = TEE_HANDLE_NULL).
public enum StorageTA {
    public static let uuid: TEEUUID = "b689f2a7-8adf-477a-9f99-32e90c0ad0a2"
    public static let uuid2: TEEUUID = "731e279e-aafb-4575-a771-38caa6f0cca6"

    public enum Command: UInt32, CaseIterable, Sendable {
        /// [in] memref id; [inout] value a = flags, b = handle out; [in] value a = storage id.
        case open = 0
        /// [in] value a = handle (persistent or transient; 0 does nothing).
        case close = 1
        /// [out] memref buffer; [inout] value a = handle, b = bytes read out.
        case read = 2
        /// [in] memref data; [in] value a = handle.
        case write = 3
        /// [in] memref id; [inout] value a = flags, b = handle out; [in] value a = attributes
        /// handle (0: a data object), b = storage id; [in] memref initial data.
        case create = 4
        /// [in] value a = handle, b = offset (Int32); [inout] value a = whence, b = position out.
        case seek = 5
        /// [in] value a = handle: TEE_CloseAndDeletePersistentObject1.
        case unlink = 6
        /// [in] value a = handle; [in] memref new id.
        case rename = 7
        /// [in] value a = handle, b = size.
        case trunc = 8
        /// [out] value a = enumerator handle.
        case allocEnum = 9
        /// [in] value a = enumerator handle.
        case freeEnum = 10, resetEnum = 11
        /// [in] value a = enumerator, b = storage id.
        case startEnum = 12
        /// [in] value a = enumerator; [out] memref TEE_ObjectInfo (28 bytes) or NONE; [out] memref id (≥ 64 bytes).
        case nextEnum = 13
        /// [in] memref id; [in] value a = storage id: created with OVERWRITE and closed.
        case createOverwrite = 14
        /// [in] value a = storage id: a generated AES key stored as a persistent object.
        case keyInPersistent = 15
        /// [in] value a = storage id: 20 × create and delete.
        case loop = 16
        /// [in] value a = handle, b = usage.
        case restrictUsage = 17
        /// [in] value a = object type, b = max size; [out] value a = handle.
        case allocObj = 18
        /// [in] value a = handle.
        case freeObj = 19, resetObj = 20
        /// [in] value a = handle; [out] memref TEE_ObjectInfo (28 bytes).
        case getObjInfo = 21
        /// The same as open, create, createOverwrite and rename, with the object id read where
        /// it lies — the client's shared memory, which GP forbids: the TA panics.
        case openIDInSHM = 22, createIDInSHM = 23, createOverwriteIDInSHM = 24, renameIDInSHM = 25
        /// No parameters: deletes every object of the TA in OP-TEE's REE and RPMB storages.
        case clearStorage = 26
    }

    /// OP-TEE's storage ids xtest tries: PRIVATE, PRIVATE_REE, PRIVATE_RPMB.
    public static let storagePrivate: UInt32 = 0x1, storagePrivateREE: UInt32 = 0x8000_0000, storagePrivateRPMB: UInt32 = 0x8000_0100
}

import Foundation
import TEEInternalAPI

/// The highest version seen of every native TA and TA-signing subkey, as OP-TEE keeps it
/// (`ta_ver.db` and `subkey_ver.db` in `ree_fs_ta.c`): a TA file signed with a lower version
/// than one already loaded is refused — ACCESS_CONFLICT for a TA or TA library, SECURITY for a
/// subkey — so that an old, vulnerable build cannot be put back once a fixed one has run.
///
/// Each database is a record of the core's own sealed storage (`<state>/core/`, where no TA's
/// storage is: a TA whatever its UUID cannot reach it), AES-GCM under a key derived from the
/// device secret; its contents: u32 count, then count × (16 UUID octets, u32 version), little
/// endian, sorted by UUID. It is as rollback-proof as that storage: restoring the state folder
/// restores the versions (OP-TEE's warning is the same: effective only on RPMB).
public final class TAVersionDatabase: @unchecked Sendable {
    // @unchecked: `lock` serializes every read-check-write.
    public enum Kind: String, Sendable {
        case ta = "ta_ver.db"
        case subkey = "subkey_ver.db"

        /// OP-TEE's answer to a version below the one recorded.
        var rollback: TEEResult { self == .ta ? .accessConflict : .security }
    }

    private let storage: any TrustedStorageBackend
    private let lock = NSLock()
    /// Attacker: none can write the record (it is sealed); bounded all the same.
    static let maxEntries = 65536
    static let entrySize = 20

    init(storage: any TrustedStorageBackend) {
        self.storage = storage
    }

    /// Checks `version` of `uuid` (RFC 4122 octets) against the highest recorded; records it
    /// when it is higher (or new). Throws the kind's rollback result, or the storage's error.
    public func check(_ kind: Kind, uuid: [UInt8], version: UInt32) throws(TEEResult) {
        lock.lock()
        defer { lock.unlock() }
        var entries = try load(kind)
        if let recorded = entries[uuid] {
            guard recorded <= version else { throw kind.rollback }
            if recorded == version { return }
        }
        guard entries.count < Self.maxEntries || entries[uuid] != nil else { throw .storageNoSpace }
        entries[uuid] = version
        try store(kind, entries)
    }

    /// The recorded version of `uuid`, if any.
    public func version(_ kind: Kind, uuid: [UInt8]) throws(TEEResult) -> UInt32? {
        lock.lock()
        defer { lock.unlock() }
        return try load(kind)[uuid]
    }

    private func load(_ kind: Kind) throws(TEEResult) -> [[UInt8]: UInt32] {
        let bytes: [UInt8]
        do {
            bytes = try storage.load(Array(kind.rawValue.utf8))
        } catch .itemNotFound {
            return [:]
        }
        guard bytes.count >= 4 else { throw .corruptObject }
        let count = Int(UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
        guard count <= Self.maxEntries, bytes.count == 4 + count * Self.entrySize else { throw .corruptObject }
        var entries: [[UInt8]: UInt32] = [:]
        for i in 0..<count {
            let at = 4 + i * Self.entrySize
            let v = bytes[at + 16..<at + 20].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            entries[Array(bytes[at..<at + 16])] = v
        }
        return entries
    }

    private func store(_ kind: Kind, _ entries: [[UInt8]: UInt32]) throws(TEEResult) {
        var bytes = le32(UInt32(entries.count))
        for (uuid, version) in entries.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            bytes += uuid + le32(version)
        }
        try storage.store(Array(kind.rawValue.utf8), bytes)
    }

    private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
}

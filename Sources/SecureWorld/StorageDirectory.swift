import Foundation
import TEECrypto
import TEEInternalAPI

/// A TA's authenticated directory of trusted storage (format v3, README "Trusted storage"): which
/// objects exist and which version of each is current, with the tag of the file that holds it,
/// and a generation counted up by every change. Sealed as one record (`FileStorage`), so a single
/// object file restored, swapped or deleted, or the directory restored alone, no longer matches
/// it: CORRUPT_OBJECT.
///
/// ```
/// "RPD3"   magic
/// u64      generation (the directory's changes so far)
/// u32      count
/// count ×  u16 id length (0…64), id, u64 version, 16-byte tag of the object's file
/// u8       1 if the TA's persistent time is set (then i64: its offset from the REE's clock, ms)
/// ```
/// little-endian, entries sorted by id, nothing after the last field. The persistent time lives
/// here so that rolling it back is rolling the directory back.
public struct StorageDirectory: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        /// The generation the object was last written in (its file's name and AAD carry it).
        public var version: UInt64
        /// The GCM tag of the file holding that version.
        public var tag: [UInt8]

        public init(version: UInt64, tag: [UInt8]) {
            self.version = version
            self.tag = tag
        }
    }

    public var generation: UInt64
    public var entries: [[UInt8]: Entry]
    /// TEE_SetTAPersistentTime's offset from the REE's clock in milliseconds; nil: not set.
    public var timeOffset: Int64?

    public init(generation: UInt64 = 0, entries: [[UInt8]: Entry] = [:], timeOffset: Int64? = nil) {
        self.generation = generation
        self.entries = entries
        self.timeOffset = timeOffset
    }

    static let magic = Array("RPD3".utf8)
    /// GP's TEE_OBJECT_ID_MAX_LEN.
    public static let maxIDLength = 64
    public static let tagLength = 16
    /// Objects one TA may keep (a bound on the record, not a GP limit).
    public static let maxEntries = 1 << 20

    public func encoded() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(16 + entries.count * 96)
        append64(&out, generation)
        append32(&out, UInt32(entries.count))
        for (id, entry) in entries.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out += [UInt8(truncatingIfNeeded: id.count), UInt8(truncatingIfNeeded: id.count >> 8)]
            out += id
            append64(&out, entry.version)
            out += entry.tag
        }
        if let timeOffset {
            out.append(1)
            append64(&out, UInt64(bitPattern: timeOffset))
        } else {
            out.append(0)
        }
        return out
    }

    /// Attacker: whoever can write the state folder cannot forge the sealed record, but the
    /// decoder stands on its own (fuzzed, `FuzzStorageDirectory`): every length is checked
    /// against what is left, ids against GP's bound, entries against `maxEntries`, the order and
    /// uniqueness of ids, and nothing may follow the last entry. Anything else: CORRUPT_OBJECT.
    public static func decode(_ bytes: [UInt8]) throws(TEEResult) -> StorageDirectory {
        var at = 0
        func take(_ n: Int) throws(TEEResult) -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - at >= n else { throw .corruptObject }
            defer { at += n }
            return bytes[at..<at + n]
        }
        func u64() throws(TEEResult) -> UInt64 { try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        guard Array(try take(4)) == magic else { throw .corruptObject }
        let generation = try u64()
        let count = Int(try take(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard count <= maxEntries else { throw .corruptObject }
        var entries: [[UInt8]: Entry] = [:]
        var previous: [UInt8]?
        for _ in 0..<count {
            let lengthBytes = try take(2)
            let length = Int(lengthBytes[lengthBytes.startIndex]) | Int(lengthBytes[lengthBytes.startIndex + 1]) << 8
            guard length <= maxIDLength else { throw .corruptObject }
            let id = Array(try take(length))
            if let previous, !previous.lexicographicallyPrecedes(id) { throw .corruptObject }
            let version = try u64()
            guard version <= generation else { throw .corruptObject }
            entries[id] = Entry(version: version, tag: Array(try take(tagLength)))
            previous = id
        }
        var timeOffset: Int64?
        switch try take(1).first {
        case 0: break
        case 1: timeOffset = Int64(bitPattern: try u64())
        default: throw .corruptObject
        }
        guard at == bytes.count else { throw .corruptObject }
        return StorageDirectory(generation: generation, entries: entries, timeOffset: timeOffset)
    }

    private func append64(_ out: inout [UInt8], _ v: UInt64) { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    private func append32(_ out: inout [UInt8], _ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
}

/// The generation of every TA's storage directory, one sealed record per storage folder
/// (`<folder>/root.rpr`, AES-256-GCM under a key of its own from the device secret): a TA's
/// directory restored alone — or deleted with all its files — no longer matches the generation
/// the root recorded for it, so its storage is CORRUPT_OBJECT. A commit writes the TA's
/// directory first, then the root: a directory one generation ahead of the root is a commit
/// killed in between (the root is brought up to it); any other difference is a rollback.
/// Restoring the root together with every directory (the whole folder) is not seen here: that
/// needs a root outside the folder (an RPMB device, the storage issue's next step).
///
/// ```
/// "RPR3" u32 count, count × (16 UUID octets, u64 generation), sorted by UUID
/// ```
final class StorageRoot: @unchecked Sendable {
    // @unchecked: every read-modify-write runs under `lock` and an flock of the root file's lock.
    let url: URL
    private let key: SecureBytes
    private let lock = NSLock()
    static let magic = Array("RPR3".utf8)
    static let fileMagic = Array("RPRT".utf8)
    static let aad = Array("rproc-tee storage root v3".utf8)

    init(folder: URL, deviceSecret: SecureBytes) throws(TEEResult) {
        url = folder.appendingPathComponent("root.rpr")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            key = try HKDF.deriveKey(inputKeyMaterial: deviceSecret, salt: Array("rproc-tee storage root".utf8),
                                     info: Array("rproc-tee storage v3 root".utf8), outputLength: 32)
        } catch {
            throw .storageNotAvailable
        }
    }

    /// The generation recorded for `ta` (nil: none yet).
    func generation(of ta: TEEUUID) throws(TEEResult) -> UInt64? {
        try withRecord { entries in entries[ta.octets] }
    }

    /// Records `generation` for `ta`.
    func record(_ generation: UInt64, for ta: TEEUUID) throws(TEEResult) {
        try withRecord { entries throws(TEEResult) in
            guard entries[ta.octets] != generation else { return }
            entries[ta.octets] = generation
            try write(entries)
        }
    }

    private func withRecord<T>(_ body: (inout [[UInt8]: UInt64]) throws(TEEResult) -> T) throws(TEEResult) -> T {
        lock.lock()
        defer { lock.unlock() }
        let fd = open(url.path + ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .storageNotAvailable }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 { guard errno == EINTR else { throw .storageNotAvailable } }
        var entries = try read()
        return try body(&entries)
    }

    private func read() throws(TEEResult) -> [[UInt8]: UInt64] {
        guard let data = try? Data(contentsOf: url) else { return [:] }
        let bytes = Array(data)
        // Attacker-controlled: the file (sealed; the decoder checks every length all the same).
        guard bytes.count >= 4 + 12 + 16, Array(bytes[0..<4]) == Self.fileMagic,
              let plain = try? AESGCM.open(bytes[16..<(bytes.count - 16)], key: key, iv: Array(bytes[4..<16]), aad: Self.aad, tag: bytes[(bytes.count - 16)...]),
              plain.count >= 8, Array(plain[0..<4]) == Self.magic else {
            throw .corruptObject
        }
        let count = Int(plain[4..<8].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard count <= StorageDirectory.maxEntries, plain.count == 8 + count * 24 else { throw .corruptObject }
        var entries: [[UInt8]: UInt64] = [:]
        for i in 0..<count {
            let at = 8 + 24 * i
            entries[Array(plain[at..<at + 16])] = plain[at + 16..<at + 24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        return entries
    }

    private func write(_ entries: [[UInt8]: UInt64]) throws(TEEResult) {
        var plain = Self.magic + (0..<4).map { UInt8(truncatingIfNeeded: UInt32(entries.count) >> (8 * UInt32($0))) }
        for (ta, generation) in entries.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            plain += ta + (0..<8).map { UInt8(truncatingIfNeeded: generation >> (8 * UInt64($0))) }
        }
        do {
            let iv = try RandomGenerator.shared.bytes(count: 12)
            let (ct, tag) = try AESGCM.seal(plain, key: key, iv: iv, aad: Self.aad)
            try FileStorage.writeAtomically(Self.fileMagic + iv + ct + tag, to: url)
        } catch {
            throw .storageNoSpace
        }
    }
}

import Foundation
import TEECrypto
import TEEInternalAPI

/// A TA's authenticated directory of trusted storage (format v4, README "Trusted storage"): which
/// objects exist, which file holds each (its version) and the slot and tag of that file's current
/// header, and a generation counted up by every change. Sealed as one record (`FileStorage`), so
/// a single object file restored, swapped or deleted, or the directory restored alone, no longer
/// matches it: CORRUPT_OBJECT.
///
/// ```
/// "RPD4"   magic ("RPD3": v3, entries without the slot byte)
/// u64      generation (the directory's changes so far)
/// u32      count
/// count ×  u16 id length (0…64), id, u64 version, 16-byte tag, u8 slot: the header's slot
///          (1 = A, 2 = B) of the v4 object file (`ObjectFile`); 0: a v3 file, sealed whole
///          (the tag its own), rewritten as v4 on its first change
/// u8       1 if the TA's persistent time is set (then i64: its offset from the REE's clock, ms)
/// ```
/// little-endian, entries sorted by id, nothing after the last field. The persistent time lives
/// here so that rolling it back is rolling the directory back.
public struct StorageDirectory: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        /// The generation the object was last written in (its file's name and AAD carry it).
        public var version: UInt64
        /// The GCM tag of the file's current header (of a v3 file: of the file).
        public var tag: [UInt8]
        /// The header's slot in the v4 file (1 or 2); 0: a v3 file.
        public var slot: UInt8

        public init(version: UInt64, tag: [UInt8], slot: UInt8 = 0) {
            self.version = version
            self.tag = tag
            self.slot = slot
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

    static let magic = Array("RPD4".utf8)
    static let v3Magic = Array("RPD3".utf8)
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
            out.append(entry.slot)
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
    /// uniqueness of ids, slots 0…2 (v3: none), and nothing may follow the last entry. Anything
    /// else: CORRUPT_OBJECT.
    public static func decode(_ bytes: [UInt8]) throws(TEEResult) -> StorageDirectory {
        var at = 0
        func take(_ n: Int) throws(TEEResult) -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - at >= n else { throw .corruptObject }
            defer { at += n }
            return bytes[at..<at + n]
        }
        func u64() throws(TEEResult) -> UInt64 { try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        let head = Array(try take(4))
        guard head == magic || head == v3Magic else { throw .corruptObject }
        let v3 = head == v3Magic
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
            let tag = Array(try take(tagLength))
            let slot = v3 ? 0 : try take(1).first!
            guard slot <= 2 else { throw .corruptObject }
            entries[id] = Entry(version: version, tag: tag, slot: slot)
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

/// A sealed record kept in two files written in place by turns (the directory, the root): a
/// change seals the new record into the file that does not hold the current one, so a process
/// killed while writing leaves the current one whole; a reader takes the newest that
/// authenticates. No file is replaced by rename and none truncated: ext4 flushes a file renamed
/// over another, or truncated and rewritten, to the disk at once — a trusted-storage write would
/// cost a disk write twice over.
///
/// ```
/// file   magic (4), u32 n, IV (12), n bytes of AES-256-GCM ciphertext, tag (16); anything after
///        it is left from a longer record and ignored
/// ```
struct SealedPair {
    let urls: [URL]
    let magic: [UInt8]
    let key: SecureBytes
    let aad: [UInt8]

    /// Whether either file exists.
    var exists: Bool { urls.contains { FileManager.default.fileExists(atPath: $0.path) } }

    /// The plaintext of each file that authenticates, with its index. Attacker-controlled: the
    /// files — one that does not authenticate is as good as absent, and the caller's sequence
    /// (the root's, RPMB's) decides whether the one left is current.
    func read() -> [(index: Int, plain: [UInt8])] {
        var out: [(Int, [UInt8])] = []
        for (i, url) in urls.enumerated() {
            guard let data = try? Data(contentsOf: url) else { continue }
            let bytes = Array(data)
            guard bytes.count >= 4 + 4 + 12 + 16, Array(bytes[0..<4]) == magic else { continue }
            let n = Int(bytes[4..<8].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard n <= bytes.count - (4 + 4 + 12 + 16) else { continue }
            let tagAt = 20 + n
            if let plain = FileStorage.openGCM(bytes[20..<tagAt], key: key, iv: Array(bytes[8..<20]), aad: aad, tag: Array(bytes[tagAt..<tagAt + 16])) {
                out.append((i, plain))
            }
        }
        return out
    }

    /// Seals `plain` into file `index`, in place.
    func write(_ plain: [UInt8], to index: Int) throws(TEEResult) {
        let bytes: [UInt8]
        do {
            let iv = try RandomGenerator.shared.bytes(count: 12)
            let (ct, tag) = try FileStorage.sealGCM(plain, key: key, iv: iv, aad: aad)
            bytes = magic + (0..<4).map { UInt8(truncatingIfNeeded: UInt32(ct.count) >> (8 * UInt32($0))) } + iv + ct + tag
        } catch {
            throw .storageNoSpace
        }
        CrashPoint.step()
        let fd = open(urls[index].path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .storageNoSpace }
        defer { close(fd) }
        // Half the bytes, then (at a crash point) the process dies: a torn record, which does
        // not authenticate; the other file still holds the current one.
        let half = bytes.count / 2
        var written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, half, 0) }
        CrashPoint.step()
        written += bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + half, bytes.count - half, off_t(half)) }
        guard written == bytes.count else { throw .storageNoSpace }
    }
}

/// The generation of every TA's storage directory, one sealed record per storage folder
/// (`<folder>/root-a.rpr` and `root-b.rpr`, a `SealedPair` under a key of its own from the device
/// secret): a TA's directory restored alone — or deleted with all its files — no longer matches
/// the generation the root recorded for it, so its storage is CORRUPT_OBJECT. A commit writes
/// the TA's directory first, then the root: a directory ahead of the root is a commit killed in
/// between (the root is brought up to it: only the TEE writes directories, so none is newer than
/// the newest it wrote); one behind is a rollback. Restoring the root together with every
/// directory (the whole folder) is not seen here: with `--rpmb`, the root's sequence and hash
/// are also kept in the RPMB device (`RPMBAnchor`), which the folder's restore does not restore.
///
/// ```
/// "RPR4" u64 sequence (the root's changes), u8 anchored (1: the root has been held to an RPMB
/// device — one found empty later was wiped or replaced), u32 count, count × (16 UUID octets,
/// u64 generation), sorted by UUID      (v3: "root.rpr", "RPRT" IV ct tag of "RPR3" u32 count …)
/// ```
final class StorageRoot: @unchecked Sendable {
    // @unchecked: every read-modify-write runs under `lock` and an flock of the root's lock file.
    let folder: URL
    private let key: SecureBytes
    private let lock = NSLock()
    private let pair: SealedPair
    /// The RPMB device's record of this root, when the daemon has one.
    let rpmb: RPMBAnchor?
    /// The file the current root came from (the next goes to the other).
    private var current = 1
    static let magic = Array("RPR4".utf8)
    static let v3Magic = Array("RPR3".utf8)
    static let fileMagic = Array("RPRT".utf8)
    static let pairMagic = Array("RPR4".utf8)
    static let aad = Array("rproc-tee storage root v3".utf8)

    init(folder: URL, deviceSecret: SecureBytes, rpmb: RPMBAnchor? = nil) throws(TEEResult) {
        self.folder = folder
        self.rpmb = rpmb
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            key = try HKDF.deriveKey(inputKeyMaterial: deviceSecret, salt: Array("rproc-tee storage root".utf8),
                                     info: Array("rproc-tee storage v3 root".utf8), outputLength: 32)
        } catch {
            throw .storageNotAvailable
        }
        pair = SealedPair(urls: [folder.appendingPathComponent("root-a.rpr"), folder.appendingPathComponent("root-b.rpr")],
                          magic: Self.pairMagic, key: key, aad: Self.aad)
    }

    private var v3URL: URL { folder.appendingPathComponent("root.rpr") }

    /// The generation recorded for `ta` (nil: none yet).
    func generation(of ta: TEEUUID) throws(TEEResult) -> UInt64? {
        try withRecord { record in record.entries[ta.octets] }
    }

    /// Records `generation` for `ta`.
    func record(_ generation: UInt64, for ta: TEEUUID) throws(TEEResult) {
        try withRecord { record throws(TEEResult) in
            guard record.entries[ta.octets] != generation else { return }
            record.entries[ta.octets] = generation
            record.sequence += 1
            try write(record)
        }
    }

    struct Record: Equatable {
        var sequence: UInt64 = 0
        var anchored = false
        var entries: [[UInt8]: UInt64] = [:]

        func encoded() -> [UInt8] {
            var plain = StorageRoot.magic + (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (8 * UInt64($0))) } + [anchored ? 1 : 0]
            plain += (0..<4).map { UInt8(truncatingIfNeeded: UInt32(entries.count) >> (8 * UInt32($0))) }
            for (ta, generation) in entries.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                plain += ta + (0..<8).map { UInt8(truncatingIfNeeded: generation >> (8 * UInt64($0))) }
            }
            return plain
        }

        /// Attacker: none can forge the sealed record; checked all the same (every length, the
        /// bound on entries, nothing after the last).
        static func decode(_ plain: [UInt8]) throws(TEEResult) -> Record {
            let v3 = plain.count >= 8 && Array(plain[0..<4]) == StorageRoot.v3Magic
            guard v3 || (plain.count >= 17 && Array(plain[0..<4]) == StorageRoot.magic) else { throw .corruptObject }
            var record = Record()
            var at = 4
            if !v3 {
                record.sequence = plain[4..<12].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                guard plain[12] <= 1 else { throw .corruptObject }
                record.anchored = plain[12] == 1
                at = 13
            }
            let count = Int(plain[at..<at + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            at += 4
            guard count <= StorageDirectory.maxEntries, plain.count == at + count * 24 else { throw .corruptObject }
            for i in 0..<count {
                let e = at + 24 * i
                record.entries[Array(plain[e..<e + 16])] = plain[e + 16..<e + 24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }
            return record
        }
    }

    private func withRecord<T>(_ body: (inout Record) throws(TEEResult) -> T) throws(TEEResult) -> T {
        lock.lock()
        defer { lock.unlock() }
        let fd = open(folder.appendingPathComponent("root.lock").path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .storageNotAvailable }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 { guard errno == EINTR else { throw .storageNotAvailable } }
        var record = try read()
        return try body(&record)
    }

    /// The newest root that authenticates (a v3 `root.rpr` before the first v4 write); checked
    /// against the RPMB device's record when there is one.
    private func read() throws(TEEResult) -> Record {
        var newest: (index: Int, record: Record)?
        for (index, plain) in pair.read() {
            let record = try Record.decode(plain)
            if newest == nil || record.sequence > newest!.record.sequence { newest = (index, record) }
        }
        if let newest { current = newest.index }
        var record = newest?.record
        if record == nil, !pair.exists, let data = try? Data(contentsOf: v3URL) {
            // Attacker-controlled: the file (sealed).
            let bytes = Array(data)
            guard bytes.count >= 4 + 12 + 16, Array(bytes[0..<4]) == Self.fileMagic,
                  let plain = FileStorage.openGCM(bytes[16..<(bytes.count - 16)], key: key, iv: Array(bytes[4..<16]), aad: Self.aad, tag: Array(bytes[(bytes.count - 16)...])) else {
                throw .corruptObject
            }
            record = try Record.decode(plain)
        } else if record == nil, pair.exists {
            // Attacker: whoever damaged both files. No root is not an empty root.
            throw .corruptObject
        }
        var found = record ?? Record()
        if let rpmb {
            // Attacker: whoever restores the whole folder (root, directories, files), or wipes or
            // replaces the device.
            switch try rpmb.state(of: found.encoded(), sequence: found.sequence) {
            case .matches: break
            case .oneBehind: try anchor(found)   // the root was written, the device not yet
            case .empty:
                guard !found.anchored else { throw .corruptObject }
                // The folder's first use with this device: its root, as it is, becomes the anchored one.
                found.anchored = true
                found.sequence += 1
                try write(found)
            case .mismatch: throw .corruptObject
            }
        }
        return found
    }

    private func write(_ record: Record) throws(TEEResult) {
        let target = 1 - current
        try pair.write(record.encoded(), to: target)
        current = target
        try anchor(record)
        unlink(v3URL.path)
    }

    /// The root's sequence and hash into the RPMB device (after the root file: killed in between,
    /// the root is one ahead, which `RPMBAnchor.check` accepts and repairs).
    private func anchor(_ record: Record) throws(TEEResult) {
        try rpmb?.record(record.encoded(), sequence: record.sequence)
    }
}


import Foundation
import TEECrypto
import TEEInternalAPI

/// Trusted storage in files, format v4 (README "Trusted storage"): under `<state>/storage/<TA
/// UUID>/`, one sealed directory (`dir.rpd`: `StorageDirectory`, which objects exist, the file of
/// each and the slot and tag of its current header, a generation) and one file per object
/// (`ObjectFile`: a tree of sealed 4 KiB slots), named by a keyed hash of its version — no id or
/// length in clear, sizes padded to 4 KiB blocks.
///
/// Keys come by HKDF-SHA256 from the device secret and the TA's UUID. Every slot of an object's
/// file is AES-256-GCM with the TA, the file's version and the slot's place as AAD; the
/// directory's is AES-256-GCM with the TA as AAD. A read starts at the directory's entry and
/// checks every slot's tag against its parent's, so a file edited, truncated, swapped with
/// another object's or another TA's, restored from an older copy or deleted — or the directory
/// restored alone — is CORRUPT_OBJECT. The generation of every TA's directory is also kept in
/// the folder's root (`StorageRoot`), so restoring a directory alone, or deleting it with its
/// files, is CORRUPT_OBJECT too. Restoring the whole folder at once (the root with the
/// directories and files it names) is seen only with a root outside the folder (`--rpmb`).
///
/// A write seals the blocks it changes and the nodes above them into the slots the committed
/// tree does not name, then commits by writing the directory (a new file renamed over the old),
/// then the root. A process killed between any two steps leaves the old tree or the new one:
/// never a mix. A whole new record (create, overwrite) goes to a new file, whose predecessor is
/// removed after the commit; what a killed change leaves over is removed on the next use.
/// Changes from other processes on the same state folder are serialized by an flock on the
/// TA's folder.
///
/// v1/v2 files (`<hex id>.obj`) are read once, rewritten as v4 and removed; v3 files (whole
/// sealed records, named by id and version) are read where they are and rewritten as v4 on their
/// object's first change. A folder with no directory but legacy files is migrated; one with no
/// directory but object files has lost its directory (CORRUPT_OBJECT for everything, never
/// "empty").
final class FileStorage: TrustedStorageBackend, @unchecked Sendable {
    // @unchecked: every file operation runs under `lock` (and the folder's flock).
    let directory: URL
    let key: SecureBytes
    let nameKey: SecureBytes
    let ta: TEEUUID
    let handles: any ObjectHandles = ObjectHandleTable()
    private let lock = NSLock()
    private var cleaned = false
    static let magic = Array("RPTS".utf8)
    static let objectMagic = Array("RPT3".utf8)
    static let directoryMagic = Array("RPTD".utf8)
    static let directoryPairMagic = Array("RPD4".utf8)
    /// v3's directory (one file, replaced by rename), read until the first v4 commit.
    static let v3DirectoryName = "dir.rpd"
    static let directoryNames = ["dir-a.rpd", "dir-b.rpd"]
    static let objectSuffix = ".rpo"

    /// The generations of every TA's directory in this storage folder (nil: not checked).
    let anchor: StorageRoot?

    init(root: URL, deviceSecret: SecureBytes, ta: TEEUUID, anchor: StorageRoot? = nil) throws(TEEResult) {
        self.anchor = anchor
        directory = root.appendingPathComponent(ta.description)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            key = try HKDF.deriveKey(inputKeyMaterial: deviceSecret, salt: ta.octets, info: Array("rproc-tee storage v1".utf8), outputLength: 32)
            nameKey = try HKDF.deriveKey(inputKeyMaterial: deviceSecret, salt: ta.octets, info: Array("rproc-tee storage v3 names".utf8), outputLength: 32)
        } catch {
            throw .storageNotAvailable
        }
        self.ta = ta
    }

    /// Index nodes and headers already authenticated (`ObjectFile`).
    private let cache = NodeCache()

    // MARK: Names and AADs

    /// A v4 object file's name: by its version alone (a rename moves the directory's entry, not
    /// the file), in a domain apart from v3's (whose input starts with an id length ≤ 64).
    private func objectName(version: UInt64) -> String {
        var mac = try! HMAC(.sha256, key: nameKey)
        mac.update([0xFF, 0xFF] + Self.le64(version))
        return hexString(mac.finalize().prefix(16)) + Self.objectSuffix
    }

    /// A v3 object file's name (read until its object's first change).
    private func objectNameV3(_ id: [UInt8], version: UInt64) -> String {
        var mac = try! HMAC(.sha256, key: nameKey)
        mac.update(Self.idField(id) + Self.le64(version))
        return hexString(mac.finalize().prefix(16)) + Self.objectSuffix
    }

    private func fileName(_ id: [UInt8], _ entry: StorageDirectory.Entry) -> String {
        entry.slot == 0 ? objectNameV3(id, version: entry.version) : objectName(version: entry.version)
    }

    private func objectAADV3(_ id: [UInt8], version: UInt64) -> [UInt8] {
        Array("rproc-tee object v3".utf8) + ta.octets + Self.idField(id) + Self.le64(version)
    }

    private var directoryAAD: [UInt8] { Array("rproc-tee directory v3".utf8) + ta.octets }
    private var v3DirectoryURL: URL { directory.appendingPathComponent(Self.v3DirectoryName) }
    private var directoryPair: SealedPair {
        SealedPair(urls: Self.directoryNames.map { directory.appendingPathComponent($0) }, magic: Self.directoryPairMagic, key: key, aad: directoryAAD)
    }
    /// The directory file the current directory came from (the next commit goes to the other).
    private var currentDirectoryFile = 1

    private static func idField(_ id: [UInt8]) -> [UInt8] { [UInt8(truncatingIfNeeded: id.count), UInt8(truncatingIfNeeded: id.count >> 8)] + id }
    private static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    // MARK: TrustedStorageBackend

    /// Whether `id` is an object — and true when the directory itself cannot be trusted, so that
    /// the load that follows answers CORRUPT_OBJECT rather than ITEM_NOT_FOUND (a deleted or
    /// rolled-back directory must not read as "no such object").
    func exists(_ id: [UInt8]) -> Bool {
        do {
            return try transaction { dir in dir.entries[id] != nil }
        } catch {
            return error == .corruptObject
        }
    }

    func load(_ id: [UInt8]) throws(TEEResult) -> [UInt8] {
        try read(id, at: 0, count: ObjectFileFormat.maxRecordSize)
    }

    func size(_ id: [UInt8]) throws(TEEResult) -> Int {
        try transaction { dir throws(TEEResult) in
            guard let entry = dir.entries[id] else { throw .itemNotFound }
            if entry.slot == 0 { return try readObjectV3(id, entry).count }
            return try withObject(entry) { f throws(TEEResult) in try f.header(Self.headerRef(entry)).size }
        }
    }

    func read(_ id: [UInt8], at offset: Int, count: Int) throws(TEEResult) -> [UInt8] {
        guard offset >= 0, count >= 0 else { throw .badParameters }
        return try transaction { dir throws(TEEResult) in
            guard let entry = dir.entries[id] else { throw .itemNotFound }
            if entry.slot == 0 {
                let record = try readObjectV3(id, entry)
                guard offset < record.count else { return [] }
                return Array(record[offset..<min(record.count, offset + min(count, record.count))])
            }
            return try withObject(entry) { f throws(TEEResult) in try f.read(try f.header(Self.headerRef(entry)), from: offset, count: count) }
        }
    }

    func store(_ id: [UInt8], _ data: [UInt8]) throws(TEEResult) {
        try change { dir throws(TEEResult) in
            let old = dir.entries[id]
            dir.entries[id] = try writeNewObject(data, in: &dir)
            return old.map { [.remove(fileName(id, $0))] } ?? []
        }
    }

    func write(_ id: [UInt8], at offset: Int, _ bytes: [UInt8]) throws(TEEResult) {
        guard offset >= 0, offset <= ObjectFileFormat.maxRecordSize - bytes.count else { throw .storageNoSpace }
        try change { dir throws(TEEResult) in
            var after: [AfterCommit] = []
            let entry = try upgraded(id, &dir, &after)
            let ref = try withObject(entry) { f throws(TEEResult) in
                let h = try f.header(Self.headerRef(entry))
                return try f.rewrite(h, headerRef: Self.headerRef(entry), newSize: max(h.size, offset + bytes.count), patch: (offset, bytes)).1
            }
            dir.entries[id] = StorageDirectory.Entry(version: entry.version, tag: ref.tag, slot: ref.slot)
            return after
        }
    }

    func truncate(_ id: [UInt8], to size: Int) throws(TEEResult) {
        guard size >= 0, size <= ObjectFileFormat.maxRecordSize else { throw .storageNoSpace }
        try change { dir throws(TEEResult) in
            var after: [AfterCommit] = []
            let entry = try upgraded(id, &dir, &after)
            let (next, ref) = try withObject(entry) { f throws(TEEResult) in
                let h = try f.header(Self.headerRef(entry))
                return try f.rewrite(h, headerRef: Self.headerRef(entry), newSize: size, patch: nil)
            }
            dir.entries[id] = StorageDirectory.Entry(version: entry.version, tag: ref.tag, slot: ref.slot)
            // What lies past the committed tree holds only what the old one named: cut, once the
            // new one is committed.
            return after + [.cut(objectName(version: entry.version), ObjectFile.extent(next))]
        }
    }

    func delete(_ id: [UInt8]) throws(TEEResult) {
        try change { dir throws(TEEResult) in
            guard let old = dir.entries.removeValue(forKey: id) else { throw .itemNotFound }
            return [.remove(fileName(id, old))]
        }
    }

    func rename(_ from: [UInt8], to: [UInt8]) throws(TEEResult) {
        try change { dir throws(TEEResult) in
            guard dir.entries[from] != nil else { throw .itemNotFound }
            guard dir.entries[to] == nil else { throw .accessConflict }
            // A v4 file is bound to its version, not its id: the entry moves. (A v3 file is bound
            // to its id: rewritten as v4 first.)
            var after: [AfterCommit] = []
            let entry = try upgraded(from, &dir, &after)
            dir.entries[from] = nil
            dir.entries[to] = entry
            return after
        }
    }

    func list() throws(TEEResult) -> [[UInt8]] {
        try transaction { dir in dir.entries.keys.sorted { $0.lexicographicallyPrecedes($1) } }
    }

    // MARK: Object files

    private static func headerRef(_ entry: StorageDirectory.Entry) -> ObjectFileFormat.Ref {
        ObjectFileFormat.Ref(slot: entry.slot, tag: entry.tag)
    }

    /// `body` on the v4 file `entry` names. Attacker: whoever deleted it — a missing file is a
    /// CORRUPT_OBJECT, not "no such object".
    private func withObject<T>(_ entry: StorageDirectory.Entry, creating: Bool = false, _ body: (ObjectFile) throws(TEEResult) -> T) throws(TEEResult) -> T {
        let name = objectName(version: entry.version)
        let flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | (creating ? O_CREAT | O_TRUNC : 0)
        let fd = open(directory.appendingPathComponent(name).path, flags, 0o600)
        guard fd >= 0 else { throw creating ? .storageNoSpace : .corruptObject }
        defer { close(fd) }
        let aad = Array("rproc-tee object v4".utf8) + ta.octets + Self.le64(entry.version)
        return try body(ObjectFile(fd: fd, name: name, key: key, aad: aad, cache: cache))
    }

    /// `record` as a new v4 file, the next version; its entry (the generation counts it).
    private func writeNewObject(_ record: [UInt8], in dir: inout StorageDirectory) throws(TEEResult) -> StorageDirectory.Entry {
        guard record.count <= ObjectFileFormat.maxRecordSize else { throw .storageNoSpace }
        let version = dir.generation + 1
        let ref = try withObject(StorageDirectory.Entry(version: version, tag: [], slot: 1), creating: true) { f throws(TEEResult) in
            try f.rewrite(.inline([]), headerRef: .absent, newSize: record.count, patch: (0, record)).1
        }
        dir.generation = version
        return StorageDirectory.Entry(version: version, tag: ref.tag, slot: ref.slot)
    }

    /// `id`'s entry, a v3 one rewritten as a v4 file first (its old file removed after the commit).
    private func upgraded(_ id: [UInt8], _ dir: inout StorageDirectory, _ after: inout [AfterCommit]) throws(TEEResult) -> StorageDirectory.Entry {
        guard let entry = dir.entries[id] else { throw .itemNotFound }
        guard entry.slot == 0 else { return entry }
        let upgraded = try writeNewObject(try readObjectV3(id, entry), in: &dir)
        dir.entries[id] = upgraded
        after.append(.remove(objectNameV3(id, version: entry.version)))
        return upgraded
    }

    /// What a change leaves to do once its directory is committed.
    enum AfterCommit {
        /// A file the new directory no longer names.
        case remove(String)
        /// A file the new directory names, cut to its committed tree's extent.
        case cut(String, off_t)
    }

    // MARK: Transactions

    /// `body` on the current directory, under the lock and the folder's flock: a read.
    private func transaction<T>(_ body: (inout StorageDirectory) throws(TEEResult) -> T) throws(TEEResult) -> T {
        lock.lock()
        defer { lock.unlock() }
        let folderLock = try lockFolder()
        defer { close(folderLock) }
        var dir = try currentDirectory()
        return try body(&dir)
    }

    /// `body` changes the current directory (under the lock and the folder's flock) and returns
    /// what is left to do once the new directory is committed (files the old directory named that
    /// the new one does not: removed).
    private func change(_ body: (inout StorageDirectory) throws(TEEResult) -> [AfterCommit]) throws(TEEResult) {
        lock.lock()
        defer { lock.unlock() }
        let folderLock = try lockFolder()
        defer { close(folderLock) }
        var dir = try currentDirectory()
        known = nil
        // Every commit counts the generation up by exactly one (a version a change allocates is
        // that generation), so that a directory ahead of the root by one is a killed commit and
        // by more a root restored.
        let base = dir.generation
        let after = try body(&dir)
        precondition(dir.generation <= base + 1, "a change allocated more than one version")
        dir.generation = base + 1
        try writeDirectory(dir)
        // The root after the directory: killed in between, the next use finds the directory one
        // generation ahead and brings the root up to it.
        try anchor?.record(dir.generation, for: ta)
        if !v3DirectoryLeft { known = (directoryIdentity(), dir, currentDirectoryFile) }
        for step in after {
            CrashPoint.step()
            switch step {
            case .remove(let name):
                unlink(directory.appendingPathComponent(name).path)
            case .cut(let name, let length):
                let fd = open(directory.appendingPathComponent(name).path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { continue }
                var st = stat()
                if fstat(fd, &st) == 0, st.st_size > length { _ = ftruncate(fd, length) }
                close(fd)
            }
        }
    }

    private func lockFolder() throws(TEEResult) -> Int32 {
        let fd = open(directory.appendingPathComponent(".lock").path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .storageNotAvailable }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(fd)
                throw .storageNotAvailable
            }
        }
        return fd
    }

    /// The directory as the folder holds it: read and authenticated; migrated from v1/v2 files
    /// on first use; files it does not name (left by a killed write) removed once per process.
    private func currentDirectory() throws(TEEResult) -> StorageDirectory {
        let identity = directoryIdentity()
        if let known, known.identity == identity {
            currentDirectoryFile = known.index
            return known.dir
        }
        known = nil
        var dir: StorageDirectory
        let pair = directoryPair
        var newest: (index: Int, dir: StorageDirectory)?
        for (index, plain) in pair.read() {
            let candidate = try StorageDirectory.decode(plain)
            if newest == nil || candidate.generation > newest!.dir.generation { newest = (index, candidate) }
        }
        if let newest {
            dir = newest.dir
            currentDirectoryFile = newest.index
        } else if pair.exists {
            // Attacker: whoever damaged both directory files.
            throw .corruptObject
        } else if let bytes = try? Data(contentsOf: v3DirectoryURL) {
            dir = try openDirectory(Array(bytes))
            v3DirectoryLeft = true
        } else {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            let legacy = names.filter { $0.hasSuffix(".obj") }
            let objects = names.filter { $0.hasSuffix(Self.objectSuffix) }
            // Attacker: whoever deleted the directory. Object files without it are a deletion,
            // not an empty store — unless v1/v2 files are still there too: a migration that was
            // killed before its directory was committed (those go first only after it is), which
            // starts again.
            guard objects.isEmpty || !legacy.isEmpty else { throw .corruptObject }
            for name in objects { unlink(directory.appendingPathComponent(name).path) }
            dir = try migrate(legacy)
        }
        if let anchor {
            // Attacker: whoever restores the directory alone, or deletes it with every file.
            switch try anchor.generation(of: ta) {
            case nil:
                if dir.generation > 0 { try anchor.record(dir.generation, for: ta) }   // first use of the root
            case let recorded? where recorded == dir.generation:
                break
            case let recorded? where dir.generation == recorded &+ 1:
                try anchor.record(dir.generation, for: ta)   // a commit killed before the root was written
            default:
                throw .corruptObject
            }
        }
        if !cleaned {
            cleaned = true
            removeUnnamedFiles(dir)
        }
        if !v3DirectoryLeft { known = (directoryIdentity(), dir, currentDirectoryFile) }
        return dir
    }

    /// The directory as last authenticated (and checked against the root), with its files'
    /// identities then: while neither file has changed — inode, size, change time (which no one
    /// but the kernel sets) and its first 20 bytes (magic, length and the IV, fresh at every
    /// seal: the change time alone is only as fine as the kernel's tick, and another process's
    /// commit in the same tick changes the IV) — it is still the current one and needs no
    /// decryption and no root. Any change to either file — a commit from another process, an
    /// attacker's edit or restore — makes the next use read and check everything again.
    private var known: (identity: [FileIdentity?], dir: StorageDirectory, index: Int)?

    struct FileIdentity: Equatable {
        var inode: UInt64
        var size: Int64
        var changed: timespec
        var head: [UInt8]
        static func == (a: Self, b: Self) -> Bool {
            a.inode == b.inode && a.size == b.size && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec && a.head == b.head
        }
    }

    private func directoryIdentity() -> [FileIdentity?] {
        Self.directoryNames.map { name in
            let fd = open(directory.appendingPathComponent(name).path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var st = stat()
            var head = [UInt8](repeating: 0, count: 20)
            guard fstat(fd, &st) == 0 else { return nil }
            let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 20, 0) }
            return FileIdentity(inode: UInt64(st.st_ino), size: Int64(st.st_size), changed: st.st_ctim, head: Array(head.prefix(max(0, n))))
        }
    }

    private func removeUnnamedFiles(_ dir: StorageDirectory) {
        if directoryPair.exists { unlink(v3DirectoryURL.path) }
        let named = Set(dir.entries.map { fileName($0.key, $0.value) })
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where
            (name.hasSuffix(Self.objectSuffix) && !named.contains(name)) || name.contains(".tmp-") {
            unlink(directory.appendingPathComponent(name).path)
        }
    }

    private func openDirectory(_ bytes: [UInt8]) throws(TEEResult) -> StorageDirectory {
        // Attacker-controlled: the file.
        guard bytes.count >= 4 + 12 + 16, Array(bytes[0..<4]) == Self.directoryMagic,
              let plain = Self.openGCM(bytes[16..<(bytes.count - 16)], key: key, iv: Array(bytes[4..<16]), aad: directoryAAD, tag: Array(bytes[(bytes.count - 16)...])) else {
            throw .corruptObject
        }
        return try StorageDirectory.decode(plain)
    }

    /// The commit: the directory into the file that does not hold the current one (v3's file
    /// goes once a v4 one is committed).
    private func writeDirectory(_ dir: StorageDirectory) throws(TEEResult) {
        let target = 1 - currentDirectoryFile
        try directoryPair.write(dir.encoded(), to: target)
        currentDirectoryFile = target
        if v3DirectoryLeft {
            unlink(v3DirectoryURL.path)
            v3DirectoryLeft = false
        }
    }
    private var v3DirectoryLeft = false

    /// The record a v3 entry names (sealed whole, before v4): its file must exist, authenticate
    /// under (TA, id, version) and carry the tag the directory recorded.
    private func readObjectV3(_ id: [UInt8], _ entry: StorageDirectory.Entry) throws(TEEResult) -> [UInt8] {
        // Attacker-controlled: the file, or its absence (a deletion is not "no such object").
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(objectNameV3(id, version: entry.version))) else { throw .corruptObject }
        let bytes = Array(data)
        guard bytes.count >= 4 + 12 + 16, Array(bytes[0..<4]) == Self.objectMagic else { throw .corruptObject }
        let tag = Array(bytes[(bytes.count - 16)...])
        guard tag == entry.tag,
              let padded = Self.openGCM(bytes[16..<(bytes.count - 16)], key: key, iv: Array(bytes[4..<16]), aad: objectAADV3(id, version: entry.version), tag: tag),
              padded.count >= 4 else {
            throw .corruptObject
        }
        let length = Int(padded[0]) | Int(padded[1]) << 8 | Int(padded[2]) << 16 | Int(padded[3]) << 24
        guard length <= padded.count - 4 else { throw .corruptObject }
        return Array(padded[4..<4 + length])
    }

    // MARK: AES-256-GCM

    /// Objects and directories are sealed on OpenSSL's EVP (AES-NI and carry-less multiplication:
    /// a MiB record costs a fraction of mbedTLS 2.28's GCM); the format is GCM's either way.
    static func sealGCM(_ plain: [UInt8], key: SecureBytes, iv: [UInt8], aad: [UInt8]) throws -> (ciphertext: [UInt8], tag: [UInt8]) {
        let ae = try AEComputation(.gcm, direction: .encrypt, key: key, nonce: iv, tagLength: 16)
        try ae.updateAAD(aad)
        return try ae.finalizeEncryption(plain)
    }

    /// The plaintext, or nil unless the tag checks.
    static func openGCM(_ ciphertext: ArraySlice<UInt8>, key: SecureBytes, iv: [UInt8], aad: [UInt8], tag: [UInt8]) -> [UInt8]? {
        guard tag.count == 16, let ae = try? AEComputation(.gcm, direction: .decrypt, key: key, nonce: iv, tagLength: 16),
              (try? ae.updateAAD(aad)) != nil else { return nil }
        return try? ae.finalizeDecryption(Array(ciphertext), tag: tag)
    }

    // MARK: v1/v2 files

    /// A folder written before v3 (`<hex id>.obj`, AES-GCM under the TA's key with the id as
    /// AAD): every file that authenticates under its name becomes a v3 object, the directory is
    /// committed, then the old files go. A file that does not authenticate was never an object
    /// (planted or damaged) and is left out, as the v2 enumerator left it out.
    private func migrate(_ legacy: [String]) throws(TEEResult) -> StorageDirectory {
        var dir = StorageDirectory()
        guard !legacy.isEmpty else { return dir }
        for name in legacy.sorted() {
            guard let id = bytesFromHex(name.dropLast(4)), id.count <= StorageDirectory.maxIDLength,
                  let record = legacyRecord(id, at: directory.appendingPathComponent(name)) else { continue }
            dir.entries[id] = try writeNewObject(record, in: &dir)
        }
        try writeDirectory(dir)
        for name in legacy { unlink(directory.appendingPathComponent(name).path) }
        return dir
    }

    private func legacyRecord(_ id: [UInt8], at url: URL) -> [UInt8]? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        let bytes = Array(data)
        guard bytes.count >= 4 + 12 + 16, Array(bytes[0..<4]) == Self.magic else { return nil }
        let iv = Array(bytes[4..<16]), body = bytes[16..<(bytes.count - 16)], tag = bytes[(bytes.count - 16)...]
        func aad(_ v: Int) -> [UInt8] { Array("rproc-tee object v\(v)".utf8) + ta.octets + id }
        if let record = try? AESGCM.open(body, key: key, iv: iv, aad: aad(2), tag: tag) { return record }
        // v1 held raw data: it becomes the data object it was.
        return (try? AESGCM.open(body, key: key, iv: iv, aad: aad(1), tag: tag)).map { StoredObject.dataObject($0).encoded() }
    }

    // MARK: Persistent time

    /// The TA's persistent time: the directory's time field (a change of it is a commit, so a
    /// rolled-back time is a rolled-back directory). A v2 `persistent-time` file (before v3) is
    /// moved into it on first use.
    private var legacyTimeURL: URL { directory.appendingPathComponent("persistent-time") }
    private var legacyTimeAAD: [UInt8] { Array("rproc-tee TA persistent time v1".utf8) + ta.octets }

    func loadTimeOffset() throws(TEEResult) -> Int64 {
        if let offset = try transaction({ dir in dir.timeOffset }) { return offset }
        // Attacker-controlled: the legacy file. A record that does not authenticate is no time.
        guard let data = lock.withLock({ try? Data(contentsOf: legacyTimeURL) }) else { throw .itemNotFound }
        let bytes = Array(data)
        guard bytes.count == 4 + 12 + 8 + 16, Array(bytes[0..<4]) == Self.magic,
              let plain = try? AESGCM.open(bytes[16..<24], key: key, iv: Array(bytes[4..<16]), aad: legacyTimeAAD, tag: bytes[24...]), plain.count == 8 else {
            throw .corruptObject
        }
        let offset = plain.enumerated().reduce(Int64(0)) { $0 | Int64($1.element) << (8 * Int64($1.offset)) }
        try storeTimeOffset(offset)
        return offset
    }

    func storeTimeOffset(_ offset: Int64) throws(TEEResult) {
        try change { dir in
            dir.timeOffset = offset
            return [AfterCommit]()
        }
        lock.withLock { _ = unlink(legacyTimeURL.path) }
    }
}

/// The crash-point matrix of the storage tests (`StorageCrashTests`): with
/// `RPROC_TEE_STORAGE_CRASH_AT=N` in its environment, the process kills itself (SIGKILL) at the
/// Nth step of trusted storage's file operations since it started — before a slot of an object
/// file is written and halfway through it, before the directory or the root is written and
/// halfway through it, before the RPMB device is written, before a superseded file is removed or
/// cut. Unset (always, outside that test), a step is one load of a constant.
enum CrashPoint {
    private static let at: Int = ProcessInfo.processInfo.environment["RPROC_TEE_STORAGE_CRASH_AT"].flatMap { Int($0) } ?? 0
    nonisolated(unsafe) private static var steps = 0
    private static let lock = NSLock()

    static func step() {
        guard at > 0 else { return }
        let n = lock.withLock { () -> Int in
            steps += 1
            return steps
        }
        if n == at { kill(getpid(), SIGKILL) }
    }
}

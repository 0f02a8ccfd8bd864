import Foundation
import TEECrypto
import TEEInternalAPI

/// Trusted storage in files, format v3 (README "Trusted storage"): under `<state>/storage/<TA
/// UUID>/`, one sealed directory (`dir.rpd`: `StorageDirectory`, which objects exist, the current
/// version of each and its file's tag, a generation) and one sealed file per object version,
/// named by a keyed hash of (id, version) — no id or length in clear, sizes padded to 4 KiB.
///
/// Keys come by HKDF-SHA256 from the device secret and the TA's UUID. An object's file is
/// AES-256-GCM of its record (`StoredObject`) with the TA, the id and the version as AAD; the
/// directory's is AES-256-GCM with the TA as AAD. A read takes the directory's entry and checks
/// the file's tag against it, so a file edited, truncated, swapped with another object's or
/// another TA's, restored from an older copy or deleted — or the directory restored alone — is
/// CORRUPT_OBJECT. The generation of every TA's directory is also kept in the folder's root
/// (`StorageRoot`), so restoring a directory alone, or deleting it with its files, is
/// CORRUPT_OBJECT too. What this cannot see is the whole folder restored at once (the root with
/// the directories and files it names): that needs a root outside the folder (RPMB: the storage
/// issue's next step).
///
/// A change writes the new object file under a new name, then the directory (a new file renamed
/// over the old: the commit), then removes what the old directory named. A process killed
/// between any two steps leaves the old directory with its files, or the new one with its:
/// never a mix; what is left over (an uncommitted file) is removed on the next use. Changes
/// from other processes on the same state folder are serialized by an flock on the TA's folder.
///
/// v1/v2 files (`<hex id>.obj`, before v3) are read once, rewritten as v3 and removed: a folder
/// with no directory but legacy files is migrated; one with no directory but v3 files has lost
/// its directory (CORRUPT_OBJECT for everything, never "empty").
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
    static let directoryName = "dir.rpd"
    static let objectSuffix = ".rpo"
    /// Records are padded to a multiple of this: a file's size says which 4 KiB it falls in.
    static let padding = 4096

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

    // MARK: Names and AADs

    private func objectName(_ id: [UInt8], version: UInt64) -> String {
        var mac = try! HMAC(.sha256, key: nameKey)
        mac.update(Self.idField(id) + Self.le64(version))
        return hexString(mac.finalize().prefix(16)) + Self.objectSuffix
    }

    private func objectAAD(_ id: [UInt8], version: UInt64) -> [UInt8] {
        Array("rproc-tee object v3".utf8) + ta.octets + Self.idField(id) + Self.le64(version)
    }

    private var directoryAAD: [UInt8] { Array("rproc-tee directory v3".utf8) + ta.octets }
    private var directoryURL: URL { directory.appendingPathComponent(Self.directoryName) }

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
        try transaction { dir throws(TEEResult) in
            guard let entry = dir.entries[id] else { throw .itemNotFound }
            return try readObject(id, entry)
        }
    }

    func store(_ id: [UInt8], _ data: [UInt8]) throws(TEEResult) {
        try change { dir throws(TEEResult) in
            let version = dir.generation + 1
            let tag = try writeObject(id, version: version, record: data)
            let old = dir.entries[id]
            dir.entries[id] = StorageDirectory.Entry(version: version, tag: tag)
            dir.generation = version
            return old.map { [objectName(id, version: $0.version)] } ?? []
        }
    }

    func delete(_ id: [UInt8]) throws(TEEResult) {
        try change { dir throws(TEEResult) in
            guard let old = dir.entries.removeValue(forKey: id) else { throw .itemNotFound }
            dir.generation += 1
            return [objectName(id, version: old.version)]
        }
    }

    func rename(_ from: [UInt8], to: [UInt8]) throws(TEEResult) {
        try change { dir throws(TEEResult) in
            guard let old = dir.entries[from] else { throw .itemNotFound }
            guard dir.entries[to] == nil else { throw .accessConflict }
            // The id is in the AAD and the name: the record is sealed again under the new id.
            let record = try readObject(from, old)
            let version = dir.generation + 1
            let tag = try writeObject(to, version: version, record: record)
            dir.entries[from] = nil
            dir.entries[to] = StorageDirectory.Entry(version: version, tag: tag)
            dir.generation = version
            return [objectName(from, version: old.version)]
        }
    }

    func list() throws(TEEResult) -> [[UInt8]] {
        try transaction { dir in dir.entries.keys.sorted { $0.lexicographicallyPrecedes($1) } }
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
    /// the files the old directory named that the new one does not: the new directory is
    /// committed, then they are removed.
    private func change(_ body: (inout StorageDirectory) throws(TEEResult) -> [String]) throws(TEEResult) {
        lock.lock()
        defer { lock.unlock() }
        let folderLock = try lockFolder()
        defer { close(folderLock) }
        var dir = try currentDirectory()
        let superseded = try body(&dir)
        try writeDirectory(dir)
        // The root after the directory: killed in between, the next use finds the directory one
        // generation ahead and brings the root up to it.
        try anchor?.record(dir.generation, for: ta)
        for name in superseded {
            CrashPoint.step()
            unlink(directory.appendingPathComponent(name).path)
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
        let dir: StorageDirectory
        if let bytes = try? Data(contentsOf: directoryURL) {
            dir = try openDirectory(Array(bytes))
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
        return dir
    }

    private func removeUnnamedFiles(_ dir: StorageDirectory) {
        let named = Set(dir.entries.map { objectName($0.key, version: $0.value.version) })
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

    private func writeDirectory(_ dir: StorageDirectory) throws(TEEResult) {
        do {
            let iv = try RandomGenerator.shared.bytes(count: 12)
            let (ct, tag) = try Self.sealGCM(dir.encoded(), key: key, iv: iv, aad: directoryAAD)
            try Self.writeAtomically(Self.directoryMagic + iv + ct + tag, to: directoryURL)
        } catch {
            throw .storageNoSpace
        }
    }

    /// The record `entry` names: its file must exist, authenticate under (TA, id, version) and
    /// carry the tag the directory recorded.
    private func readObject(_ id: [UInt8], _ entry: StorageDirectory.Entry) throws(TEEResult) -> [UInt8] {
        // Attacker-controlled: the file, or its absence (a deletion is not "no such object").
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(objectName(id, version: entry.version))) else { throw .corruptObject }
        let bytes = Array(data)
        guard bytes.count >= 4 + 12 + 16, Array(bytes[0..<4]) == Self.objectMagic else { throw .corruptObject }
        let tag = Array(bytes[(bytes.count - 16)...])
        guard tag == entry.tag,
              let padded = Self.openGCM(bytes[16..<(bytes.count - 16)], key: key, iv: Array(bytes[4..<16]), aad: objectAAD(id, version: entry.version), tag: tag),
              padded.count >= 4 else {
            throw .corruptObject
        }
        let length = Int(padded[0]) | Int(padded[1]) << 8 | Int(padded[2]) << 16 | Int(padded[3]) << 24
        guard length <= padded.count - 4 else { throw .corruptObject }
        return Array(padded[4..<4 + length])
    }

    /// Seals `record` as `version` of `id` into its own new file; the tag.
    private func writeObject(_ id: [UInt8], version: UInt64, record: [UInt8]) throws(TEEResult) -> [UInt8] {
        guard record.count <= Int(UInt32.max) - Self.padding else { throw .storageNoSpace }
        var padded = [UInt8](repeating: 0, count: (4 + record.count + Self.padding - 1) / Self.padding * Self.padding)
        for i in 0..<4 { padded[i] = UInt8(truncatingIfNeeded: record.count >> (8 * i)) }
        padded.replaceSubrange(4..<4 + record.count, with: record)
        do {
            let iv = try RandomGenerator.shared.bytes(count: 12)
            let (ct, tag) = try Self.sealGCM(padded, key: key, iv: iv, aad: objectAAD(id, version: version))
            try Self.writeAtomically(Self.objectMagic + iv + ct + tag, to: directory.appendingPathComponent(objectName(id, version: version)))
            return tag
        } catch {
            throw .storageNoSpace
        }
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
            let version = dir.generation + 1
            dir.entries[id] = StorageDirectory.Entry(version: version, tag: try writeObject(id, version: version, record: record))
            dir.generation = version
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
            dir.generation += 1
            return []
        }
        lock.withLock { _ = unlink(legacyTimeURL.path) }
    }

    /// A new file (mode 0600: only the daemon's user reads even the ciphertext; never through a
    /// link) renamed over `url`: readers see the old file or the new one, never a mix. (No fsync:
    /// a killed process loses nothing the kernel has; a machine that loses power may lose the
    /// last changes — README "Trusted storage".)
    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws(TEEResult) {
        let temporary = url.path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        CrashPoint.step()
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .storageNoSpace }
        // Half the bytes, then (at a crash point) the process dies: a torn temporary file.
        let half = bytes.count / 2
        var written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, half) }
        CrashPoint.step()
        written += bytes.withUnsafeBytes { write(fd, $0.baseAddress! + half, bytes.count - half) }
        close(fd)
        CrashPoint.step()
        guard written == bytes.count, Glibc.rename(temporary, url.path) == 0 else {
            unlink(temporary)
            throw .storageNoSpace
        }
    }
}

/// The crash-point matrix of the storage tests (`StorageCrashTests`): with
/// `RPROC_TEE_STORAGE_CRASH_AT=N` in its environment, the process kills itself (SIGKILL) at the
/// Nth step of trusted storage's file operations since it started — before a temporary file is
/// made, halfway through writing it, before the rename that commits it, before a superseded file
/// is removed. Unset (always, outside that test), a step is one load of a constant.
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

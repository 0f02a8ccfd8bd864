import Foundation
import TEECrypto
import TEEInternalAPI

/// Trusted storage in files: one file per object under `<state>/storage/<TA UUID>/`, named by
/// the object id in hex, holding AES-256-GCM of its record (`StoredObject`: metadata and data) with a key derived by HKDF-SHA256 from the
/// device secret and the TA's UUID. The TA UUID and object id are authenticated as AAD, so a
/// file edited, truncated, swapped with another object's, or moved to another TA's folder
/// fails authentication: CORRUPT_OBJECT.
final class FileStorage: TrustedStorageBackend, @unchecked Sendable {
    // @unchecked: file operations are serialized by `lock`.
    let directory: URL
    let key: SecureBytes
    let ta: TEEUUID
    let handles: any ObjectHandles = ObjectHandleTable()
    private let lock = NSLock()
    static let magic = Array("RPTS".utf8)

    init(root: URL, deviceSecret: SecureBytes, ta: TEEUUID) throws(TEEResult) {
        directory = root.appendingPathComponent(ta.description)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            key = try HKDF.deriveKey(inputKeyMaterial: deviceSecret, salt: ta.octets, info: Array("rproc-tee storage v1".utf8), outputLength: 32)
        } catch {
            throw .storageNotAvailable
        }
        self.ta = ta
    }

    private func url(_ id: [UInt8]) -> URL { directory.appendingPathComponent(hexString(id) + ".obj") }
    /// v2 records hold a `StoredObject` (metadata and data); v1 records, written before
    /// persistent keys, raw data. The version is in the AAD, so a record authenticates as one or
    /// the other, never both.
    private func aad(_ id: [UInt8], version: Int = 2) -> [UInt8] { Array("rproc-tee object v\(version)".utf8) + ta.octets + id }

    func exists(_ id: [UInt8]) -> Bool {
        lock.withLock { FileManager.default.fileExists(atPath: url(id).path) }
    }

    func load(_ id: [UInt8]) throws(TEEResult) -> [UInt8] {
        let data: Data
        do {
            data = try lock.withLock { try Data(contentsOf: url(id)) }
        } catch {
            throw .itemNotFound
        }
        let bytes = Array(data)
        // Attacker-controlled: the file (anyone with access to the state folder can edit it).
        guard bytes.count >= 4 + 12 + 16, Array(bytes[0..<4]) == Self.magic else { throw .corruptObject }
        let iv = Array(bytes[4..<16]), body = bytes[16..<(bytes.count - 16)], tag = bytes[(bytes.count - 16)...]
        if let record = try? AESGCM.open(body, key: key, iv: iv, aad: aad(id), tag: tag) { return record }
        // A v1 record (raw data) is handed back as the data object it is; the next store
        // rewrites it as v2.
        guard let data = try? AESGCM.open(body, key: key, iv: iv, aad: aad(id, version: 1), tag: tag) else { throw .corruptObject }
        return StoredObject.dataObject(data).encoded()
    }

    func store(_ id: [UInt8], _ data: [UInt8]) throws(TEEResult) {
        do {
            let iv = try RandomGenerator.shared.bytes(count: 12)
            let (ct, tag) = try AESGCM.seal(data, key: key, iv: iv, aad: aad(id))
            lock.lock()
            defer { lock.unlock() }
            try Self.writeAtomically(Self.magic + iv + ct + tag, to: url(id))
        } catch {
            throw .storageNoSpace
        }
    }

    /// The TA's persistent time: a sealed record beside its objects (`persistent-time`, never
    /// listed: not an `.obj`), authenticated with its own AAD so no object can stand in for it.
    private var timeURL: URL { directory.appendingPathComponent("persistent-time") }
    private var timeAAD: [UInt8] { Array("rproc-tee TA persistent time v1".utf8) + ta.octets }

    func loadTimeOffset() throws(TEEResult) -> Int64 {
        guard let data = lock.withLock({ try? Data(contentsOf: timeURL) }) else { throw .itemNotFound }
        let bytes = Array(data)
        // Attacker-controlled: the file. A record that does not authenticate is no time at all.
        guard bytes.count == 4 + 12 + 8 + 16, Array(bytes[0..<4]) == Self.magic,
              let plain = try? AESGCM.open(bytes[16..<24], key: key, iv: Array(bytes[4..<16]), aad: timeAAD, tag: bytes[24...]), plain.count == 8 else {
            throw .corruptObject
        }
        return plain.enumerated().reduce(Int64(0)) { $0 | Int64($1.element) << (8 * Int64($1.offset)) }
    }

    func storeTimeOffset(_ offset: Int64) throws(TEEResult) {
        do {
            let iv = try RandomGenerator.shared.bytes(count: 12)
            let plain = (0..<8).map { UInt8(truncatingIfNeeded: offset >> (8 * Int64($0))) }
            let (ct, tag) = try AESGCM.seal(plain, key: key, iv: iv, aad: timeAAD)
            lock.lock()
            defer { lock.unlock() }
            try Self.writeAtomically(Self.magic + iv + ct + tag, to: timeURL)
        } catch {
            throw .storageNoSpace
        }
    }

    func delete(_ id: [UInt8]) throws(TEEResult) {
        do { try lock.withLock { try FileManager.default.removeItem(at: url(id)) } } catch { throw .itemNotFound }
    }

    func rename(_ from: [UInt8], to: [UInt8]) throws(TEEResult) {
        guard !exists(to) else { throw .accessConflict }
        // The id is authenticated: re-encrypt under the new id rather than moving the file.
        let data = try load(from)
        try store(to, data)
        try delete(from)
    }

    /// The TA's objects: only those whose file authenticates under its name (a file planted or
    /// renamed in the folder is not listed: red-team L3).
    func list() throws(TEEResult) -> [[UInt8]] {
        let names = (try? lock.withLock { try FileManager.default.contentsOfDirectory(atPath: directory.path) }) ?? []
        return names.compactMap { name in
            guard name.hasSuffix(".obj"), let id = bytesFromHex(name.dropLast(4)), (try? load(id)) != nil else { return nil }
            return id
        }
    }

    /// A new file (mode 0600: only the daemon's user reads even the ciphertext; never through a
    /// link) renamed over `url`: readers see the old record or the new one, never a mix. (No
    /// fsync: what a crash of the machine may lose is the trusted-storage issue's format.)
    private static func writeAtomically(_ bytes: [UInt8], to url: URL) throws(TEEResult) {
        let temporary = url.path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .storageNoSpace }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, Glibc.rename(temporary, url.path) == 0 else {
            unlink(temporary)
            throw .storageNoSpace
        }
    }
}

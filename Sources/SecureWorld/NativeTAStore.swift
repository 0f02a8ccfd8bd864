#if canImport(Glibc)
import Glibc
#endif
import FirmwareImage
import Foundation
import Logging
import TEECrypto
import TEEInternalAPI
import TEETransport

/// Native (C) TAs served from TA folders: OP-TEE's signed `<uuid>.ta` files, built with the kit
/// (`export-ta_x86_64`), as tee-supplicant's TA path holds them for OP-TEE.
///
/// A TA is read once into private memory, and what is verified is what runs: the signed header
/// over the whole file (OP-TEE's format, RSA PKCS#1 v1.5 or PSS over SHA-256) against the keys
/// given, then the ELF (`NativeTAELF`), then copied into a sealed memfd — the TA host maps that
/// memfd, never the file, so changing the file after verification changes nothing. Libraries the
/// TA needs by UUID (`DT_NEEDED`) are found, verified and sealed the same way. A verified image
/// is kept while its files stay the same (device, inode, size, modification time): a cold
/// OpenSession of the same TA then costs no verification.
public final class NativeTAStore: @unchecked Sendable {
    // @unchecked: the cache is guarded by `lock`; everything else is immutable.
    public let folders: [URL]
    public let keys: [PublicKey]
    /// libutee.so, which every TA host loads before its sandbox closes.
    public let runtimeLibrary: String
    private let lock = NSLock()
    private var cache: [TEEUUID: Image] = [:]
    /// The versions of TAs and subkeys loaded so far (set by the secure world that serves this
    /// store, from its state folder); nil: none kept.
    var versions: TAVersionDatabase?

    /// Libraries one TA may pull in, all levels together (OP-TEE's ldelf has a similar bound).
    static let maxLibraries = 16

    /// A verified TA, sealed, with its libraries.
    final class Image: @unchecked Sendable {
        // @unchecked: immutable after init; the regions are read-only memfds.
        let properties: TAProperties
        let stackSize: UInt32
        let dataSize: UInt32
        let region: MappedRegion
        let libraries: [(name: String, region: MappedRegion, path: String)]
        let identities: [FileIdentity]
        /// The file it was read from.
        let path: String

        init(properties: TAProperties, stackSize: UInt32, dataSize: UInt32, region: MappedRegion, path: String,
             libraries: [(name: String, region: MappedRegion, path: String)], identities: [FileIdentity]) {
            self.path = path
            self.properties = properties
            self.stackSize = stackSize
            self.dataSize = dataSize
            self.region = region
            self.libraries = libraries
            self.identities = identities
        }
    }

    /// Which file, as it was when verified.
    struct FileIdentity: Equatable {
        let path: String
        let device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int

        init?(path: String) {
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            self.path = path
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            size = Int64(st.st_size)
            seconds = st.st_mtim.tv_sec
            nanoseconds = st.st_mtim.tv_nsec
        }

        var isCurrent: Bool { FileIdentity(path: path) == self }
    }

    /// The TA encryption key (OP-TEE's `tee_otp_get_ta_enc_key`, one for both key types): an
    /// encrypted TA is decrypted with it into private memory, then verified; nil: encrypted TAs
    /// are refused.
    let encryptionKey: SecureBytes?

    public init(folders: [URL], keys: [PublicKey], runtimeLibrary: String, encryptionKey: SecureBytes? = nil) {
        self.folders = folders
        self.keys = keys
        self.runtimeLibrary = runtimeLibrary
        self.encryptionKey = encryptionKey
    }

    /// The TA `uuid` from the folders, verified and sealed; nil when no folder has it.
    /// SECURITY for a file whose signature or hash fails, BAD_FORMAT for one that is not a TA
    /// of this kit (the reason is logged), origin TEE.
    func image(for uuid: TEEUUID, logger: Logger) throws(TEEError) -> Image? {
        if let cached = lock.withLock({ cache[uuid] }), cached.identities.allSatisfy(\.isCurrent) {
            return cached
        }
        guard let path = find(uuid.description) else { return nil }
        let image = try answering("native TA \(uuid) from \(path)", logger) { try load(uuid: uuid, path: path) }
        lock.withLock { cache[uuid] = image }
        logger.info("native TA \(uuid) verified from \(path) (\(image.libraries.count) libraries)")
        return image
    }

    /// `body`'s result, or its refusal as the TEE's answer, logged (anything else: OUT_OF_MEMORY,
    /// the sealing's only other failure).
    private func answering<T>(_ what: String, _ logger: Logger, _ body: () throws -> T) throws(TEEError) -> T {
        do {
            return try body()
        } catch let refusal as Refusal {
            logger.warning("\(what) refused (\(refusal.result)): \(refusal.error)")
            throw TEEError(refusal.result, origin: .tee)
        } catch {
            logger.warning("\(what) refused: \(error)")
            throw TEEError(.outOfMemory, origin: .tee)
        }
    }

    /// Why a file was refused, with OP-TEE's answer for it: SECURITY for anything wrong with the
    /// signed header (unsigned, damaged, signed by another key, another UUID — OP-TEE's TA store
    /// gives that), BAD_FORMAT for an ELF the loader cannot take (ldelf's answer),
    /// ITEM_NOT_FOUND for a library that no folder has.
    struct Refusal: Error {
        let result: TEEResult
        let error: ImageError
    }

    /// A TA library by its UUID name, for a dlopen at run time: it and the UUID libraries it
    /// needs, each verified and sealed (not cached: a run-time load is rare).
    func library(named name: String, logger: Logger) throws(TEEError) -> [(name: String, region: MappedRegion, path: String)] {
        try answering("TA library \(name)", logger) {
            var identities: [FileIdentity] = []
            return try libraries([name], seen: [], identities: &identities)
        }
    }

    /// `names` and what they need, breadth first, each once, none of `seen`.
    private func libraries(_ names: [String], seen: Set<String>, identities: inout [FileIdentity]) throws -> [(name: String, region: MappedRegion, path: String)] {
        var libraries: [(name: String, region: MappedRegion, path: String)] = []
        var pending = names
        var seen = seen
        while let name = pending.first {
            pending.removeFirst()
            guard seen.insert(name).inserted else { continue }
            guard libraries.count < Self.maxLibraries else {
                throw Refusal(result: .badFormat, error: ImageError(.badManifest, "more than \(Self.maxLibraries) TA libraries"))
            }
            guard let libraryPath = find(name) else {
                throw Refusal(result: .itemNotFound, error: ImageError(.dependencyUnmet, "library \(name).ta is in no TA folder"))
            }
            let (bytes, library) = try verified(name: name, path: libraryPath, requireHead: false, identities: &identities)
            libraries.append((name, try Self.seal(bytes), libraryPath))
            pending += library.neededTALibraries
        }
        return libraries
    }

    /// The unstripped ELF the kit wrote beside the `.ta` of a TA or TA library (`<uuid>.elf`),
    /// for debuggers and symbolizers only: it is not verified, and nothing of it is loaded.
    func debugELF(named name: String) -> String? {
        guard let ta = find(name) else { return nil }
        let elf = URL(fileURLWithPath: ta).deletingPathExtension().appendingPathExtension("elf").path
        return FileManager.default.fileExists(atPath: elf) ? elf : nil
    }

    private func find(_ name: String) -> String? {
        for folder in folders {
            let path = folder.appendingPathComponent(name + ".ta").path
            if FileIdentity(path: path) != nil { return path }
        }
        return nil
    }

    private func load(uuid: TEEUUID, path: String) throws -> Image {
        var identities: [FileIdentity] = []
        let (elf, ta) = try verified(name: uuid.description, path: path, requireHead: true, identities: &identities)
        guard let head = ta.head, let dataSize = ta.dataSize else { throw Refusal(result: .badFormat, error: ImageError(.malformedELF, "not a TA")) }
        guard head.uuid == Self.cLayout(uuid) else {
            throw Refusal(result: .badFormat, error: ImageError(.badManifest, "its ta_head names another UUID than its file"))
        }
        let libraries = try self.libraries(ta.neededTALibraries, seen: [uuid.description], identities: &identities)
        let flags = head.flags
        let properties = TAProperties(uuid: uuid, singleInstance: flags & NativeTAELF.Flag.singleInstance != 0,
                                      multiSession: flags & NativeTAELF.Flag.multiSession != 0,
                                      instanceKeepAlive: flags & NativeTAELF.Flag.instanceKeepAlive != 0,
                                      dataSize: dataSize, stackSize: head.stackSize, description: "native TA \(uuid)")
        return Image(properties: properties, stackSize: head.stackSize, dataSize: dataSize, region: try Self.seal(elf), path: path,
                     libraries: libraries, identities: identities)
    }

    /// One signed file, read once, its signature and ELF checked.
    private func verified(name: String, path: String, requireHead: Bool, identities: inout [FileIdentity]) throws -> ([UInt8], NativeTAELF) {
        func security(_ error: ImageError) -> Refusal { Refusal(result: .security, error: error) }
        guard let identity = FileIdentity(path: path) else { throw security(ImageError(.truncated, "\(path) is not a regular file")) }
        // Attacker: the file's writer (size bounded before it is read).
        guard identity.size <= Int64(SignedTA.maxFileSize) else {
            throw security(ImageError(.badImageSize, "\(identity.size) bytes (at most \(SignedTA.maxFileSize))"))
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw security(ImageError(.truncated, "\(path) cannot be read")) }
        identities.append(identity)
        guard let octets = TEEUUID(name)?.octets else { throw security(ImageError(.badManifest, "\(name) is not a UUID")) }
        let chain: SignedTAChain
        do {
            // OP-TEE's subkey chains included: the TA's UUID must then be in the last subkey's namespace.
            chain = try SignedTAChain.verify([UInt8](data), uuid: octets, keys: keys, decryptionKey: encryptionKey)
        } catch {
            throw security(error)
        }
        let signed = chain.ta
        let elf: NativeTAELF
        do {
            elf = try NativeTAELF(bytes: signed.elf, requireHead: requireHead)
        } catch {
            throw Refusal(result: .badFormat, error: error)
        }
        // Versions once the file is known good (OP-TEE checks after the hash): a subkey or TA
        // older than one already loaded is an old build put back.
        if let versions {
            for subkey in chain.subkeys { try check(versions, .subkey, uuid: subkey.uuid, version: subkey.version, what: "subkey") }
            if let uuid = signed.uuid, let version = signed.version { try check(versions, .ta, uuid: uuid, version: version, what: "TA") }
        }
        return (signed.elf, elf)
    }

    private func check(_ versions: TAVersionDatabase, _ kind: TAVersionDatabase.Kind, uuid: [UInt8], version: UInt32, what: String) throws {
        do {
            try versions.check(kind, uuid: uuid, version: version)
        } catch {
            let recorded = (try? versions.version(kind, uuid: uuid)).flatMap { $0 }.map { " (\($0) has been loaded)" } ?? ""
            throw Refusal(result: error, error: ImageError(.rollback, "\(what) \(TEEUUID(octets: uuid).map { "\($0)" } ?? "?") version \(version)\(recorded)"))
        }
    }

    private static func seal(_ bytes: [UInt8]) throws -> MappedRegion {
        let region = try MappedRegion.window(count: bytes.count)
        region.store(bytes, at: 0)
        try region.finishWindow(writable: false)
        return region
    }

    /// A TEE_UUID's 16 bytes as C lays them out (what ta_head holds).
    static func cLayout(_ u: TEEUUID) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: u.timeLow.littleEndian) { out += $0 }
        withUnsafeBytes(of: u.timeMid.littleEndian) { out += $0 }
        withUnsafeBytes(of: u.timeHiAndVersion.littleEndian) { out += $0 }
        out += u.octets[8..<16]
        return out
    }
}

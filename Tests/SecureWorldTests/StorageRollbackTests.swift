import Foundation
import Logging
import Testing
import TEECrypto
import TEEEmbedded
import TEEInternalAPI

/// Trusted storage v4 against an attacker who can change the state folder (red-team M2): each
/// rollback of part of it is CORRUPT_OBJECT, a write killed between two file operations leaves
/// the old or the new object, and what it cannot see — the whole folder restored — is pinned
/// too, so that the README's statement stays true.
@Suite struct StorageRollbackTests {
    /// A fresh secure world on `state` (a new one forgets every cache, as a restarted daemon).
    struct World {
        let context: TEEContext
        let session: TEESession

        init(_ state: URL) throws {
            var logger = Logger(label: "test.storage")
            logger.logLevel = .critical
            let world = SecureWorld(stateDirectory: state, logger: logger)
            world.register(StorageTA.self)
            context = TEEContext.embedded(world)
            session = try context.openSession(StorageTA.properties.uuid)
        }

        func write(_ id: String, _ data: String) throws {
            let flags: DataFlags = [.accessWrite, .overwrite]
            try session.invoke(StorageCommands.Cmd.create.rawValue, TEEOperation(.valueInput(flags.rawValue), .tempInput(Array(id.utf8)), .tempInput(Array(data.utf8))))
        }

        /// The object's data, or the error's result.
        func read(_ id: String) -> Result<String, TEEResult> {
            let op = TEEOperation(.tempInput(Array(id.utf8)), .tempOutput(capacity: 256))
            do {
                try session.invoke(StorageCommands.Cmd.read.rawValue, op)
                return .success(String(decoding: op.output(1)!, as: UTF8.self))
            } catch {
                return .failure(error.result)
            }
        }

        func close() { context.finalize() }
    }

    let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-rollback-\(UUID().uuidString)")
    var folder: URL { state.appendingPathComponent("storage/\(StorageTA.properties.uuid)") }

    func objectFiles() throws -> Set<String> { Set(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".rpo") }) }
    func bytes(_ name: String) throws -> Data { try Data(contentsOf: folder.appendingPathComponent(name)) }
    func put(_ data: Data, _ name: String) throws { try data.write(to: folder.appendingPathComponent(name)) }
    func remove(_ name: String) throws { try FileManager.default.removeItem(at: folder.appendingPathComponent(name)) }
    /// The files of a sealed pair (the TA's directory, a folder's root) as they are now.
    func snapshot(_ names: [String], in dir: URL) -> [String: Data] {
        var out: [String: Data] = [:]
        for name in names { out[name] = try? Data(contentsOf: dir.appendingPathComponent(name)) }
        return out
    }
    /// Puts a pair back as `snapshot` had it (a file it did not have is removed).
    func restore(_ snapshot: [String: Data], in dir: URL, names: [String]) throws {
        for name in names {
            if let data = snapshot[name] { try data.write(to: dir.appendingPathComponent(name)) } else { unlink(dir.appendingPathComponent(name).path) }
        }
    }
    static let directoryNames = ["dir-a.rpd", "dir-b.rpd"]
    static let rootNames = ["root-a.rpr", "root-b.rpr"]

    @Test func aSingleObjectFileRestoredOrDeletedIsCorrupt() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        var w = try World(state)
        try w.write("counter", "1")
        let oldFiles = try objectFiles()
        let oldFile = try #require(oldFiles.first)
        let old = try bytes(oldFile)
        try w.write("other", "kept")
        let otherFile = try #require(try objectFiles().subtracting(oldFiles).first)
        try w.write("counter", "5")
        let currentFile = try #require(try objectFiles().subtracting([otherFile]).first)
        #expect(currentFile != oldFile, "a new version is a new file")
        w.close()

        // The old copy put back under its own name, the current one removed: the directory names
        // the current version, whose file is gone.
        try remove(currentFile)
        try put(old, oldFile)
        w = try World(state)
        #expect(w.read("counter") == .failure(.corruptObject))
        #expect(w.read("other") == .success("kept"), "only the object whose file was changed")
        w.close()
        // The old bytes under the current version's name: the version is in the AAD.
        try put(old, currentFile)
        w = try World(state)
        #expect(w.read("counter") == .failure(.corruptObject))
        w.close()
        // Deleted: not ITEM_NOT_FOUND (the way around an anti-rollback counter), CORRUPT_OBJECT.
        try remove(currentFile)
        w = try World(state)
        #expect(w.read("counter") == .failure(.corruptObject))
        w.close()
    }

    @Test func theDirectoryRestoredAloneOrDeletedWithItsFilesIsCorrupt() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        var w = try World(state)
        try w.write("a", "first")
        let directory = snapshot(Self.directoryNames, in: folder)
        // One change later (the case a killed write would also leave behind: one new file).
        try w.write("b", "second")
        w.close()
        try restore(directory, in: folder, names: Self.directoryNames)
        w = try World(state)
        #expect(w.read("a") == .failure(.corruptObject), "the root's generation for this TA is ahead of the directory")
        #expect(w.read("b") == .failure(.corruptObject))
        w.close()
        // The TA's whole folder deleted: not an empty store.
        try FileManager.default.removeItem(at: folder)
        w = try World(state)
        #expect(w.read("a") == .failure(.corruptObject))
        w.close()
    }

    /// The root one generation behind the directory is a commit killed between the two writes:
    /// accepted and repaired. Two behind is the root (or the directory) restored: CORRUPT_OBJECT.
    @Test func aRootOneBehindIsAKilledCommitTwoBehindARollback() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        let rootFolder = state.appendingPathComponent("storage")
        var w = try World(state)
        try w.write("a", "1")
        let rootAt1 = snapshot(Self.rootNames, in: rootFolder)
        try w.write("a", "2")
        w.close()
        try restore(rootAt1, in: rootFolder, names: Self.rootNames)
        w = try World(state)
        #expect(w.read("a") == .success("2"))
        try w.write("a", "3")
        w.close()
        try restore(rootAt1, in: rootFolder, names: Self.rootNames)
        w = try World(state)
        #expect(w.read("a") == .failure(.corruptObject))
        w.close()
    }

    /// What a process killed mid-write leaves — an object file of the next generation, a temporary
    /// file — is not an object and is removed on the next use; the committed objects read.
    @Test func whatAKilledWriteLeavesIsRemoved() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        var w = try World(state)
        try w.write("a", "committed")
        let file = try #require(try objectFiles().first)
        w.close()
        try put(try bytes(file), "00112233445566778899aabbccddeeff.rpo")
        try put(Data("partial".utf8), "dir.rpd.tmp-1-2")
        // A directory write torn halfway: the file does not authenticate, the other one holds
        // the committed directory.
        let directories = snapshot(Self.directoryNames, in: folder)
        let torn = try #require(directories.first { $0.value.count > 0 })
        try put(torn.value.prefix(torn.value.count / 2) + Data(count: torn.value.count - torn.value.count / 2), Self.directoryNames.first { $0 != torn.key }!)
        w = try World(state)
        #expect(w.read("a") == .success("committed"))
        #expect(try objectFiles() == [file])
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("dir.rpd.tmp-1-2").path))
        w.close()
    }

    /// The limit, stated in the README: the whole storage folder (root, directories, files)
    /// restored together is an older state this format cannot tell from the current one.
    @Test func theWholeFolderRestoredIsNotSeenWithoutAnOutsideRoot() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        let storage = state.appendingPathComponent("storage"), copy = state.appendingPathComponent("storage-copy")
        var w = try World(state)
        try w.write("counter", "1")
        w.close()
        try FileManager.default.copyItem(at: storage, to: copy)
        w = try World(state)
        try w.write("counter", "5")
        w.close()
        try FileManager.default.removeItem(at: storage)
        try FileManager.default.moveItem(at: copy, to: storage)
        w = try World(state)
        #expect(w.read("counter") == .success("1"))
        w.close()
    }

    /// A v1/v2 folder whose migration was killed after some v3 files were written but before
    /// the directory: the migration starts again, nothing is lost.
    @Test func aMigrationKilledBeforeItsDirectoryStartsAgain() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/legacy-storage-v1")
        try FileManager.default.copyItem(at: fixture, to: state)
        defer { try? FileManager.default.removeItem(at: state) }
        chmod(state.appendingPathComponent("device-secret").path, 0o600)
        let legacy = state.appendingPathComponent("storage/8aaaf200-2450-11e4-abe2-0002a5d5c51b")
        try Data(repeating: 7, count: 64).write(to: legacy.appendingPathComponent("0123456789abcdef0123456789abcdef.rpo"))
        var logger = Logger(label: "test.storage")
        logger.logLevel = .critical
        let world = SecureWorld(stateDirectory: state, logger: logger)
        let backend = try world.storage(for: "8aaaf200-2450-11e4-abe2-0002a5d5c51b")
        #expect(try backend.list() == [Array("legacy-object".utf8)])
        #expect(try StoredObject.decode(try backend.load(Array("legacy-object".utf8))).data == Array("written by the v1 record format".utf8))
        let left = try FileManager.default.contentsOfDirectory(atPath: legacy.path).filter { !$0.hasPrefix(".") }
        #expect(left.count == 2 && left.contains { Self.directoryNames.contains($0) } && !left.contains("0123456789abcdef0123456789abcdef.rpo"), "\(left)")
    }

    /// A v3 folder (Tests/Fixtures/legacy-storage-v3, written by the v3 code at dbda951: two
    /// objects sealed whole, one deleted, a persistent time) reads as it is; each object becomes
    /// a v4 file on its first change (an in-place write, a rename), the directory and the root
    /// become their pairs on the first commit, and a restarted world reads it all back.
    @Test func aV3FolderReadsAndMovesToV4ObjectByObject() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/legacy-storage-v3")
        try FileManager.default.copyItem(at: fixture, to: state)
        defer { try? FileManager.default.removeItem(at: state) }
        chmod(state.appendingPathComponent("device-secret").path, 0o600)
        var logger = Logger(label: "test.storage")
        logger.logLevel = .critical
        let ta: TEEUUID = "8aaaf200-2450-11e4-abe2-0002a5d5c51b"
        let taFolder = state.appendingPathComponent("storage/\(ta)")
        let large = (0..<10000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var backend = try SecureWorld(stateDirectory: state, logger: logger).storage(for: ta)
        #expect(try backend.list() == [Array("large".utf8), Array("small".utf8)])
        #expect(try StoredObject.decode(try backend.load(Array("small".utf8))).data == Array("a v3 object, sealed whole".utf8))
        #expect(try StoredObject.decode(try backend.load(Array("large".utf8))).data == large)
        #expect(try backend.loadTimeOffset() == -1234)
        // Reading changes nothing: still v3's files.
        #expect(FileManager.default.fileExists(atPath: taFolder.appendingPathComponent("dir.rpd").path))
        // An in-place write into the large object: it becomes a v4 file (a tree: 10 000 bytes).
        let dataStart = try StoredObject.decodeMetadata(try backend.load(Array("large".utf8))).dataStart
        try backend.write(Array("large".utf8), at: dataStart + 5000, [1, 2, 3])
        var expected = large
        expected.replaceSubrange(5000..<5003, with: [1, 2, 3])
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: taFolder.path))
        #expect(!files.contains("dir.rpd") && files.contains("dir-a.rpd") && files.filter { $0.hasSuffix(".rpo") }.count == 2, "\(files)")
        #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("storage/root.rpr").path))
        // A rename of the small one (v3 files are bound to their id): rewritten, then moved.
        try backend.rename(Array("small".utf8), to: Array("renamed".utf8))
        backend = try SecureWorld(stateDirectory: state, logger: logger).storage(for: ta)
        #expect(try backend.list() == [Array("large".utf8), Array("renamed".utf8)])
        #expect(try StoredObject.decode(try backend.load(Array("renamed".utf8))).data == Array("a v3 object, sealed whole".utf8))
        #expect(try StoredObject.decode(try backend.load(Array("large".utf8))).data == expected)
        #expect(try backend.loadTimeOffset() == -1234)
    }

    /// Two secure worlds on one state folder (as two processes would be: each with its own
    /// caches) change the same object by turns, faster than the kernel's clock tick and with
    /// records of one size: each always reads the other's last write (a directory kept in
    /// memory is dropped when its file's IV changes, not only its change time).
    @Test func twoWorldsOnOneFolderSeeEachOthersWrites() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        let a = try World(state), b = try World(state)
        defer { a.close(); b.close() }
        for i in 0..<50 {
            let (writer, reader) = i % 2 == 0 ? (a, b) : (b, a)
            let value = String(format: "value %03d", i)
            try writer.write("shared", value)
            #expect(reader.read("shared") == .success(value), "turn \(i)")
        }
    }

    /// The directory's decoder (FuzzStorageDirectory's seeds round-trip) and what it refuses.
    @Test func theDirectoryFormatIsStrict() throws {
        let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/Seeds/storage-directory")
        let files = try FileManager.default.contentsOfDirectory(atPath: seeds.path)
        #expect(files.count >= 3)
        for file in files {
            let bytes = Array(try Data(contentsOf: seeds.appendingPathComponent(file)))
            let directory = try StorageDirectory.decode(bytes)
            if file.hasPrefix("v3-") {
                // v3 (no slot byte): read as v3 files (slot 0), written back as v4.
                #expect(directory.entries.values.allSatisfy { $0.slot == 0 } && Array(directory.encoded().prefix(4)) == Array("RPD4".utf8), "\(file)")
                #expect(try StorageDirectory.decode(directory.encoded()) == directory, "\(file)")
            } else {
                #expect(directory.encoded() == bytes, "\(file)")
            }
        }
        let tag = [UInt8](repeating: 1, count: 16)
        let good = StorageDirectory(generation: 4, entries: [Array("a".utf8): .init(version: 2, tag: tag, slot: 1), Array("b".utf8): .init(version: 4, tag: tag, slot: 2)]).encoded()
        var badSlot = good
        badSlot[16 + 2 + 1 + 8 + 16] = 3                   // the first entry's slot: 0, 1 or 2
        var unsorted = good
        unsorted[16 + 2] = UInt8(ascii: "c")            // the first id becomes "c", after "b"
        var future = good
        future[16 + 3] = 9                               // a version past the generation
        var long = good
        long[16] = 65                                    // an id longer than GP's 64
        var timeFlag = good
        timeFlag[timeFlag.count - 1] = 2                 // the time field's flag is 0 or 1
        for (name, bytes) in [("truncated", Array(good.dropLast())), ("trailing", good + [0]), ("unsorted", unsorted), ("version", future),
                              ("time flag", timeFlag), ("time truncated", Array(good.dropLast()) + [1, 0, 0]),
                              ("long id", long), ("slot", badSlot), ("magic", [0] + Array(good.dropFirst())), ("count", Array(good[0..<12]) + [0xFF, 0xFF, 0xFF, 0xFF])] {
            #expect(throws: TEEResult.corruptObject, "\(name)") { _ = try StorageDirectory.decode(bytes) }
        }
    }

    /// The TA's persistent time is in the directory: restoring the directory (to move a TA's
    /// time back) is a rolled-back directory — CORRUPT_OBJECT, which GP's TEE_GetTAPersistentTime
    /// answers as TIME_NEEDS_RESET. A v2 `persistent-time` file moves into the directory.
    @Test func thePersistentTimeRollsBackOnlyWithTheDirectory() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        var logger = Logger(label: "test.storage")
        logger.logLevel = .critical
        let ta: TEEUUID = "c0ffee00-0000-4000-8000-00000000a1a1"
        var world = SecureWorld(stateDirectory: state, logger: logger)
        var backend = try world.storage(for: ta)
        #expect(throws: TEEResult.itemNotFound) { _ = try backend.loadTimeOffset() }
        try backend.storeTimeOffset(-1000)
        let taFolder = state.appendingPathComponent("storage/\(ta)")
        let old = snapshot(Self.directoryNames, in: taFolder)
        try backend.storeTimeOffset(5000)
        #expect(try backend.loadTimeOffset() == 5000)
        try restore(old, in: taFolder, names: Self.directoryNames)
        world = SecureWorld(stateDirectory: state, logger: logger)
        backend = try world.storage(for: ta)
        #expect(throws: TEEResult.corruptObject) { _ = try backend.loadTimeOffset() }

        // A v2 record (AES-GCM under the TA's storage key, its own AAD) in a fresh TA's folder.
        let other: TEEUUID = "c0ffee00-0000-4000-8000-00000000a1a2"
        let secret = SecureBytes(Array(try Data(contentsOf: state.appendingPathComponent("device-secret"))))
        let key = try HKDF.deriveKey(inputKeyMaterial: secret, salt: other.octets, info: Array("rproc-tee storage v1".utf8), outputLength: 32)
        let iv = [UInt8](repeating: 3, count: 12)
        let (ct, tag) = try AESGCM.seal((0..<8).map { UInt8(truncatingIfNeeded: Int64(-42) >> (8 * Int64($0))) }, key: key, iv: iv,
                                       aad: Array("rproc-tee TA persistent time v1".utf8) + other.octets)
        let otherFolder = state.appendingPathComponent("storage/\(other)")
        try FileManager.default.createDirectory(at: otherFolder, withIntermediateDirectories: true)
        try Data(Array("RPTS".utf8) + iv + ct + tag).write(to: otherFolder.appendingPathComponent("persistent-time"))
        let migrated = try world.storage(for: other)
        #expect(try migrated.loadTimeOffset() == -42)
        #expect(!FileManager.default.fileExists(atPath: otherFolder.appendingPathComponent("persistent-time").path))
        #expect(try migrated.loadTimeOffset() == -42)
    }
}

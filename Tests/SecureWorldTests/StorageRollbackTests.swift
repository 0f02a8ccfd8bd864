import Foundation
import Logging
import Testing
import TEECrypto
import TEEEmbedded
import TEEInternalAPI

/// Trusted storage v3 against an attacker who can change the state folder (red-team M2): each
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
        let directory = try bytes("dir.rpd")
        // One change later (the case a killed write would also leave behind: one new file).
        try w.write("b", "second")
        w.close()
        try put(directory, "dir.rpd")
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
        let rootFile = state.appendingPathComponent("storage/root.rpr")
        var w = try World(state)
        try w.write("a", "1")
        let rootAt1 = try Data(contentsOf: rootFile)
        try w.write("a", "2")
        let rootAt2 = try Data(contentsOf: rootFile)
        w.close()
        try rootAt1.write(to: rootFile)
        w = try World(state)
        #expect(w.read("a") == .success("2"))
        try w.write("a", "3")
        w.close()
        try rootAt1.write(to: rootFile)
        w = try World(state)
        #expect(w.read("a") == .failure(.corruptObject))
        w.close()
        _ = rootAt2
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
        #expect(left.count == 2 && left.contains("dir.rpd") && !left.contains("0123456789abcdef0123456789abcdef.rpo"), "\(left)")
    }

    /// The directory's decoder (FuzzStorageDirectory's seeds round-trip) and what it refuses.
    @Test func theDirectoryFormatIsStrict() throws {
        let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/Seeds/storage-directory")
        let files = try FileManager.default.contentsOfDirectory(atPath: seeds.path)
        #expect(files.count >= 3)
        for file in files {
            let bytes = Array(try Data(contentsOf: seeds.appendingPathComponent(file)))
            #expect(try StorageDirectory.decode(bytes).encoded() == bytes, "\(file)")
        }
        let tag = [UInt8](repeating: 1, count: 16)
        let good = StorageDirectory(generation: 4, entries: [Array("a".utf8): .init(version: 2, tag: tag), Array("b".utf8): .init(version: 4, tag: tag)]).encoded()
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
                              ("long id", long), ("magic", [0] + Array(good.dropFirst())), ("count", Array(good[0..<12]) + [0xFF, 0xFF, 0xFF, 0xFF])] {
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
        let old = try Data(contentsOf: taFolder.appendingPathComponent("dir.rpd"))
        try backend.storeTimeOffset(5000)
        #expect(try backend.loadTimeOffset() == 5000)
        try old.write(to: taFolder.appendingPathComponent("dir.rpd"))
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

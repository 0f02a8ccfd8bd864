import Foundation
import HelloWorldTA
import HelloWorldTAInterface
import OPTEETestTAInterface
import OPTEETestTAs
import Testing
import TEEEmbedded
import TEEInternalAPI

/// Persistent objects with metadata: the record format, records written before it (raw data,
/// v1), persistent key objects and their usage.
@Suite struct PersistentKeyTests {
    /// The record codec: round trips, and every malformed record is CORRUPT_OBJECT.
    @Test func recordFormat() throws {
        var key = StoredObject.dataObject(Array("payload".utf8))
        key.type = .aes
        key.keySize = 256
        key.maxKeySize = 256
        key.usage = [.encrypt, .decrypt]
        key.attributes = [.ref(AttributeID.secretValue, [UInt8](repeating: 7, count: 32)), .value(AttributeID.eccCurve, a: 3, b: 0)]
        for record in [StoredObject.dataObject([]), StoredObject.dataObject([1, 2, 3]), key] {
            #expect(try StoredObject.decode(record.encoded()) == record)
        }
        let bytes = key.encoded()
        // Every truncation inside the header or the attributes fails; past them it is data.
        let dataStart = bytes.count - 7
        for n in 0..<dataStart { #expect(throws: TEEResult.corruptObject, "\(n) bytes") { _ = try StoredObject.decode(Array(bytes.prefix(n))) } }
        var badMagic = bytes; badMagic[0] ^= 1
        var badKind = bytes; badKind[4 * 6 + 4] = 9          // the first attribute's kind byte
        var tooMany = bytes; tooMany[20] = 17                 // the attribute count
        var longBuffer = bytes; longBuffer[4 * 6 + 5] = 0xFF  // the first buffer's length
        for (name, b) in [("magic", badMagic), ("kind", badKind), ("count", tooMany), ("length", longBuffer)] {
            #expect(throws: TEEResult.corruptObject, "\(name)") { _ = try StoredObject.decode(b) }
        }
    }

    /// A state folder written before records carried metadata (`Tests/Fixtures/legacy-storage-v1`:
    /// the hello-world TA stored "legacy-object" with the v1 format) still reads, as a data
    /// object; written again, it is a v2 record and still reads.
    @Test func recordsOfTheFirstFormatStillRead() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/legacy-storage-v1")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-legacy-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: fixture, to: state)
        defer { try? FileManager.default.removeItem(at: state) }
        chmod(state.appendingPathComponent("device-secret").path, 0o600)
        let world = SecureWorld(stateDirectory: state)
        world.register(HelloWorld.self)
        let context = TEEContext.embedded(world)
        defer { context.finalize() }
        let s = try context.openSession(HelloWorldTA.uuid)
        func load() throws -> String {
            let op = TEEOperation(.tempInput(Array("legacy-object".utf8)), .tempOutput(capacity: 64))
            try s.invoke(HelloWorldTA.Command.load.rawValue, op)
            return String(decoding: op.output(1)!, as: UTF8.self)
        }
        #expect(try load() == "written by the v1 record format")
        // Migrated to v3 on first use: the v1 file is gone, a directory and one object file hold it.
        let folder = state.appendingPathComponent("storage/\(HelloWorldTA.uuid)")
        func files() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted() }
        let migrated = try files()
        #expect(!migrated.contains("6c65676163792d6f626a656374.obj") && migrated.contains { $0.hasPrefix("dir-") } && migrated.filter { $0.hasSuffix(".rpo") }.count == 1, "\(migrated)")
        try s.invoke(HelloWorldTA.Command.store.rawValue, TEEOperation(.tempInput(Array("legacy-object".utf8)), .tempInput(Array("rewritten".utf8))))
        #expect(try files() != migrated, "a new version is a new file")
        #expect(try load() == "rewritten")
        // The old v1 file put back after the migration is not the object (the directory is).
        try FileManager.default.copyItem(at: fixture.appendingPathComponent("storage/\(HelloWorldTA.uuid)/6c65676163792d6f626a656374.obj"),
                                         to: folder.appendingPathComponent("6c65676163792d6f626a656374.obj"))
        #expect(try load() == "rewritten")
    }

    /// Persistent key objects through the storage TA port: KEY_IN_PERSISTENT (xtest 6013), a key
    /// persisted from a transient object and from another persistent key, its information, and
    /// a usage restriction that survives a new session (xtest 6021).
    @Test func keysAndUsageInPersistentObjects() throws {
        let (context, state) = try StorageTATests.context()
        defer { context.finalize(); try? FileManager.default.removeItem(at: state) }
        let s = try StorageClient.open(context)
        try s.call(.keyInPersistent, TEEOperation(.valueInput(StoragePort.storagePrivate)))
        #expect(try s.enumerate().isEmpty, "KEY_IN_PERSISTENT cleans up")
        // An AES key generated in a transient object cannot be made by the port's commands
        // alone: ALLOC_OBJ gives an empty one, which GP refuses to persist (a panic) — so the
        // key comes from KEY_IN_PERSISTENT's path above; here a data object's usage.
        let rw: DataFlags = [.accessRead, .accessWrite, .accessWriteMeta]
        let h = try s.create(Array("usage".utf8), rw.union(.overwrite), data: [1])
        #expect(try s.info(h)[3] == 0xFFFF_FFFF)
        try s.call(.restrictUsage, TEEOperation(.valueInput(h, ~KeyUsage.extractable.rawValue)))
        #expect(try s.info(h)[3] == ~KeyUsage.extractable.rawValue)
        try s.close(h)
        let again = try StorageClient.open(context)
        let reopened = try again.open(Array("usage".utf8), rw)
        #expect(try again.info(reopened)[3] == ~KeyUsage.extractable.rawValue, "the restriction is stored")
        #expect(try again.read(reopened, 4) == [1])
        try again.unlink(reopened)
        // Without ACCESS_WRITE_META a persistent object's usage cannot be restricted: that is a
        // panic in GP; through the port it ends the TA (checked across processes in
        // CryptTADaemonTests.storageTAInAnIsolatedProcess).
    }

    /// Keys of each family persisted from a transient object and given back by the persistent
    /// object: every attribute, the usage, the information and the data stream the same.
    @Test func everyKeyFamilyRoundTrips() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(StorageTA.properties.uuid)
        let op = TEEOperation(.tempOutput(capacity: 1024))
        try s.invoke(StorageCommands.Cmd.persistKeys.rawValue, op)
        #expect(String(decoding: op.output(0)!, as: UTF8.self) == "aes:same/1/info/data|hmac:same/1/info/data|rsa:same/8/info/data|ecdsa:same/3/info/data|ecdh:same/3/info/data")
    }
}

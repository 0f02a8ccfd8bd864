import Foundation
import HelloWorldTAInterface
import Testing
import TEEEmbedded
import TEEInternalAPI

@Suite struct StorageTests {
    let id = Array("secret-1".utf8)

    func create(_ s: TEESession, _ id: [UInt8], _ data: [UInt8], flags: DataFlags = [.accessWrite, .overwrite]) throws(TEEClientError) {
        try s.invoke(StorageCommands.Cmd.create.rawValue, TEEOperation(.valueInput(flags.rawValue), .tempInput(id), .tempInput(data)))
    }

    func read(_ s: TEESession, _ id: [UInt8]) throws(TEEClientError) -> [UInt8] {
        let op = TEEOperation(.tempInput(id), .tempOutput(capacity: 4096))
        try s.invoke(StorageCommands.Cmd.read.rawValue, op)
        return op.output(1)!
    }

    @Test func createReadAndPersistAcrossWorlds() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(StorageTA.properties.uuid)
        try create(s, id, Array("top secret".utf8))
        #expect(try read(s, id) == Array("top secret".utf8))
        // The file on disk does not contain the plaintext.
        let folder = h.state.appendingPathComponent("storage/\(StorageTA.properties.uuid)")
        // One object file (named by a keyed hash: not the id), the sealed directory, the lock.
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(files.filter { $0.hasSuffix(".rpo") }.count == 1 && files.contains { $0.hasPrefix("dir-") }, "\(files)")
        for file in files where !file.hasPrefix(".") {
            let stored = try Data(contentsOf: folder.appendingPathComponent(file))
            #expect(stored.range(of: Data("top secret".utf8)) == nil && stored.range(of: Data("secret-1".utf8)) == nil)
            if file.hasSuffix(".rpo") { #expect(stored.count == 4096, "one 4 KiB slot: the header, holding the record") }
        }
        // A new secure world on the same state folder (same device secret) reads it back.
        let world2 = SecureWorld(stateDirectory: h.state)
        world2.register(StorageTA.self)
        let context2 = TEEContext.embedded(world2)
        defer { context2.finalize() }
        #expect(try read(try context2.openSession(StorageTA.properties.uuid), id) == Array("top secret".utf8))
        // Create without OVERWRITE on an existing id: ACCESS_CONFLICT.
        #expect(clientError { () throws(TEEClientError) in try create(s, id, [1], flags: [.accessWrite]) } == TEEClientError(.accessConflict, origin: .trustedApp))
        // The HelloWorld TA's store/load commands work the same way.
        let hello = try h.context.openSession(HelloWorldTA.uuid)
        try hello.invoke(HelloWorldTA.Command.store.rawValue, TEEOperation(.tempInput([1, 2]), .tempInput([9, 9, 9])))
        let load = TEEOperation(.tempInput([1, 2]), .tempOutput(capacity: 2))
        #expect(clientError { () throws(TEEClientError) in try hello.invoke(HelloWorldTA.Command.load.rawValue, load) } == TEEClientError(.shortBuffer, origin: .trustedApp))
        #expect(load.size(1) == 3)
    }

    /// A file changed outside the TEE is detected: CORRUPT_OBJECT.
    @Test(arguments: ["flip a ciphertext byte", "flip a tag byte", "truncate", "swap with another object", "empty file"])
    func tamperingIsDetected(how: String) throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(StorageTA.properties.uuid)
        try create(s, id, Array("important data".utf8))
        try create(s, Array("other".utf8), Array("other data".utf8))
        let folder = h.state.appendingPathComponent("storage/\(StorageTA.properties.uuid)")
        // Both object files (their names are keyed hashes: the test does not know which is which).
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".rpo") }.map { folder.appendingPathComponent($0) }
        #expect(files.count == 2)
        let originals = try files.map { Array(try Data(contentsOf: $0)) }
        for (i, file) in files.enumerated() {
            var bytes = originals[i]
            switch how {
            case "flip a ciphertext byte": bytes[20] ^= 1
            case "flip a tag byte": bytes[bytes.count - 1] ^= 1
            case "truncate": bytes.removeLast(3)
            case "swap with another object": bytes = originals[1 - i]
            default: bytes = []
            }
            try Data(bytes).write(to: file)
        }
        #expect(clientError { () throws(TEEClientError) in _ = try read(s, id) } == TEEClientError(.corruptObject, origin: .trustedApp))
    }

    @Test func objectsArePrivateToTheirTA() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let a = try h.context.openSession(StorageTA.properties.uuid), b = try h.context.openSession(OtherStorageTA.properties.uuid)
        try create(a, id, Array("A's".utf8))
        #expect(clientError { () throws(TEEClientError) in _ = try read(b, id) } == TEEClientError(.itemNotFound, origin: .trustedApp))
        try create(b, id, Array("B's".utf8))
        #expect(try read(a, id) == Array("A's".utf8))
        #expect(try read(b, id) == Array("B's".utf8))
        let list = TEEOperation(.tempOutput(capacity: 256))
        try b.invoke(StorageCommands.Cmd.list.rawValue, list)
        #expect(String(decoding: list.output(0)!, as: UTF8.self) == "secret-1")
        // Copying A's file into B's folder does not make it B's: the TA identity is authenticated.
        let root = h.state.appendingPathComponent("storage")
        func objectFile(_ ta: TEEUUID) throws -> URL {
            let folder = root.appendingPathComponent(ta.description)
            return folder.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix(".rpo") }))
        }
        let aFile = try objectFile(StorageTA.properties.uuid), bFile = try objectFile(OtherStorageTA.properties.uuid)
        try FileManager.default.removeItem(at: bFile)
        try FileManager.default.copyItem(at: aFile, to: bFile)
        #expect(clientError { () throws(TEEClientError) in _ = try read(b, id) } == TEEClientError(.corruptObject, origin: .trustedApp))
    }

    /// GP sharing rules between handles.
    @Test func sharingConflicts() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(StorageTA.properties.uuid)
        try create(s, id, [1, 2, 3])
        func open2(_ first: DataFlags, _ second: DataFlags) -> TEEClientError? {
            clientError { () throws(TEEClientError) in
                try s.invoke(StorageCommands.Cmd.conflict.rawValue, TEEOperation(.valueInput(first.rawValue, second.rawValue), .tempInput(id)))
            }
        }
        let conflict = TEEClientError(.accessConflict, origin: .trustedApp)
        #expect(open2([.accessRead, .shareRead], [.accessRead, .shareRead]) == nil)
        #expect(open2([.accessRead], [.accessRead, .shareRead]) == conflict, "first does not share reading")
        #expect(open2([.accessRead, .shareRead], [.accessRead]) == conflict, "second does not share what the first does")
        #expect(open2([.accessRead, .shareRead, .shareWrite], [.accessWrite, .shareRead, .shareWrite]) == nil)
        #expect(open2([.accessRead, .shareRead], [.accessWrite, .shareRead]) == conflict, "writing needs SHARE_WRITE from the first")
        #expect(open2([.accessRead, .shareRead], [.accessWriteMeta]) == conflict, "delete/rename needs exclusive access")
        // Unknown ids and id lengths: at most 64 bytes; the empty id is an id (GP allows it,
        // OP-TEE accepts it, xtest 6001 creates one).
        #expect(clientError { () throws(TEEClientError) in _ = try read(s, Array("nope".utf8)) } == TEEClientError(.itemNotFound, origin: .trustedApp))
        #expect(clientError { () throws(TEEClientError) in try create(s, [UInt8](repeating: 1, count: 65), [1]) } == TEEClientError(.badParameters, origin: .trustedApp))
        try create(s, [UInt8](repeating: 1, count: 64), [2])
        try create(s, [], [1])
        #expect(try read(s, []) == [1])
    }

    @Test func seekWriteTruncateRenameDelete() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(StorageTA.properties.uuid)
        let op = TEEOperation(.tempInput(Array("obj".utf8)), .tempOutput(capacity: 256))
        try s.invoke(StorageCommands.Cmd.scenario.rawValue, op)
        #expect(String(decoding: op.output(1)!, as: UTF8.self) == "hello|TEE!!|seek:true|size:5|gap:9|ids:obj-renamed|after:0")
    }

    /// GP's enumerator and object information: an empty storage has nothing to start on
    /// (ITEM_NOT_FOUND, 0xFFFF0008), a started one lists every object once in byte order with its
    /// size and DATA type, then ITEM_NOT_FOUND; reset forgets the walk; OP-TEE's REE storage id
    /// names the same storage (as PRIVATE on OP-TEE's default build), RPMB none. TEE_GetObjectInfo1 of an open handle: GP's 28-byte layout with the
    /// position and the handle's flags.
    @Test func enumeratorAndObjectInfo() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(StorageTA.properties.uuid)
        func transcript() throws -> String {
            let op = TEEOperation(.tempOutput(capacity: 4096))
            try s.invoke(StorageCommands.Cmd.enumerate.rawValue, op)
            return String(decoding: op.output(0)!, as: UTF8.self)
        }
        #expect(try transcript() == "before-start:ffff0008|start:ffff0008|end:ffff0008|reset:ffff0008|ree:ffff0008|rpmb:ffff0008")
        for (name, size) in [("b", 3), ("a", 0), ("c-longer-id", 100)] {
            try create(s, Array(name.utf8), [UInt8](repeating: 7, count: size))
        }
        #expect(try transcript() == "before-start:ffff0008|start:ok|a=0/30000/a00000bf|b=3/30000/a00000bf|c-longer-id=100/30000/a00000bf|end:ffff0008|reset:ffff0008|ree:ok|rpmb:ffff0008")
        // Deleted objects drop out of the next walk.
        try s.invoke(StorageCommands.Cmd.delete.rawValue, TEEOperation(.tempInput(Array("b".utf8))))
        #expect(try transcript().contains("start:ok|a=0/30000/a00000bf|c-longer-id=100/30000/a00000bf|end"))
        // Red-team L3: a file planted in the folder (another object's record under a new name,
        // or junk) is not listed — only names whose record authenticates are — and object files
        // are the daemon user's alone.
        let folder = h.state.appendingPathComponent("storage/\(StorageTA.properties.uuid)")
        let a = folder.appendingPathComponent(try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix(".rpo") }))
        try FileManager.default.copyItem(at: a, to: folder.appendingPathComponent("7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a.rpo"))
        try Data("junk".utf8).write(to: folder.appendingPathComponent("41414141.obj"))
        try Data("junk".utf8).write(to: folder.appendingPathComponent("41414141414141414141414141414141.rpo"))
        let walk = try transcript()
        #expect(walk.contains("start:ok|a=0/30000/a00000bf|c-longer-id=100/30000/a00000bf|end"), "\(walk)")
        #expect((try FileManager.default.attributesOfItem(atPath: a.path)[.posixPermissions] as? Int) == 0o600)

        let flags: DataFlags = [.accessRead, .shareRead]
        let op = TEEOperation(.valueInput(flags.rawValue, 42), .tempInput(Array("c-longer-id".utf8)), .tempOutput(capacity: 28))
        try s.invoke(StorageCommands.Cmd.info.rawValue, op)
        let bytes = try #require(op.output(2))
        let words = (0..<7).map { i in (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[4 * i + $1]) << (8 * $1) } }
        #expect(words == [0xA000_00BF, 0, 0, 0xFFFF_FFFF, 100, 42, 0x0003_0000 | flags.rawValue])
        // A buffer too small for the 28 bytes: SHORT_BUFFER with the size needed.
        let short = TEEOperation(.valueInput(flags.rawValue, 0), .tempInput(Array("a".utf8)), .tempOutput(capacity: 27))
        #expect(clientError { () throws(TEEClientError) in try s.invoke(StorageCommands.Cmd.info.rawValue, short) } == TEEClientError(.shortBuffer, origin: .trustedApp))
        #expect(short.size(2) == 28)
    }
}

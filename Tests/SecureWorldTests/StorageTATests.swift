import Foundation
import OPTEETestTAInterface
import OPTEETestTAs
import Testing
import TEEEmbedded
import TEEInternalAPI

/// The port's interface (this test target has a test TA of its own named StorageTA).
typealias StoragePort = OPTEETestTAInterface.StorageTA

/// The storage TA's commands as xtest's `fs_*` helpers drive them (handles in values, ids and
/// data as temporary memrefs).
struct StorageClient {
    let session: TEESession

    static func open(_ context: TEEContext, uuid: TEEUUID = StoragePort.uuid) throws -> StorageClient {
        StorageClient(session: try context.openSession(uuid))
    }

    func call(_ command: StoragePort.Command, _ op: TEEOperation) throws(TEEClientError) { try session.invoke(command.rawValue, op) }

    func create(_ id: [UInt8], _ flags: DataFlags, data: [UInt8] = [], storage: UInt32 = StoragePort.storagePrivate, attributes: UInt32 = 0) throws(TEEClientError) -> UInt32 {
        let op = TEEOperation(.tempInput(id), .valueInout(flags.rawValue, 0), .valueInput(attributes, storage), .tempInput(data))
        try call(.create, op)
        return op.value(1)!.b
    }

    func open(_ id: [UInt8], _ flags: DataFlags, storage: UInt32 = StoragePort.storagePrivate) throws(TEEClientError) -> UInt32 {
        let op = TEEOperation(.tempInput(id), .valueInout(flags.rawValue, 0), .valueInput(storage))
        try call(.open, op)
        return op.value(1)!.b
    }

    func close(_ h: UInt32) throws(TEEClientError) { try call(.close, TEEOperation(.valueInput(h))) }
    func unlink(_ h: UInt32) throws(TEEClientError) { try call(.unlink, TEEOperation(.valueInput(h))) }
    func write(_ h: UInt32, _ data: [UInt8]) throws(TEEClientError) { try call(.write, TEEOperation(.tempInput(data), .valueInput(h))) }
    func rename(_ h: UInt32, _ id: [UInt8]) throws(TEEClientError) { try call(.rename, TEEOperation(.valueInput(h), .tempInput(id))) }
    func truncate(_ h: UInt32, _ size: UInt32) throws(TEEClientError) { try call(.trunc, TEEOperation(.valueInput(h, size))) }

    func read(_ h: UInt32, _ count: Int) throws(TEEClientError) -> [UInt8] {
        let op = TEEOperation(.tempOutput(capacity: count), .valueInout(h, 0))
        try call(.read, op)
        return Array(op.output(0)!.prefix(Int(op.value(1)!.b)))
    }

    func seek(_ h: UInt32, _ offset: Int32, whence: UInt32) throws(TEEClientError) -> UInt32 {
        let op = TEEOperation(.valueInput(h, UInt32(bitPattern: offset)), .valueInout(whence, 0))
        try call(.seek, op)
        return op.value(1)!.b
    }

    /// TEE_ObjectInfo's seven words.
    func info(_ h: UInt32) throws(TEEClientError) -> [UInt32] {
        let op = TEEOperation(.valueInput(h), .tempOutput(capacity: 28))
        try call(.getObjInfo, op)
        let b = op.output(1)!
        return (0..<7).map { i in (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[4 * i + $1]) << (8 * $1) } }
    }

    /// Every (id, dataSize) the enumerator yields on `storage`.
    func enumerate(storage: UInt32 = StoragePort.storagePrivate) throws(TEEClientError) -> [([UInt8], UInt32)] {
        let alloc = TEEOperation(.valueOutput)
        try call(.allocEnum, alloc)
        let e = alloc.value(0)!.a
        defer { _ = try? call(.freeEnum, TEEOperation(.valueInput(e))) }
        do { try call(.startEnum, TEEOperation(.valueInput(e, storage))) } catch where error.result == .itemNotFound { return [] }
        var out: [([UInt8], UInt32)] = []
        while true {
            let next = TEEOperation(.valueInput(e), .tempOutput(capacity: 28), .tempOutput(capacity: 64))
            do { try call(.nextEnum, next) } catch where error.result == .itemNotFound { return out }
            let b = next.output(1)!
            out.append((next.output(2)!, (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[16 + $1]) << (8 * $1) }))
        }
    }
}

/// The port of optee_test's storage TA, embedded: what xtest's 6000 series checks, with our
/// own cases.
@Suite struct StorageTATests {
    static func context() throws -> (TEEContext, URL) {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-storage-ta-\(UUID().uuidString)")
        let world = SecureWorld(stateDirectory: state)
        world.register(StorageTAImplementation.self)
        world.register(Storage2TAImplementation.self)
        return (TEEContext.embedded(world), state)
    }

    let rw: DataFlags = [.accessRead, .accessWrite, .accessWriteMeta]
    let taError = { (code: TEEResult) in TEEClientError(code, origin: .trustedApp) }

    @Test func dataObjectLifecycle() throws {
        let (context, state) = try Self.context()
        defer { context.finalize(); try? FileManager.default.removeItem(at: state) }
        let s = try StorageClient.open(context)
        // An empty id is an id (xtest 6001).
        let empty = try s.create([], rw, data: [1, 2, 3])
        #expect(try s.read(empty, 10) == [1, 2, 3])
        try s.unlink(empty)
        // Write, seek (all three origins), read, truncate, the info words on the way.
        let h = try s.create(Array("obj".utf8), rw, data: Array("hello world".utf8))
        #expect(try s.info(h) == [0xA000_00BF, 0, 0, 0xFFFF_FFFF, 11, 0, 0x0003_0000 | rw.rawValue])
        #expect(try s.seek(h, 6, whence: 0) == 6)
        try s.write(h, Array("TEE!!".utf8))
        #expect(try s.seek(h, -5, whence: 1) == 6)
        #expect(try s.read(h, 100) == Array("TEE!!".utf8))
        #expect(try s.seek(h, -11, whence: 2) == 0)
        #expect(try s.read(h, 5) == Array("hello".utf8))
        #expect(throws: taError(.overflow)) { try s.seek(h, -1, whence: 0) }
        try s.truncate(h, 3)
        #expect(try s.info(h)[4] == 3)
        // Rename onto an existing id: ACCESS_CONFLICT; onto a new one: the old is gone.
        let other = try s.create(Array("other".utf8), rw)
        #expect(throws: taError(.accessConflict)) { try s.rename(h, Array("other".utf8)) }
        try s.unlink(other)
        try s.rename(h, Array("renamed".utf8))
        try s.close(h)
        #expect(throws: taError(.itemNotFound)) { _ = try s.open(Array("obj".utf8), [.accessRead]) }
        // Exclusive access after the rename and close: the handle was released under its new id.
        let again = try s.open(Array("renamed".utf8), [.accessRead, .accessWriteMeta])
        #expect(try s.read(again, 10) == Array("hel".utf8))
        #expect(try s.enumerate().map(\.0) == [Array("renamed".utf8)])
        try s.unlink(again)
        #expect(try s.enumerate().isEmpty)
        // NULL handles: close and unlink do nothing.
        try s.close(0)
        try s.unlink(0)
    }

    /// PRIVATE and PRIVATE_REE are one storage (OP-TEE's default build), RPMB is none; the
    /// enumerator lists every object with its size; storage2 sees none of storage's objects;
    /// LOOP and CLEAR_STORAGE; KEY_IN_PERSISTENT; a stored usage restriction.
    @Test func storagesEnumerationAndIsolation() throws {
        let (context, state) = try Self.context()
        defer { context.finalize(); try? FileManager.default.removeItem(at: state) }
        let s = try StorageClient.open(context), s2 = try StorageClient.open(context, uuid: StoragePort.uuid2)
        try s.close(try s.create(Array("a".utf8), rw, data: [1]))
        try s.close(try s.create(Array("b".utf8), rw, data: [1, 2], storage: StoragePort.storagePrivateREE))
        #expect(throws: taError(.itemNotFound)) { _ = try s.create(Array("c".utf8), rw, storage: StoragePort.storagePrivateRPMB) }
        let listed = try s.enumerate()
        #expect(listed.map(\.0) == [Array("a".utf8), Array("b".utf8)] && listed.map(\.1) == [1, 2])
        #expect(try s.enumerate(storage: StoragePort.storagePrivateREE).count == 2)
        #expect(try s.enumerate(storage: StoragePort.storagePrivateRPMB).isEmpty)
        #expect(try s2.enumerate().isEmpty, "storage2 sees nothing of storage's")
        #expect(throws: taError(.itemNotFound)) { _ = try s2.open(Array("a".utf8), [.accessRead]) }
        try s.call(.loop, TEEOperation(.valueInput(StoragePort.storagePrivate)))
        #expect(try s.enumerate().count == 2, "LOOP deletes what it creates")
        try s.call(.clearStorage, TEEOperation())
        #expect(try s.enumerate().isEmpty)
        // Persistent key objects (PersistentKeyTests has more) and a data object's usage.
        try s.call(.keyInPersistent, TEEOperation(.valueInput(StoragePort.storagePrivate)))
        let data = try s.create(Array("d".utf8), rw)
        try s.call(.restrictUsage, TEEOperation(.valueInput(data, 1)))
        #expect(try s.info(data)[3] == 1)
        // A transient object's info through GET_OBJ_INFO: AES, not initialized.
        let key = TEEOperation(.valueInput(0xA000_0010, 256), .valueOutput)
        try s.call(.allocObj, key)
        #expect(try s.info(key.value(1)!.a)[0...3] == [0xA000_0010, 0, 256, 0xFFFF_FFFF])
        // NEXT_ENUM's buffers: an id buffer under 64 bytes, an info buffer under 28.
        let alloc = TEEOperation(.valueOutput)
        try s.call(.allocEnum, alloc)
        try s.call(.startEnum, TEEOperation(.valueInput(alloc.value(0)!.a, StoragePort.storagePrivate)))
        #expect(throws: taError(.shortBuffer)) { try s.call(.nextEnum, TEEOperation(.valueInput(alloc.value(0)!.a), .tempOutput(capacity: 28), .tempOutput(capacity: 63))) }
        let small = TEEOperation(.valueInput(alloc.value(0)!.a), .tempOutput(capacity: 27), .tempOutput(capacity: 64))
        #expect(throws: taError(.shortBuffer)) { try s.call(.nextEnum, small) }
        #expect(small.size(1) == 28)
    }
}

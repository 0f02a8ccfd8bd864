import Foundation
import Logging
import Testing
import TEECrypto
import TEEEmbedded
import TEEInternalAPI

/// The emulated RPMB device (JEDEC's protocol, attacked from the normal world's side: frames
/// without the key, replayed, out of range, malformed) and what it anchors: a state folder
/// restored whole is CORRUPT_OBJECT while the device is not restored with it, and
/// TEE_STORAGE_PRIVATE_RPMB is a storage of its own.
@Suite struct RPMBTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-rpmb-\(UUID().uuidString)")
    var deviceURL: URL { folder.appendingPathComponent("rpmb.bin") }
    var state: URL { folder.appendingPathComponent("state") }

    init() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    static func frame(_ type: RPMBFrame.Request, address: UInt16 = 0, count: UInt16 = 0, counter: UInt32 = 0, data: [UInt8] = [], nonce: [UInt8] = [], keyMAC: [UInt8] = []) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 512)
        f.replaceSubrange(196..<196 + keyMAC.count, with: keyMAC)
        f.replaceSubrange(228..<228 + data.count, with: data)
        f.replaceSubrange(484..<484 + nonce.count, with: nonce)
        for i in 0..<4 { f[500 + i] = UInt8(truncatingIfNeeded: counter >> (24 - 8 * UInt32(i))) }
        f[504] = UInt8(address >> 8); f[505] = UInt8(truncatingIfNeeded: address)
        f[506] = UInt8(count >> 8); f[507] = UInt8(truncatingIfNeeded: count)
        f[510] = 0; f[511] = UInt8(type.rawValue)
        return f
    }

    static func result(_ f: [UInt8]) -> UInt16 { UInt16(f[508]) << 8 | UInt16(f[509]) }
    static func counter(_ f: [UInt8]) -> UInt32 { f[500..<504].reduce(0) { $0 << 8 | UInt32($1) } }
    static func mac(_ frames: [[UInt8]], _ key: [UInt8]) throws -> [UInt8] {
        var h = try HMAC(.sha256, key: SecureBytes(key))
        for f in frames { h.update(f[228..<512]) }
        return h.finalize()
    }

    @Test func theDeviceSpeaksJEDECsProtocolAndRefusesWhatIsNotAuthentic() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let device = try EmulatedRPMB(file: deviceURL, blocks: 8)
        let key = [UInt8](repeating: 0x5A, count: 32)
        let nonce = [UInt8](repeating: 0x11, count: 16)
        // Before the key: every authenticated request answers "key not programmed".
        #expect(Self.result(device.operate([Self.frame(.readCounter, nonce: nonce)])[0]) == RPMBFrame.Result.keyNotProgrammed.rawValue)
        // The key goes in once; a second programming fails and does not replace it.
        #expect(Self.result(device.operate([Self.frame(.programKey, keyMAC: key)])[0]) == RPMBFrame.Result.ok.rawValue)
        #expect(Self.result(device.operate([Self.frame(.programKey, keyMAC: [UInt8](repeating: 1, count: 32))])[0]) == RPMBFrame.Result.generalFailure.rawValue)
        // The counter, signed with the caller's nonce.
        let c = device.operate([Self.frame(.readCounter, nonce: nonce)])[0]
        let cMAC = try Self.mac([c], key)
        #expect(Self.result(c) == 0 && Self.counter(c) == 0 && Array(c[484..<500]) == nonce && Array(c[196..<228]) == cMAC)
        // A write: under the counter with the key's MAC, answered by a signed result; the counter counts up.
        let data = [UInt8](repeating: 0xC3, count: 256)
        var w = Self.frame(.write, address: 3, count: 1, counter: 0, data: data)
        w.replaceSubrange(196..<228, with: try Self.mac([w], key))
        let ok = device.operate([w])[0]
        let okMAC = try Self.mac([ok], key)
        #expect(Self.result(ok) == 0 && Self.counter(ok) == 1 && Array(ok[196..<228]) == okMAC)
        // The same frame again (a replay): the counter has moved on.
        #expect(Self.result(device.operate([w])[0]) == RPMBFrame.Result.counterFailure.rawValue)
        // Without the key's MAC; past the last block; a malformed message.
        var forged = Self.frame(.write, address: 3, count: 1, counter: 1, data: [UInt8](repeating: 0, count: 256))
        forged.replaceSubrange(196..<228, with: try Self.mac([forged], [UInt8](repeating: 0x5B, count: 32)))
        #expect(Self.result(device.operate([forged])[0]) == RPMBFrame.Result.authenticationFailure.rawValue)
        var far = Self.frame(.write, address: 8, count: 1, counter: 1, data: data)
        far.replaceSubrange(196..<228, with: try Self.mac([far], key))
        #expect(Self.result(device.operate([far])[0]) == RPMBFrame.Result.addressFailure.rawValue)
        #expect(Self.result(device.operate([[1, 2, 3]])[0]) == RPMBFrame.Result.generalFailure.rawValue)
        #expect(Self.result(device.operate([])[0]) == RPMBFrame.Result.generalFailure.rawValue)
        // The block reads back, with the nonce, signed; none of the refused writes landed.
        let r = device.operate([Self.frame(.read, address: 3, count: 1, nonce: nonce)])
        #expect(r.count == 1 && Self.result(r[0]) == 0 && Array(r[0][228..<484]) == data && Array(r[0][484..<500]) == nonce)
        let rMAC = try Self.mac(r, key)
        #expect(Array(r[0][196..<228]) == rMAC)
        #expect(Self.counter(device.operate([Self.frame(.readCounter, nonce: nonce)])[0]) == 1)
        // The device survives reopening; a file that is not a device is refused, not overwritten.
        #expect(try EmulatedRPMB(file: deviceURL).blockCount == 8)
        let other = folder.appendingPathComponent("not-a-device")
        try Data("hello".utf8).write(to: other)
        #expect(throws: TEEResult.storageNotAvailable) { _ = try EmulatedRPMB(file: other) }
        #expect(try Data(contentsOf: other) == Data("hello".utf8))
    }

    func world(rpmb: Bool) throws -> (SecureWorld, TEEContext, TEESession) {
        var logger = Logger(label: "test.rpmb")
        logger.logLevel = .critical
        let world = SecureWorld(stateDirectory: state, logger: logger)
        if rpmb { world.rpmb = try EmulatedRPMB(file: deviceURL) }
        world.register(StorageTA.self)
        let context = TEEContext.embedded(world)
        return (world, context, try context.openSession(StorageTA.properties.uuid))
    }

    /// The whole state folder restored (root, directories, files — what no file in it can tell
    /// from the current state) while the RPMB device is not: CORRUPT_OBJECT.
    @Test func theWholeFolderRestoredIsCorruptWhenTheDeviceIsNot() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        var (world, context, _) = try world(rpmb: true)
        var backend = try world.storage(for: StorageTA.properties.uuid)
        try backend.store(Array("counter".utf8), StoredObject.dataObject([1]).encoded())
        context.finalize()
        let copy = folder.appendingPathComponent("state-copy")
        try FileManager.default.copyItem(at: state, to: copy)
        (world, _, _) = try self.world(rpmb: true)
        backend = try world.storage(for: StorageTA.properties.uuid)
        try backend.store(Array("counter".utf8), StoredObject.dataObject([5]).encoded())
        try FileManager.default.removeItem(at: state)
        try FileManager.default.moveItem(at: copy, to: state)
        (world, _, _) = try self.world(rpmb: true)
        backend = try world.storage(for: StorageTA.properties.uuid)
        #expect(throws: TEEResult.corruptObject) { _ = try backend.load(Array("counter".utf8)) }
        // The device restored with the folder is a rollback no file can see (README): accepted.
        _ = world
    }

    /// TEE_STORAGE_PRIVATE_RPMB: ITEM_NOT_FOUND without a device; with one, a storage of its own
    /// (its objects are not PRIVATE's), whose folder's restore the device sees too.
    @Test func privateRPMBIsAStorageOfItsOwn() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let (world, context, _) = try world(rpmb: false)
            defer { context.finalize() }
            #expect(throws: TEEResult.itemNotFound) { _ = try world.storage(for: StorageTA.properties.uuid, space: .rpmb) }
        }
        let (world, context, _) = try world(rpmb: true)
        let rpmbStore = try world.storage(for: StorageTA.properties.uuid, space: .rpmb)
        let reeStore = try world.storage(for: StorageTA.properties.uuid, space: .ree)
        try rpmbStore.store(Array("k".utf8), StoredObject.dataObject([9]).encoded())
        #expect(try rpmbStore.list() == [Array("k".utf8)])
        #expect(try reeStore.list().isEmpty)
        #expect(FileManager.default.fileExists(atPath: state.appendingPathComponent("storage-rpmb/\(StorageTA.properties.uuid)").path))
        context.finalize()
        let copy = folder.appendingPathComponent("rpmb-copy")
        try FileManager.default.copyItem(at: state.appendingPathComponent("storage-rpmb"), to: copy)
        let (world2, context2, _) = try self.world(rpmb: true)
        try world2.storage(for: StorageTA.properties.uuid, space: .rpmb).store(Array("k".utf8), StoredObject.dataObject([10]).encoded())
        context2.finalize()
        try FileManager.default.removeItem(at: state.appendingPathComponent("storage-rpmb"))
        try FileManager.default.moveItem(at: copy, to: state.appendingPathComponent("storage-rpmb"))
        let (world3, context3, _) = try self.world(rpmb: true)
        defer { context3.finalize() }
        #expect(throws: TEEResult.corruptObject) { _ = try world3.storage(for: StorageTA.properties.uuid, space: .rpmb).load(Array("k".utf8)) }
    }

    /// The device deleted (a fresh one made in its place) or replaced after the folder was held
    /// to it: the root says it was anchored, the new device knows nothing — CORRUPT_OBJECT, not a
    /// silent new start. Without a device at all the roots are the folder's own again (what
    /// `--rpmb` protects is stated in the README).
    @Test func aWipedOrReplacedDeviceIsCorrupt() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let (world, context, _) = try world(rpmb: true)
            defer { context.finalize() }
            try world.storage(for: StorageTA.properties.uuid).store(Array("counter".utf8), StoredObject.dataObject([3]).encoded())
        }
        try FileManager.default.removeItem(at: deviceURL)
        let (world, context, _) = try world(rpmb: true)
        defer { context.finalize() }
        #expect(throws: TEEResult.corruptObject) { _ = try world.storage(for: StorageTA.properties.uuid).load(Array("counter".utf8)) }
    }

    /// A device programmed with another key (another device secret: another TEE's) is not
    /// this TEE's storage: STORAGE_NOT_AVAILABLE, never a silent reset.
    @Test func anotherTEEsDeviceIsNotAvailable() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let device = try EmulatedRPMB(file: deviceURL)
        #expect(Self.result(device.operate([Self.frame(.programKey, keyMAC: [UInt8](repeating: 7, count: 32))])[0]) == 0)
        let (world, context, _) = try world(rpmb: true)
        defer { context.finalize() }
        #expect(throws: TEEResult.storageNotAvailable) { _ = try world.storage(for: StorageTA.properties.uuid).list() }
    }
}

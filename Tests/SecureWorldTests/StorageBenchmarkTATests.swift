import Foundation
import Logging
import OPTEETestTAs
import OPTEETestTAInterface
import Testing
import TEEClient
import TEEEmbedded
import TEEInternalAPI

/// The storage_benchmark TA port as xtest's benchmark 1001–1003 drive it (xtest asks without
/// the verify pass; here every call verifies, so a pass that wrote the wrong bytes fails), in
/// one process with a state folder (CryptTADaemonTests runs one in the TA's own process).
@Suite struct StorageBenchmarkTATests {
    static func world() -> (SecureWorld, URL) {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-sb-\(UUID().uuidString)")
        var logger = Logger(label: "test.secure-world")
        logger.logLevel = .critical
        let world = SecureWorld(stateDirectory: state, logger: logger)
        world.register(StorageBenchmarkTAImplementation.self)
        return (world, state)
    }

    static func run(_ s: TEESession, _ command: StorageBenchmarkTA.Command, data: UInt32, chunk: UInt32, verify: Bool = true) throws(TEEClientError) -> UInt32? {
        let op = TEEOperation(.valueInput(data, chunk), .valueInput(verify ? 1 : 0), .valueOutput)
        try s.invoke(command.rawValue, op)
        return op.value(2)?.a
    }

    @Test(arguments: StorageBenchmarkTA.Command.allCases)
    func eachPassKeepsTheObjectsBytesAndDeletesIt(command: StorageBenchmarkTA.Command) throws {
        let (world, state) = Self.world()
        defer { try? FileManager.default.removeItem(at: state) }
        let context = TEEContext.embedded(world)
        defer { context.finalize() }
        let s = try context.openSession(StorageBenchmarkTA.uuid)
        // xtest's chunk of 1 KiB over its smaller sizes, a last chunk shorter than the others,
        // and the original's defaults (0: 1024 bytes in chunks of 1024).
        for (data, chunk) in [(UInt32(256), UInt32(1024)), (4096, 1024), (1000, 256), (16 * 1024, 1024), (0, 0)] {
            let spent = try #require(try Self.run(s, command, data: data, chunk: chunk), "\(command) \(data)/\(chunk)")
            #expect(spent < 60_000, "\(command) \(data)/\(chunk): \(spent) ms")
        }
        let folder = state.appendingPathComponent("storage/\(StorageBenchmarkTA.uuid)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.filter { $0.hasSuffix(".rpo") || $0.hasSuffix(".obj") } ?? []
        #expect(left.isEmpty, "the object is deleted: \(left)")
    }

    @Test func theRefusals() throws {
        let (world, state) = Self.world()
        defer { try? FileManager.default.removeItem(at: state) }
        let context = TEEContext.embedded(world)
        defer { context.finalize() }
        let s = try context.openSession(StorageBenchmarkTA.uuid)
        let bad = TEEClientError(.badParameters, origin: .trustedApp)
        #expect(clientError { () throws(TEEClientError) in _ = try Self.run(s, .write, data: UInt32(StorageBenchmarkTA.maxDataSize) + 1, chunk: 1024) } == bad, "more data than the port takes")
        #expect(clientError { () throws(TEEClientError) in _ = try Self.run(s, .write, data: 4096, chunk: UInt32(StorageBenchmarkTA.maxChunkSize) + 1) } == bad, "a chunk larger than the port takes")
        #expect(clientError { () throws(TEEClientError) in try s.invoke(StorageBenchmarkTA.Command.read.rawValue, TEEOperation(.valueInput(1024, 1024), .valueInput(0))) } == bad, "wrong parameter types")
        #expect(clientError { () throws(TEEClientError) in try s.invoke(3, TEEOperation(.valueInput(1024, 1024), .valueInput(0), .valueOutput)) } == bad, "an unknown command")
        let folder = state.appendingPathComponent("storage/\(StorageBenchmarkTA.uuid)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.filter { $0.hasSuffix(".rpo") || $0.hasSuffix(".obj") } ?? []
        #expect(left.isEmpty, "a refused call writes nothing: \(left)")
    }
}

/// A TA that holds a persistent object open between calls: 1 creates "kept" without sharing and
/// writes to it; 2 reads it through that handle (value a ← the read's result), closes it and
/// opens it again (the result of the open in value b); 3 opens two handles that share reading and writing, writes through one, reads through
/// the other (value a ← the byte read).
final class HandleKeepingTA: TrustedApplication {
    static let properties = TAProperties(uuid: "6b1d3a52-2f0e-4c8e-9a51-6b65707442aa", description: "handle keeper")
    static let id = Array("kept".utf8)
    let tee: TEE
    var handle: PersistentObject?
    init(tee: TEE) throws(TEEResult) { self.tee = tee }

    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        let storage = try tee.storage
        switch command {
        case 1:
            let h = try storage.create(Self.id, flags: [.accessRead, .accessWrite, .overwrite], initialData: [1, 1, 1, 1])
            try h.write([7, 7])
            handle = h
        case 2:
            guard let h = handle else { throw .badState }
            try h.seek(0, from: .set)
            var read: TEEResult = .success
            do { _ = try h.read(4) } catch { read = error }
            h.close()
            handle = nil
            var reopened: TEEResult = .success
            do { _ = try storage.open(Self.id, flags: [.accessRead]) } catch { reopened = error }
            params.setValue(0, a: read.rawValue, b: reopened.rawValue)
        case 3:
            let shared: DataFlags = [.accessRead, .accessWrite, .shareRead, .shareWrite]
            let one = try storage.create(Array("shared".utf8), flags: shared.union(.overwrite), initialData: [1, 1])
            let two = try storage.open(Array("shared".utf8), flags: shared)
            _ = try two.read(2)
            try one.write([9])
            try two.seek(0, from: .set)
            params.setValue(0, a: UInt32(try two.read(1).first ?? 0))
            one.close()
            two.close()
        default:
            throw .notSupported
        }
    }
}

@Suite struct OpenHandleTests {
    /// Runs `body` with a session to the handle keeper on a fresh world and its state folder.
    func withSession(_ body: (TEESession, URL) throws -> Void) throws {
        let (world, state) = StorageBenchmarkTATests.world()
        defer { try? FileManager.default.removeItem(at: state) }
        world.register(HandleKeepingTA.self)
        let context = TEEContext.embedded(world)
        defer { context.finalize() }
        try body(try context.openSession(HandleKeepingTA.properties.uuid), state)
    }

    /// A file the REE edits under an open handle is found by that handle's next read (a read
    /// authenticates what it reads, from the file, every time) and by the next open.
    @Test func anEditUnderAnOpenHandleIsFoundByItsNextRead() throws {
        try withSession { s, state in
            try s.invoke(1, TEEOperation())
            // The folder's one object file (names are keyed hashes).
            let folder = state.appendingPathComponent("storage/\(HandleKeepingTA.properties.uuid)")
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix(".rpo") })
            let file = folder.appendingPathComponent(name)
            // Both header slots (the create wrote one, the write the other).
            var bytes = Array(try Data(contentsOf: file))
            #expect(bytes.count == 8192)
            bytes[20] ^= 1
            bytes[4096 + 20] ^= 1
            try Data(bytes).write(to: file)
            let op = TEEOperation(.valueOutput)
            try s.invoke(2, op)
            #expect(op.value(0)?.a == TEEResult.corruptObject.rawValue, "the open handle's read finds the edit")
            #expect(op.value(0)?.b == TEEResult.corruptObject.rawValue, "the next open finds the edit")
        }
    }

    /// Handles that share writing keep nothing: one sees the other's write.
    @Test func sharingHandlesSeeEachOthersWrites() throws {
        try withSession { s, _ in
            let op = TEEOperation(.valueOutput)
            try s.invoke(3, op)
            #expect(op.value(0)?.a == 9)
        }
    }
}

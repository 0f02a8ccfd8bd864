import Foundation
import Logging
import OPTEETestTAs
import OPTEETestTAInterface
import Testing
import TEEEmbedded
import TEEInternalAPI

/// What the two test TAs below do: derive a unique key through the system pseudo-TA and hand it
/// to their client (a real TA never would; here it lets the test compare keys of two UUIDs).
func deriveAndHandOver(_ tee: TEE, _ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.memrefInput, .memrefOutput))
        var none = Parameters(types: ParamTypes(), params: [.none, .none, .none, .none])
        let system: TASession
        do { system = try tee.openSession(SystemPTAInterface.uuid, &none) } catch { throw error.result }
        defer { system.close() }
        let extra = params.memref(0).isNull ? nil : try params.memref(0).read()
        let input = extra.map { MemoryReference.privateInput($0) } ?? MemoryReference(buffer: nil, offset: 0, size: 0, direction: .memrefInput)
        var p = Parameters(types: ParamTypes(.memrefInput, .memrefOutput), params: [.memref(input), .memref(.privateOutput(capacity: params.memref(1).capacity)), .none, .none])
        do { try system.invoke(SystemPTAInterface.Command.deriveTAUniqueKey.rawValue, &p) } catch { throw error.result }
        let key = try p.memref(1).written()
        try params.withMemref(1) { (out) throws(TEEResult) in try out.write(key) }
}

final class UniqueKeyTA1: TrustedApplication {
    static let properties = TAProperties(uuid: "5d1e0b7a-0000-4000-8000-00000000c0a1", singleInstance: true, multiSession: true, description: "unique key 1")
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try deriveAndHandOver(tee, &params) }
}

final class UniqueKeyTA2: TrustedApplication {
    static let properties = TAProperties(uuid: "5d1e0b7a-0000-4000-8000-00000000c0a2", singleInstance: true, multiSession: true, description: "unique key 2")
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try deriveAndHandOver(tee, &params) }
}

/// OP-TEE's system pseudo-TA (xtest 4012 and 4013 through the crypt TA; these tests cover the
/// same behaviour without xtest).
@Suite struct SystemPTATests {
    static func world(state: URL) -> SecureWorld {
        var logger = Logger(label: "test.system-pta")
        logger.logLevel = .critical
        let world = SecureWorld(stateDirectory: state, logger: logger)
        world.register(CryptTAImplementation.self)
        world.register(UniqueKeyTA1.self)
        world.register(UniqueKeyTA2.self)
        return world
    }

    static func key(_ context: TEEContext, _ ta: TEEUUID, size: Int = 32, extra: [UInt8]? = nil) throws(TEEClientError) -> [UInt8] {
        let s = try context.openSession(ta)
        defer { s.close() }
        let op = TEEOperation(extra.map { .tempInput($0) } ?? .temp(.memrefInput, bytes: nil, size: 0), .tempOutput(capacity: size))
        try s.invoke(0, op)
        return op.output(1) ?? []
    }

    @Test func keysAreBoundToTheTAAndTheInstallation() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-system-\(UUID().uuidString)")
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-system-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: state)
            try? FileManager.default.removeItem(at: other)
        }
        let context = TEEContext.embedded(Self.world(state: state))
        defer { context.finalize() }
        let one = try Self.key(context, UniqueKeyTA1.properties.uuid)
        #expect(one.count == 32 && one != [UInt8](repeating: 0, count: 32))
        #expect(try Self.key(context, UniqueKeyTA1.properties.uuid) == one, "the same TA, the same key")
        #expect(try Self.key(context, UniqueKeyTA2.properties.uuid) != one, "another TA, another key")
        #expect(try Self.key(context, UniqueKeyTA1.properties.uuid, extra: Array("data".utf8)) != one, "extra data, another key")
        #expect(try Self.key(context, UniqueKeyTA1.properties.uuid, size: 16) == Array(try Self.key(context, UniqueKeyTA1.properties.uuid, size: 16)))
        for size in [0, 15, 33, 64] {
            #expect(clientError { () throws(TEEClientError) in _ = try Self.key(context, UniqueKeyTA1.properties.uuid, size: size) }?.result == .badParameters, "a \(size)-byte key")
        }
        #expect(clientError { () throws(TEEClientError) in _ = try Self.key(context, UniqueKeyTA1.properties.uuid, extra: [UInt8](repeating: 1, count: 1025)) }?.result == .badParameters,
                "1,025 bytes of extra data")
        // The same world state again (a restart): the same key; another installation: another.
        let again = TEEContext.embedded(Self.world(state: state))
        defer { again.finalize() }
        #expect(try Self.key(again, UniqueKeyTA1.properties.uuid) == one, "the device secret persists")
        let elsewhere = TEEContext.embedded(Self.world(state: other))
        defer { elsewhere.finalize() }
        #expect(try Self.key(elsewhere, UniqueKeyTA1.properties.uuid) != one, "another device secret, another key")
    }

    @Test func theCryptTAsCommandsAsXtestRunsThem() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-system-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let context = TEEContext.embedded(Self.world(state: state))
        defer { context.finalize() }
        let crypt = try context.openSession(CryptTA.uuid)
        // 4012: entropy from the client, passed on by the TA.
        try crypt.invoke(CryptTA.Command.seedRNGPool.rawValue, TEEOperation(.tempInput([UInt8](repeating: 0x42, count: 32))))
        #expect(clientError { () throws(TEEClientError) in try crypt.invoke(CryptTA.Command.seedRNGPool.rawValue, TEEOperation(.tempInput([]))) }?.result == .badParameters)
        // 4013: the TA's own checks pass; a key into the client's memory is refused.
        try crypt.invoke(CryptTA.Command.deriveTAUniqueKey.rawValue, TEEOperation())
        let shm = TEEOperation(.tempInput([UInt8](repeating: 0, count: 32)), .tempOutput(capacity: 32))
        #expect(clientError { () throws(TEEClientError) in try crypt.invoke(CryptTA.Command.deriveTAUniqueKeySHM.rawValue, shm) }?.result == .security)
        #expect(shm.output(1) == [UInt8](repeating: 0, count: 32), "nothing was written there")
    }

    @Test func onlyTAsMayOpenIt() throws {
        let context = TEEContext.embedded(Self.world(state: FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-system-\(UUID().uuidString)")))
        defer { context.finalize() }
        #expect(clientError { () throws(TEEClientError) in _ = try context.openSession(SystemPTAInterface.uuid) }?.result == .accessDenied)
    }
}

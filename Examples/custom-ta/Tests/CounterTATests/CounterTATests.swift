import CounterTA
import Foundation
import TEEEmbedded
import Testing

/// The TA tested embedded: the same code the daemon runs, no process needed.
@Suite struct CounterTATests {
    @Test func addsAndRemembers() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("counter-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        for expected: UInt32 in [5, 10] {
            let world = SecureWorld(stateDirectory: state)
            world.register(CounterTA.self)
            let context = TEEContext.embedded(world)
            defer { context.finalize() }
            let session = try context.openSession(CounterTA.properties.uuid)
            let op = TEEOperation(.valueInput(5), .valueOutput)
            try session.invoke(CounterTA.Command.add.rawValue, op)
            #expect(op.value(1)?.a == expected, "the total survives a new secure world (trusted storage)")
        }
    }

    @Test func refusesWrongParameters() throws {
        let world = SecureWorld()
        world.register(CounterTA.self)
        let context = TEEContext.embedded(world)
        defer { context.finalize() }
        let session = try context.openSession(CounterTA.properties.uuid)
        #expect(throws: TEEClientError(.badParameters, origin: .trustedApp)) {
            try session.invoke(CounterTA.Command.add.rawValue, TEEOperation(.valueOutput))
        }
    }
}

import Foundation
import Logging
import Testing
import TEEEmbedded
import TEEInternalAPI

/// Command 1 sets the TA persistent time (value a seconds, b milliseconds), any other reads it
/// into value a, b. Two TAs run it: the time is each TA's own.
func keepTime(_ tee: TEE, _ command: UInt32, _ params: inout Parameters) throws(TEEResult) {
    try params.require(ParamTypes(.valueInout))
    if command == 1 {
        try tee.setTAPersistentTime(seconds: params.value(0).a, milliseconds: params.value(0).b)
    } else {
        let (s, ms) = try tee.taPersistentTime()
        params.setValue(0, a: s, b: ms)
    }
}

final class TimeKeeperTA: TrustedApplication {
    static let properties = TAProperties(uuid: "5d1e0b7a-0000-4000-8000-00000000c0c1", singleInstance: true, multiSession: true, description: "time keeper")
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try keepTime(tee, command, &params) }
}

final class OtherTimeKeeperTA: TrustedApplication {
    static let properties = TAProperties(uuid: "5d1e0b7a-0000-4000-8000-00000000c0c2", singleInstance: true, multiSession: true, description: "other time keeper")
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) { try keepTime(tee, command, &params) }
}

/// GP's TA persistent time: TIME_NOT_SET until the TA sets it, then the set time advanced by the
/// time passed — kept across a restart of the secure world on the same state folder, per TA,
/// TIME_NEEDS_RESET when its record was edited, OVERFLOW past 32-bit seconds.
@Suite struct PersistentTimeTests {
    static func context(_ state: URL) -> TEEContext {
        var logger = Logger(label: "test.persistent-time")
        logger.logLevel = .critical
        let world = SecureWorld(stateDirectory: state, logger: logger)
        world.register(TimeKeeperTA.self)
        world.register(OtherTimeKeeperTA.self)
        return TEEContext.embedded(world)
    }

    static func read(_ s: TEESession) -> Result<(UInt32, UInt32), TEEClientError> {
        let op = TEEOperation(.valueInout(0, 0))
        do { try s.invoke(0, op) } catch { return .failure(error) }
        return .success((op.value(0)!.a, op.value(0)!.b))
    }

    @Test func setReadRestartTamperOverflow() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-time-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        do {
            let context = Self.context(state)
            defer { context.finalize() }
            let s = try context.openSession(TimeKeeperTA.properties.uuid)
            guard case .failure(let notSet) = Self.read(s) else { Issue.record("a time before any was set"); return }
            #expect(notSet.result == .timeNotSet && notSet.origin == .trustedApp)
            try s.invoke(1, TEEOperation(.valueInout(1_000_000, 500)))
            guard case .success(let (sec, ms)) = Self.read(s) else { Issue.record("no time after setting it"); return }
            let t = Double(sec) + Double(ms) / 1000
            #expect(t >= 1_000_000.5 && t < 1_000_060, "the set time, advanced by what passed: \(t)")
            #expect(clientError { () throws(TEEClientError) in try s.invoke(1, TEEOperation(.valueInout(1, 1000))) }?.result == .badParameters, "1000 ms")
            let other = try context.openSession(OtherTimeKeeperTA.properties.uuid)
            guard case .failure(let otherNotSet) = Self.read(other) else { Issue.record("another TA's time"); return }
            #expect(otherNotSet.result == .timeNotSet, "the time is the TA's own")
        }
        // The same state folder again (a restarted daemon): the time is still set.
        do {
            let context = Self.context(state)
            defer { context.finalize() }
            let s = try context.openSession(TimeKeeperTA.properties.uuid)
            guard case .success(let (sec, _)) = Self.read(s) else { Issue.record("the time did not survive a restart"); return }
            #expect(sec >= 1_000_000 && sec < 1_000_060)
            // Past 32-bit seconds: OVERFLOW.
            try s.invoke(1, TEEOperation(.valueInout(UInt32.max, 999)))
            usleep(5_000)
            guard case .failure(let overflow) = Self.read(s) else { Issue.record("no overflow"); return }
            #expect(overflow.result == .overflow)
        }
        // An edited record (the time is in the TA's sealed storage directory, both of its files):
        // TIME_NEEDS_RESET.
        for name in ["dir-a.rpd", "dir-b.rpd"] {
            let record = state.appendingPathComponent("storage/\(TimeKeeperTA.properties.uuid)/\(name)")
            guard var bytes = try? Data(contentsOf: record) else { continue }
            bytes[24] ^= 1
            try bytes.write(to: record)
        }
        let context = Self.context(state)
        defer { context.finalize() }
        let s = try context.openSession(TimeKeeperTA.properties.uuid)
        guard case .failure(let tampered) = Self.read(s) else { Issue.record("an edited record was believed"); return }
        #expect(tampered.result == .timeNeedsReset)
    }
}

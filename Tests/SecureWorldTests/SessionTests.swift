import Foundation
import HelloWorldTAInterface
import Testing
import TEEEmbedded

/// xtest 1012 (instances and sessions), 5006 (client API edge cases), hello world, TA-to-TA
/// and pseudo-TA access.
@Suite struct SessionTests {
    @Test func helloWorldIncrements() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let session = try h.context.openSession(HelloWorldTA.uuid)
        let op = TEEOperation(.valueInout(41))
        try session.invoke(HelloWorldTA.Command.incrementValue.rawValue, op)
        #expect(op.value(0)?.a == 42)
        try session.invoke(HelloWorldTA.Command.decrementValue.rawValue, op)
        #expect(op.value(0)?.a == 41)
        // Unknown command: the TA's NOT_SUPPORTED, origin TRUSTED_APP.
        #expect(clientError { () throws(TEEClientError) in try session.invoke(99, op) } == TEEClientError(.notSupported, origin: .trustedApp))
        // Wrong parameter types: BAD_PARAMETERS from the TA.
        #expect(clientError { () throws(TEEClientError) in try session.invoke(0, TEEOperation(.valueInput(1))) } == TEEClientError(.badParameters, origin: .trustedApp))
        session.close()
    }

    /// xtest 1012: single instance without multi-session answers BUSY to a second open.
    @Test func singleSessionTAIsBusy() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let first = try h.context.openSession(SingleSessionTA.properties.uuid)
        #expect(clientError { () throws(TEEClientError) in _ = try h.context.openSession(SingleSessionTA.properties.uuid) } == TEEClientError(.busy, origin: .tee))
        first.close()
        let again = try h.context.openSession(SingleSessionTA.properties.uuid)
        again.close()
    }

    /// xtest 1012: single instance + multi-session shares one instance; destroyed after the last
    /// session unless keep-alive; one instance per session otherwise.
    @Test func instanceLifecycles() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        func instance(_ s: TEESession) throws -> UInt32 {
            let op = TEEOperation(.valueOutput)
            try s.invoke(0, op)
            return op.value(0)!.a
        }
        let m1 = try h.context.openSession(MultiSessionTA.properties.uuid), m2 = try h.context.openSession(MultiSessionTA.properties.uuid)
        #expect(try instance(m1) == (try instance(m2)))
        m1.close(); m2.close()
        #expect(!h.world.hasInstance(of: MultiSessionTA.properties.uuid), "destroyed with its last session")

        let k1 = try h.context.openSession(KeepAliveTA.properties.uuid)
        let keptID = try instance(k1)
        k1.close()
        #expect(h.world.hasInstance(of: KeepAliveTA.properties.uuid), "keep-alive instance survives its last session")
        let k2 = try h.context.openSession(KeepAliveTA.properties.uuid)
        #expect(try instance(k2) == keptID)
        k2.close()

        let before = Lifecycle.shared.get("multi-instance")
        let i1 = try h.context.openSession(MultiInstanceTA.properties.uuid), i2 = try h.context.openSession(MultiInstanceTA.properties.uuid)
        #expect(try instance(i1) != (try instance(i2)))
        i1.close(); i2.close()
        let after = Lifecycle.shared.get("multi-instance")
        #expect(after.created - before.created == 2 && after.destroyed - before.destroyed == 2)
    }

    @Test func openSessionCanBeRefusedAndKeepsState() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        #expect(clientError { () throws(TEEClientError) in _ = try h.context.openSession(GatekeeperTA.properties.uuid, operation: TEEOperation(.valueInput(7))) } == TEEClientError(.accessDenied, origin: .trustedApp))
        let s = try h.context.openSession(GatekeeperTA.properties.uuid, operation: TEEOperation(.valueInput(42)))
        let op = TEEOperation(.valueOutput)
        try s.invoke(0, op); try s.invoke(0, op)
        #expect(op.value(0)?.a == 2)
        #expect(h.world.sessionCount == 1)
        s.close()
        #expect(h.world.sessionCount == 0)
    }

    /// One instance, many sessions, closed out of order (the middle one, the last, the first):
    /// every call still reaches its own session's state, and a session opened after the closes
    /// gets a fresh one. (An instance keeps its sessions densely and moves the last into a closed
    /// one's place.)
    @Test func sessionsOfOneInstanceKeepTheirOwnStateAsOthersClose() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let sessions = try (0..<4).map { _ in try h.context.openSession(GatekeeperTA.properties.uuid, operation: TEEOperation(.valueInput(42))) }
        var expected = [UInt32](repeating: 0, count: 5)
        func call(_ k: Int, _ session: TEESession) throws {
            let op = TEEOperation(.valueOutput)
            try session.invoke(0, op)
            expected[k] += 1
            #expect(op.value(0)?.a == expected[k], "session \(k) counts its own calls")
        }
        for (k, s) in sessions.enumerated() { for _ in 0...k { try call(k, s) } }
        sessions[1].close()
        for k in [0, 2, 3] { try call(k, sessions[k]) }
        sessions[3].close()
        for k in [0, 2] { try call(k, sessions[k]) }
        sessions[0].close()
        try call(2, sessions[2])
        let late = try h.context.openSession(GatekeeperTA.properties.uuid, operation: TEEOperation(.valueInput(42)))
        try call(4, late)
        try call(2, sessions[2])
        #expect(expected[2] == 7 && expected[4] == 1)
        #expect(clientError { () throws(TEEClientError) in try sessions[1].invoke(0, TEEOperation(.valueOutput)) } == TEEClientError(.badState, origin: .api), "a closed session")
        #expect(h.world.sessionCount == 2)
        late.close(); sessions[2].close()
        #expect(h.world.sessionCount == 0)
    }

    /// xtest 5006: client API edge cases.
    @Test func clientAPIEdgeCases() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        // A TA nobody serves: ITEM_NOT_FOUND from the TEE, not from a TA.
        let missing = clientError { () throws(TEEClientError) in _ = try h.context.openSession("00000000-1111-2222-3333-444444444444") }
        #expect(missing == TEEClientError(.itemNotFound, origin: .tee))
        #expect(missing?.origin != .trustedApp)
        // Closing a session twice is harmless; invoking a closed session is refused by the API.
        let s = try h.context.openSession(HelloWorldTA.uuid)
        s.close(); s.close()
        #expect(clientError { () throws(TEEClientError) in try s.invoke(0, TEEOperation(.valueInout(1))) } == TEEClientError(.badState, origin: .api))
        // Zero-length shared memory registers; releasing twice is harmless.
        let empty = try h.context.registerSharedMemory([], flags: .input)
        #expect(empty.size == 0)
        h.context.releaseSharedMemory(empty)
        h.context.releaseSharedMemory(empty)
        // Released memory cannot be used; neither can memory without flags.
        #expect(clientError { () throws(TEEClientError) in try h.context.openSession(HelloWorldTA.uuid).invoke(2, TEEOperation(.whole(empty), .tempOutput(capacity: 32))) } == TEEClientError(.badParameters, origin: .api))
        #expect(clientError { () throws(TEEClientError) in _ = try h.context.allocateSharedMemory(size: 8, flags: []) } == TEEClientError(.badParameters, origin: .api))
        // A client cannot claim the TRUSTED_APP login.
        #expect(clientError { () throws(TEEClientError) in _ = try h.context.openSession(HelloWorldTA.uuid, login: .trustedApp) } == TEEClientError(.badParameters, origin: .api))
        // After finalize nothing works.
        h.context.finalize()
        #expect(clientError { () throws(TEEClientError) in _ = try h.context.openSession(HelloWorldTA.uuid) } == TEEClientError(.badState, origin: .api))
    }

    @Test func finalizeClosesSessions() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        _ = try h.context.openSession(MultiSessionTA.properties.uuid)
        _ = try h.context.openSession(HelloWorldTA.uuid)
        #expect(h.world.sessionCount == 2)
        h.context.finalize()
        #expect(h.world.sessionCount == 0)
    }

    @Test func taToTASessionCarriesTheCallerIdentity() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(MemrefTA.properties.uuid, login: .user)
        let op = TEEOperation(.valueInout(9))
        try s.invoke(MemrefTA.Cmd.callHelloWorld.rawValue, op)
        #expect(op.value(0)?.a == 10)
        let identity = TEEOperation(.valueOutput)
        try s.invoke(MemrefTA.Cmd.clientIdentity.rawValue, identity)
        #expect(identity.value(0)?.a == Login.user.rawValue)
    }

    @Test func pseudoTAOpensOnlyForAllowedTAs() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        // The normal world may not open it.
        #expect(clientError { () throws(TEEClientError) in _ = try h.context.openSession(EchoPseudoTA.uuidConstant) } == TEEClientError(.accessDenied, origin: .tee))
        // MemrefTA may, and the pseudo-TA sees login TRUSTED_APP.
        let s = try h.context.openSession(MemrefTA.properties.uuid)
        let op = TEEOperation(.valueInout(21))
        try s.invoke(MemrefTA.Cmd.callPseudo.rawValue, op)
        #expect(op.value(0)?.a == 42)
    }

    /// xtest 1009: a waiting TA is cancelled from another thread.
    @Test func cancellationOfAWaitingTA() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(HelloWorldTA.uuid)
        let op = TEEOperation(.valueInput(10_000))
        let canceller = Thread {
            Thread.sleep(forTimeInterval: 0.1)
            op.requestCancellation()
        }
        let start = Date()
        canceller.start()
        let error = clientError { () throws(TEEClientError) in try s.invoke(HelloWorldTA.Command.wait.rawValue, op) }
        #expect(error == TEEClientError(.cancel, origin: .trustedApp))
        #expect(Date().timeIntervalSince(start) < 5, "cancelled long before the 10 s wait ended")
        // Cancelled before it starts: the call does not run.
        let early = TEEOperation(.valueInput(10_000))
        early.requestCancellation()
        #expect(clientError { () throws(TEEClientError) in try s.invoke(HelloWorldTA.Command.wait.rawValue, early) } == TEEClientError(.cancel, origin: .api))
    }

    @Test func properties() throws {
        let h = try Harness()
        defer { h.cleanUp() }
        let s = try h.context.openSession(MemrefTA.properties.uuid)
        func property(_ name: String, _ set: UInt32) throws(TEEClientError) -> String {
            let op = TEEOperation(.tempInput(Array(name.utf8)), .tempOutput(capacity: 128), .valueInput(set))
            try s.invoke(MemrefTA.Cmd.property.rawValue, op)
            return String(decoding: op.output(1)!, as: UTF8.self)
        }
        #expect(try property("gpd.ta.appID", 0) == MemrefTA.properties.uuid.description)
        #expect(try property("gpd.ta.singleInstance", 0) == "true")
        #expect(try property("gpd.ta.version", 0) == "2.1")
        #expect(try property("com.example.answer", 0) == "42")
        #expect(try property("gpd.client.endian", 1) == "0")
        #expect(try property("gpd.tee.internalCore.version", 2) == String(0x0103_0100))
        #expect(try property("gpd.tee.apiversion", 2) == "1.3.1")
        #expect(clientError { () throws(TEEClientError) in _ = try property("gpd.no.such", 0) } == TEEClientError(.itemNotFound, origin: .trustedApp))
    }
}

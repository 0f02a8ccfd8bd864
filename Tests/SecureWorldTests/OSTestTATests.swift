import Foundation
import OPTEETestTAs
import OPTEETestTAInterface
import Testing
import TEEEmbedded
import TEEInternalAPI

/// Calls os_test's WAIT (value a ms) with a timeout of value b ms and reports the result and
/// origin it got (value a, b).
final class TimedCallerTA: TrustedApplication {
    static let properties = TAProperties(uuid: "5d1e0b7a-0000-4000-8000-00000000c0b1", description: "timed caller")
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        try params.require(ParamTypes(.valueInout))
        let (wait, timeout) = params.value(0)
        var none = Parameters(types: ParamTypes(), params: [.none, .none, .none, .none])
        let other: TASession
        do { other = try tee.openSession(OSTestTA.uuid, &none) } catch { throw error.result }
        defer { other.close() }
        var p = Parameters(types: ParamTypes(.valueInput), params: [.value(a: wait, b: 0), .none, .none, .none])
        do {
            try other.invoke(OSTestTA.Command.wait.rawValue, &p, timeout: timeout)
            params.setValue(0, a: TEEResult.success.rawValue, b: 0)
        } catch {
            params.setValue(0, a: error.result.rawValue, b: error.origin.rawValue)
        }
    }
}

/// The os_test TA port's commands that do not end the process (xtest 1008, 1016, 1017, 1025,
/// 1026), in one process; the faulting ones are DaemonTests' (each TA in its own process).
@Suite struct OSTestTATests {
    static func context() -> TEEContext {
        let world = SecureWorld()
        world.register(OSTestTAImplementation.self)
        world.register(CryptTAImplementation.self)
        world.register(CreateFailTestTAImplementation.self)
        world.register(TimedCallerTA.self)
        world.register(RPCTestTAImplementation.self)
        world.register(SIMSTestTA.self)
        return TEEContext.embedded(world)
    }

    func run(_ s: TEESession, _ command: OSTestTA.Command, _ op: TEEOperation = TEEOperation()) -> TEEResult? {
        clientError { () throws(TEEClientError) in try s.invoke(command.rawValue, op) }?.result
    }

    @Test func commandsAsXtestRunsThem() throws {
        let context = Self.context()
        defer { context.finalize() }
        let s = try context.openSession(OSTestTA.uuid)
        #expect(run(s, .client) == nil, "SHA-256 through a session to the crypt TA")
        #expect(run(s, .ta2taMemref) == nil, "two MIX calls into another instance, values checked there")
        let mix = TEEOperation(.tempInput([1, 2]), .tempInout([10, 20]), .tempOutput(capacity: 2))
        #expect(run(s, .ta2taMemrefMix, mix) == nil)
        #expect(mix.output(1) == [11, 21] && mix.output(2) == [12, 23], "out = ++inout + in")
        #expect(run(s, .ta2taMemrefMix, TEEOperation(.tempInput([1]), .tempInout([1, 2]), .tempOutput(capacity: 1))) == .badParameters, "sizes differ")
        #expect(run(s, .paramsAccess, TEEOperation(.tempInput([1, 2, 3]), .temp(.memrefInput, bytes: nil, size: 0))) == nil,
                "client memory: readable with ANY_OWNER, refused without")
        #expect(run(s, .params, TEEOperation(.tempInput([1]), .tempInput([2]), .tempOutput(capacity: 1), .tempOutput(capacity: 1))) == nil)
        #expect(run(s, .params, TEEOperation(.tempInput([1]), .tempInput([]), .tempOutput(capacity: 1), .tempOutput(capacity: 1))) == .badParameters)
        // Non-NULL references of size 0 stay non-NULL; NULL ones stay NULL (xtest 1025).
        let null = OperationParameter.temp(.memrefInput, bytes: nil, size: 0), nullOut = OperationParameter.temp(.memrefOutput, bytes: nil, size: 0)
        #expect(run(s, .nullMemrefParams, TEEOperation(.tempInput([]), null, .tempOutput(capacity: 0), nullOut)) == nil)
        #expect(run(s, .nullMemrefParams, TEEOperation(null, null, .tempOutput(capacity: 0), nullOut)) == .badParameters)
        #expect(run(s, .ta2taMemrefSize0, TEEOperation(.tempInput([]), .tempInout([]), .tempOutput(capacity: 0))) == nil)
        // The client as the TA sees it: a PUBLIC login, the nil UUID, in C layout.
        let identity = TEEOperation(.valueOutput, .tempOutput(capacity: 16))
        #expect(run(s, .clientIdentity, identity) == nil)
        #expect(identity.value(0)?.a == 0 && identity.output(1) == [UInt8](repeating: 0, count: 16))
        #expect(run(s, .clientIdentity, TEEOperation(.valueOutput, .tempOutput(capacity: 15))) == .shortBuffer)
        #expect(run(s, .cxxCtorMain) == .notSupported && run(s, .basic) == .badParameters, "BASIC takes the client's memref")
        #expect(run(s, .initialize) == .timeNotSet, "INIT is TEE_GetTAPersistentTime: no time set (and no state folder)")
        #expect(clientError { () throws(TEEClientError) in try s.invoke(999, TEEOperation()) }?.result == .badParameters)
        // 1008.3: a TA whose create entry point fails never opens.
        #expect(clientError { () throws(TEEClientError) in _ = try context.openSession(CreateFailTestTA.uuid) }?.result == .generic)
    }

    /// xtest 1006: BASIC's checks of the property sets (each property the original names, with
    /// its type, the TA's `myprop.*` ones among them), access rights and the TA persistent time
    /// (set to 0, read back; set to 2³² − 1 s, a second later OVERFLOW with the seconds wrapped).
    /// Without a state folder there is no persistent time to set: BASIC fails, which shows its
    /// time checks run. It takes about a second (its TEE_Wait).
    @Test func basicAsXtest1006RunsIt() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-basic-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let world = SecureWorld(stateDirectory: state)
        world.register(OSTestTAImplementation.self)
        let context = TEEContext.embedded(world)
        defer { context.finalize() }
        let s = try context.openSession(OSTestTA.uuid)
        #expect(run(s, .basic, TEEOperation(.tempInput([UInt8](repeating: 0, count: 32)))) == nil)
        let stateless = Self.context()
        defer { stateless.finalize() }
        #expect(run(try stateless.openSession(OSTestTA.uuid), .basic, TEEOperation(.tempInput([1]))) != nil, "no storage: no persistent time")
    }

    /// xtest 1008.2: a TA's call to another TA with a timeout — the callee's 2 s wait ends
    /// cancelled (CANCEL from the TA) once the 1 s timeout has passed.
    @Test func aTAToTACallIsCancelledByItsTimeout() throws {
        let context = Self.context()
        defer { context.finalize() }
        let s = try context.openSession(OSTestTA.uuid)
        #expect(run(s, .clientWithTimeout, TEEOperation(.valueInput(2000))) == nil, "the callee saw CANCEL (a completed wait is GENERIC)")
        #expect(run(s, .wait, TEEOperation(.valueInput(10))) == nil, "an untimed wait completes")
        // A timeout of 0: the first request can reach the callee before its entry point clears
        // the flag; the core asks again while the call runs, so the 1.5 s wait still ends early.
        let caller = try context.openSession(TimedCallerTA.properties.uuid)
        for _ in 0..<3 {
            let op = TEEOperation(.valueInout(1500, 0))
            try caller.invoke(0, op)
            #expect(op.value(0)?.a == TEEResult.cancel.rawValue && op.value(0)?.b == ReturnOrigin.trustedApp.rawValue, "timeout 0: CANCEL from the TA")
        }
        let untimed = TEEOperation(.valueInout(20, TEE.timeoutInfinite))
        try caller.invoke(0, untimed)
        #expect(untimed.value(0)?.a == TEEResult.success.rawValue, "no timeout: the wait completes")
    }

    /// xtest 1011: rpc_test's calls into the crypt TA, the client's memory passed on or copied
    /// into the TA's own first; both give the crypt TA's answers, AES round-trips, a short
    /// output buffer comes back as refused, OPEN reaches the SIMS TA.
    @Test func rpcTestCallsTheCryptTA() throws {
        let context = Self.context()
        defer { context.finalize() }
        let s = try context.openSession(RPCTestTA.uuid)
        let abc = Array("abc".utf8)
        let expected: [UInt8] = [0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad]
        for command in [RPCTestTA.Command.sha256, .privmemSHA256] {
            let op = TEEOperation(.tempInput(abc), .tempOutput(capacity: 32))
            try s.invoke(command.rawValue, op)
            #expect(op.output(1) == expected, "\(command)")
        }
        let plain = (0..<32).map { UInt8($0 &* 3) }
        for (enc, dec) in [(RPCTestTA.Command.aes256ECBEncrypt, RPCTestTA.Command.aes256ECBDecrypt), (.privmemAES256ECBEncrypt, .privmemAES256ECBDecrypt)] {
            let e = TEEOperation(.tempInput(plain), .tempOutput(capacity: 32))
            try s.invoke(enc.rawValue, e)
            #expect(e.output(1) != plain && e.output(1)?.count == 32)
            let d = TEEOperation(.tempInput(e.output(1) ?? []), .tempOutput(capacity: 32))
            try s.invoke(dec.rawValue, d)
            #expect(d.output(1) == plain, "\(enc) then \(dec)")
        }
        #expect(clientError { () throws(TEEClientError) in try s.invoke(RPCTestTA.Command.privmemSHA256.rawValue, TEEOperation(.tempInput(abc), .tempOutput(capacity: 16))) }?.result == .badParameters,
                "the crypt TA's refusal of a short digest buffer comes back")
        try s.invoke(RPCTestTA.Command.open.rawValue, TEEOperation())
    }
}

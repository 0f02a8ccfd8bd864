import Foundation
import OPTEEExamples
import OPTEEExamplesTAInterface
import OPTEETestTAs
import OPTEETestTAInterface
import Testing
import TEEClient
import TEEEmbedded
import TEEInternalAPI
import TEETransport
import TEEWire
import TestSupport

/// optee_test's test plugin (host/supp_plugin) in Swift: what a TA developer's embedded test
/// registers in place of the normal-world plugin. Its answers are the original's.
struct SwiftTestPlugin: SupplicantPlugin {
    let uuid = SupplicantPluginTA.testPlugin

    func invoke(command: UInt32, subCommand: UInt32, data: inout [UInt8]) -> (result: TEEResult, outputLength: Int) {
        switch SupplicantPluginTA.PluginCommand(rawValue: command) {
        case .ping: return (.success, 0)
        case .passValues:
            guard data.count >= 8 else { return (.badParameters, 0) }
            let a = le32(data, 0), b = le32(data, 4)
            let r = subCommand == UInt32(UInt8(ascii: "+")) ? a &+ b : a &- b
            for i in 0..<4 { data[i] = UInt8(truncatingIfNeeded: r >> (8 * UInt32(i))) }
            return (.success, 4)
        case .writeArray:
            guard !data.isEmpty else { return (.success, 0) }
            data[0] = data.reduce(0, &+)
            return (.success, 1)
        case .getArray:
            let text = Array("Array from plugin".utf8) + [0]
            guard data.count >= text.count else { return (.generic, 0) }
            data.replaceSubrange(0..<text.count, with: text)
            return (.success, text.count)
        case nil: return (.notSupported, 0)
        }
    }

    func le32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24 }
}

/// Calls the test plugin with cancellation unmasked (GP's TEE_UnmaskCancellation): a
/// cancellation of its call ends a wait for the supplicant, as it ends a TEE_Wait.
final class CancellablePluginCaller: TrustedApplication {
    static let properties = TAProperties(uuid: "5d1e0b7a-0000-4000-8000-00000000c0b2", description: "cancellable plugin caller")
    let tee: TEE
    init(tee: TEE) throws(TEEResult) { self.tee = tee }
    func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        tee.setCancellationMasked(false)
        var data: [UInt8] = [1, 2, 3, 4]
        _ = try tee.invokeSupplicantPlugin(SupplicantPluginTA.testPlugin, command: SupplicantPluginTA.PluginCommand.ping.rawValue, data: &data)
    }
}

/// xtest 1033's cases against the supp_plugin TA port, with the plugin in this process or served
/// by a `TEESupplicant` on another connection (the daemon's model), and what a supplicant may not
/// do. The daemon with `rproc-tee supplicant` and a C plugin: DaemonTests.SupplicantDaemonTests.
@Suite struct SupplicantPluginTests {
    static func world() -> SecureWorld {
        let world = SecureWorld()
        world.register(SupplicantPluginTAImplementation.self)
        return world
    }

    @Test func xtest1033WithAPluginInProcess() throws {
        let world = Self.world()
        world.register(plugin: SwiftTestPlugin())
        let client = TEEContext.embedded(world)
        defer { client.finalize() }
        try SupplicantChecks.xtest1033(client)
    }

    /// optee_examples' plugins TA: each PING's line, at LOG_INFO, counted per instance (a new
    /// session is a new instance: TA_FLAGS 0); without the plugin, its error comes back.
    @Test func pluginsExample() throws {
        final class Lines: SupplicantPlugin, @unchecked Sendable {
            let uuid = PluginsExampleTA.syslogPlugin
            let received = Locked<[String]>([])
            func invoke(command: UInt32, subCommand: UInt32, data: inout [UInt8]) -> (result: TEEResult, outputLength: Int) {
                guard command == PluginsExampleTA.toSyslog else { return (.notSupported, 0) }
                received.withLock { $0.append("\(subCommand) " + String(decoding: data, as: UTF8.self)) }
                return (.success, 0)
            }
        }
        let world = SecureWorld()
        world.register(PluginsExample.self)
        let lines = Lines()
        world.register(plugin: lines)
        let client = TEEContext.embedded(world)
        defer { client.finalize() }
        for _ in 0..<2 {
            let session = try client.openSession(PluginsExampleTA.uuid)
            for _ in 0..<3 { try session.invoke(PluginsExampleTA.Command.ping.rawValue) }
            session.close()
        }
        let expected = (0..<3).map { "6 Hello, plugin! value = 0x\($0)" }
        #expect(lines.received.withLock { $0 } == expected + expected)
        let session = try client.openSession(PluginsExampleTA.uuid)
        defer { session.close() }
        #expect(throws: TEEClientError(.badParameters, origin: .trustedApp)) { try session.invoke(0, TEEOperation(.valueInput(1))) }
    }

    /// No supplicant: the TA's ping fails with COMMUNICATION (Linux's driver's answer when
    /// tee-supplicant is not running), so the session does not open.
    @Test func noSupplicantIsCommunication() throws {
        let client = TEEContext.embedded(Self.world())
        defer { client.finalize() }
        #expect(throws: TEEClientError(.communication, origin: .trustedApp)) { _ = try client.openSession(SupplicantPluginTA.uuid) }
    }

    /// A supplicant on its own connection and thread, serving with the Swift plugin through its
    /// shared memory: the same answers; a call larger than its memory is OUT_OF_MEMORY; a length
    /// the plugin reports past the data reaches the TA as reported, with only the TA's own bytes.
    @Test func aSupplicantOnAnotherConnection() throws {
        let world = Self.world()
        let supplicantContext = TEEContext.embedded(world)
        let supplicant = try TEESupplicant(context: supplicantContext, capacity: 4096)
        let stop = Locked(false)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let plugin = SwiftTestPlugin()
            try? supplicant.serve(until: { stop.withLock { $0 } }) { call, memory in
                guard call.plugin == plugin.uuid else { return (.itemNotFound, 0) }   // tee-supplicant's answer
                guard var data = try? memory.read(offset: 0, count: call.length) else { return (.generic, 0) }
                // GET_ARR into exactly 40 bytes: report a length past the data.
                if call.command == SupplicantPluginTA.PluginCommand.getArray.rawValue && call.length == 40 {
                    try? memory.write([UInt8](repeating: 0x41, count: 40))
                    return (.success, 1000)
                }
                let (result, length) = plugin.invoke(command: call.command, subCommand: call.subCommand, data: &data)
                try? memory.write(data)
                return (result, length)
            }
            done.signal()
        }
        defer {
            stop.withLock { $0 = true }
            done.wait()
            supplicantContext.finalize()
        }
        let deadline = Date(timeIntervalSinceNow: 5)
        while !world.isSupplicantServing && Date() < deadline { usleep(1000) }
        let client = TEEContext.embedded(world)
        defer { client.finalize() }
        try SupplicantChecks.xtest1033(client)

        let session = try client.openSession(SupplicantPluginTA.uuid)
        defer { session.close() }
        let big = TEEOperation(.tempInout([UInt8](repeating: 1, count: 5000)), .valueOutput)
        #expect(throws: TEEClientError(.outOfMemory, origin: .trustedApp)) { try session.invoke(SupplicantPluginTA.Command.writeArray.rawValue, big) }
        let past = TEEOperation(.tempOutput(capacity: 40), .valueOutput)
        try session.invoke(SupplicantPluginTA.Command.getArray.rawValue, past)
        #expect(past.value(1)?.a == 1000)
        #expect(past.output(0) == [UInt8](repeating: 0x41, count: 40))
    }

    /// A supplicant that takes a call and does not answer holds it only until the TA's client
    /// cancels (the TA has cancellation unmasked): CANCEL at once, the late answer accepted and
    /// dropped, and the next call served normally.
    @Test func aCancelledCallStopsWaitingForTheSupplicant() throws {
        let world = SecureWorld()
        world.register(CancellablePluginCaller.self)
        world.supplicantReceiveWait = 0.05
        let supplicant = MemoryTable(peer: .currentProcess)
        let region = supplicant.add(HeapRegion(count: 4096), flags: 3)
        func request(_ r: WireRequest) throws -> WireResponse {
            guard case .response(_, _, let response) = try WireCodec.decode(world.handle(WireCodec.encode(.request(id: 1, r)), memory: supplicant)) else {
                throw WireError(.unknownKind, "not a response")
            }
            return response
        }
        _ = try request(.supplicantReceive(memory: region))   // now serving (nothing to do yet)
        let client = TEEContext.embedded(world)
        defer { client.finalize() }
        let session = try client.openSession(CancellablePluginCaller.properties.uuid)
        defer { session.close() }
        let op = TEEOperation()
        let first = BackgroundCall { () throws(TEEClientError) in try session.invoke(0, op) }
        var taken: WireResponse?
        for _ in 0..<100 where taken == nil {
            let r = try request(.supplicantReceive(memory: region))
            if r.result == .success { taken = r }
        }
        let call = try #require(taken, "the supplicant took the TA's call")
        let start = Date()
        op.requestCancellation()
        #expect(first.result(within: 5) == .cancel)
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(try request(.supplicantReply(call: call.session, result: .success, outputLength: 0)).result == .success, "the late answer is accepted")

        let second = BackgroundCall { () throws(TEEClientError) in try session.invoke(0, TEEOperation()) }
        var served = false
        for _ in 0..<100 where !served {
            let r = try request(.supplicantReceive(memory: region))
            if r.result == .success {
                #expect(try request(.supplicantReply(call: r.session, result: .success, outputLength: 0)).result == .success)
                served = true
            }
        }
        #expect(second.result(within: 5) == .success)
    }

    /// The supplicant's requests from connections that may not make them, each refused with its
    /// own code; a supplicant that goes away mid-call ends the TA's call with COMMUNICATION.
    @Test func whatASupplicantMayNotDo() throws {
        let world = Self.world()
        func request(_ r: WireRequest, _ memory: MemoryTable) throws -> WireResponse {
            guard case .response(_, _, let response) = try WireCodec.decode(world.handle(WireCodec.encode(.request(id: 1, r)), memory: memory)) else {
                throw WireError(.unknownKind, "not a response")
            }
            return response
        }
        let me = PeerCredentials.currentProcess
        let first = MemoryTable(peer: me)
        let data = first.add(HeapRegion(count: 4096), flags: 3)
        let inputOnly = first.add(HeapRegion(count: 4096), flags: 1)
        #expect(try request(.supplicantReceive(memory: 99), first).result == .badParameters, "a region it does not have")
        #expect(try request(.supplicantReceive(memory: inputOnly), first).result == .badParameters, "a region the daemon may not write")
        let stranger = MemoryTable(peer: PeerCredentials(uid: me.uid &+ 4242, gid: me.gid, pid: 1))
        let strangerData = stranger.add(HeapRegion(count: 4096), flags: 3)
        #expect(try request(.supplicantReceive(memory: strangerData), stranger).result == .accessDenied, "another user")
        #expect(try request(.supplicantReply(call: 1, result: .success, outputLength: 0), first).result == .badState, "an answer to no call")
        let start = Date()
        #expect(try request(.supplicantReceive(memory: data), first).result == .noData, "nothing to do")
        #expect(Date().timeIntervalSince(start) < 5)
        let second = MemoryTable(peer: me)
        let secondData = second.add(HeapRegion(count: 4096), flags: 3)
        #expect(try request(.supplicantReceive(memory: secondData), second).result == .busy, "a second supplicant")

        // The supplicant takes a TA's call and goes away without answering it.
        let client = TEEContext.embedded(world)
        defer { client.finalize() }
        let opening = BackgroundCall { () throws(TEEClientError) in try client.openSession(SupplicantPluginTA.uuid).close() }
        var taken: WireResponse?
        for _ in 0..<20 where taken == nil {
            let r = try request(.supplicantReceive(memory: data), first)
            if r.result == .success { taken = r }
        }
        #expect(taken != nil, "the TA's ping reached the supplicant")
        // Another connection cannot answer it.
        #expect(try request(.supplicantReply(call: taken?.session ?? 0, result: .success, outputLength: 0), second).result == .badState)
        world.disconnect(memory: first)
        #expect(opening.result(within: 5) == .communication, "the TA's call ended; the session did not open")
        // The first supplicant gone, the second may serve.
        #expect(try request(.supplicantReceive(memory: secondData), second).result == .noData)
    }
}

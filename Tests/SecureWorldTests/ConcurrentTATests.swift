import Foundation
import OPTEETestTAs
import OPTEETestTAInterface
import Testing
import TEECrypto
import TEEEmbedded

/// The concurrent TA port as xtest 1013 drives it, in one process: each call counts itself in
/// the shared word (and out again), the SHA-256 of the input comes back, and a shared word that
/// is short, unaligned or not in/out is refused.
@Suite struct ConcurrentTATests {
    @Test func countsItselfInAndOutOfTheSharedWord() throws {
        let world = SecureWorld()
        world.register(ConcurrentTestTA.self)
        let context = TEEContext.embedded(world)
        defer { context.finalize() }
        let shm = try context.allocateSharedMemory(size: 16, flags: [.input, .output])
        try shm.write([5, 0, 0, 0])   // five calls "already active"
        let s = try context.openSession(ConcurrentTA.uuid)
        let busy = TEEOperation(.whole(shm), .valueInout(3, 0))
        try s.invoke(ConcurrentTA.Command.busyLoop.rawValue, busy)
        #expect(busy.value(1)?.b == 6, "counted in: 5 + this one")
        #expect(shm.bytes.prefix(4) == [5, 0, 0, 0], "and out again")
        let input = Array("abc".utf8)
        let sha = TEEOperation(.whole(shm), .valueInout(2, 0), .tempInput(input), .tempOutput(capacity: 32))
        try s.invoke(ConcurrentTA.Command.sha256.rawValue, sha)
        #expect(sha.output(3) == Digest.hash(.sha256, input).bytes)
        #expect(clientError { () throws(TEEClientError) in try s.invoke(ConcurrentTA.Command.sha256.rawValue, TEEOperation(.whole(shm), .valueInout(1, 0), .tempInput(input), .tempOutput(capacity: 31))) }?.result == .badParameters, "a short digest buffer")
        #expect(clientError { () throws(TEEClientError) in try s.invoke(ConcurrentTA.Command.busyLoop.rawValue, TEEOperation(.partial(.memrefPartialInout, shm, offset: 2, size: 8), .valueInout(1, 0))) }?.result == .badParameters, "an unaligned word")
        #expect(clientError { () throws(TEEClientError) in try s.invoke(ConcurrentTA.Command.busyLoop.rawValue, TEEOperation(.partial(.memrefPartialInout, shm, offset: 0, size: 3), .valueInout(1, 0))) }?.result == .badParameters, "a short word")
        #expect(clientError { () throws(TEEClientError) in try s.invoke(ConcurrentTA.Command.busyLoop.rawValue, TEEOperation(.partial(.memrefPartialInput, shm, offset: 0, size: 4), .valueInout(1, 0))) }?.result == .badParameters, "an input-only word")
        #expect(shm.bytes.prefix(4) == [5, 0, 0, 0], "no refused call touched it")
    }

    /// xtest 1034 with the large TA embedded: a session opens (the megabyte checked), a command
    /// is GENERIC from the TA.
    @Test func theLargeTAOpensAndRefusesEveryCommand() throws {
        let world = SecureWorld()
        world.register(LargeTAImplementation.self)
        let context = TEEContext.embedded(world)
        defer { context.finalize() }
        let s = try context.openSession(LargeTA.uuid)
        #expect(clientError { () throws(TEEClientError) in try s.invoke(0, TEEOperation()) } == TEEClientError(.generic, origin: .trustedApp))
        s.close()
        #expect(LargeTAImplementation.properties.dataSize >= UInt32(LargeTA.bufferSize), "the megabyte is declared")
    }
}

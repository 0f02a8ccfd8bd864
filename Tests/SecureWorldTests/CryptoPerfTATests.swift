import Foundation
import OPTEETestTAs
import OPTEETestTAInterface
import Testing
import TestSupport
import TEEClient
import TEEEmbedded

/// The crypto_perf TA port as `xtest --aes-perf`, `--hash-perf` and `--asym-perf` drive it, in
/// one process (CryptTADaemonTests runs the same checks with the TA in its own process, and
/// the panics of a timed command before its prepare).
@Suite struct CryptoPerfTATests {
    static func context() -> TEEContext {
        let world = SecureWorld()
        world.register(CryptoPerfTAImplementation.self)
        return TEEContext.embedded(world)
    }

    @Test func aesPerf() throws {
        let context = Self.context()
        defer { context.finalize() }
        try CryptoPerfChecks.aesPerf(context)
    }

    @Test func hashPerf() throws {
        let context = Self.context()
        defer { context.finalize() }
        try CryptoPerfChecks.hashPerf(context)
    }

    @Test func asymPerf() throws {
        let context = Self.context()
        defer { context.finalize() }
        try CryptoPerfChecks.asymPerf(context)
    }

    /// A cancelled timed call ends at the next pass with CANCEL (the original runs on): 2^32 − 1
    /// passes over 64 KiB would take hours.
    @Test func aCancelledTimedCallEndsWithCancel() throws {
        let context = Self.context()
        defer { context.finalize() }
        let s = try context.openSession(CryptoPerfTA.uuid)
        try s.invoke(CryptoPerfTA.Command.hashPrepareOperation.rawValue, TEEOperation(.valueInput(CryptoPerfTA.HashAlgorithm.sha256.rawValue)))
        let shm = try context.allocateSharedMemory(size: 65536, flags: [.input, .output])
        let op = TEEOperation(.partial(.memrefPartialInput, shm, offset: 0, size: 65536), .tempOutput(capacity: 32), .valueInput(.max, 0))
        let call = BackgroundCall { () throws(TEEClientError) in try s.invoke(CryptoPerfTA.Command.hashProcess.rawValue, op) }
        Thread.sleep(forTimeInterval: 0.05)
        op.requestCancellation()
        #expect(call.result(within: 10) == .cancel)
    }
}

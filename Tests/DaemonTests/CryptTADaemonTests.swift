import Foundation
import OPTEETestTAInterface
import TEEClient
import TEECrypto
import Testing

/// The crypt TA as xtest reaches it: the real daemon (`secure-world --test-tas`), a client in
/// this process, each session its own TA process. A GP-mandated panic is TARGET_DEAD from the
/// TEE (xtest 4010 expects exactly that), later calls too, and a new session works.
@Suite(.serialized) struct CryptTADaemonTests {
    func le(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    @Test func digestAcrossProcessesAndPanicIsTargetDead() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let session = try context.openSession(CryptTA.uuid)
        // SHA3-256 across processes, in two pieces.
        let allocate = TEEOperation(.valueInout(0, 0x5000_0009), .valueInput(5, 0))
        try session.invoke(CryptTA.Command.allocateOperation.rawValue, allocate)
        let op = allocate.value(0)!.a
        try session.invoke(CryptTA.Command.digestUpdate.rawValue, TEEOperation(.valueInput(op), .tempInput(Array("ab".utf8))))
        let final = TEEOperation(.valueInput(op), .tempInput(Array("c".utf8)), .tempOutput(capacity: 32))
        try session.invoke(CryptTA.Command.digestDoFinal.rawValue, final)
        #expect(final.output(2) == Digest.hash(.sha3_256, Array("abc".utf8)).bytes)

        // xtest 4010: a 1024-byte key into a 1024-bit HMAC-SHA256 object.
        let object = TEEOperation(.valueInput(0xA000_0004, 1024), .valueOutput)
        try session.invoke(CryptTA.Command.allocateTransientObject.rawValue, object)
        let attributes = CryptTA.packAttributes([(id: 0xC000_0000, value: nil, bytes: [UInt8](repeating: 1, count: 1024))])
        let dead = TEEClientError(.targetDead, origin: .tee)
        #expect(clientError { try session.invoke(CryptTA.Command.populateTransientObject.rawValue, TEEOperation(.valueInput(object.value(1)!.a), .tempInput(attributes))) } == dead)
        #expect(clientError { try session.invoke(CryptTA.Command.getGlobal.rawValue, TEEOperation(.valueOutput)) } == dead, "later calls too")
        #expect(d.eventually { d.log.contains("a 8192-bit key in an object of at most 1024 bits") }, "the secure log names the reason")
        session.close()
        // A fresh session: a fresh instance (multi-instance TA), working.
        let again = try context.openSession(CryptTA.uuid)
        try again.invoke(CryptTA.Command.setGlobal.rawValue, TEEOperation(.valueInput(7)))
        let global = TEEOperation(.valueOutput)
        try again.invoke(CryptTA.Command.getGlobal.rawValue, global)
        #expect(global.value(0)?.a == 7)
        again.close()
    }

    /// xtest 4012 and 4013 as they run against the daemon: the crypt TA in its own process asks
    /// the daemon's system pseudo-TA for entropy mixing and a unique key (its checks pass); a
    /// key into the client's memory is refused (SECURITY) and nothing is written there.
    @Test func systemPseudoTAFromAnIsolatedTA() throws {
        let d = try DaemonProcess(extra: ["--test-tas"])
        defer { d.cleanUp() }
        let context = try TEEContext.connect(socket: d.socket)
        defer { context.finalize() }
        let session = try context.openSession(CryptTA.uuid)
        try session.invoke(CryptTA.Command.seedRNGPool.rawValue, TEEOperation(.tempInput([UInt8](repeating: 7, count: 32))))
        try session.invoke(CryptTA.Command.deriveTAUniqueKey.rawValue, TEEOperation())
        let shm = TEEOperation(.tempInput([UInt8](repeating: 0, count: 32)), .tempOutput(capacity: 32))
        #expect(clientError { try session.invoke(CryptTA.Command.deriveTAUniqueKeySHM.rawValue, shm) } == TEEClientError(.security, origin: .trustedApp))
        #expect(shm.output(1) == [UInt8](repeating: 0, count: 32), "no key bytes reached the client's memory")
    }
}

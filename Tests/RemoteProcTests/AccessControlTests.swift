import FirmwareImage
import Foundation
import RemoteProcTAInterface
import TEEEmbedded
import Testing
import TestSupport

/// DESIGN.md §8: the remoteproc TA serves the normal-world kernel only; a coprocessor belongs to
/// the session that loaded it until RELEASE; core dumps are for crash analysis.
@Suite struct AccessControlTests {
    let denied = TEEClientError(.accessDenied, origin: .trustedApp)
    let badState = TEEClientError(.badState, origin: .trustedApp)

    @Test func onlyTheKernelIsServed() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        // A user-space client (the default peer) may not claim REE_KERNEL: the TEE refuses it.
        let user = TEEContext.embedded(h.world)
        defer { user.finalize() }
        #expect(clientErr { () throws(TEEClientError) in _ = try user.openSession(RemoteProcTA.uuid, login: .reeKernel, operation: TEEOperation(.valueInput(0))) }
                == TEEClientError(.accessDenied, origin: .tee))
        // Any other login reaches the TA, which refuses it (a GROUP login names the caller's own
        // group: the TEE checks membership first; application logins the TEE refuses itself).
        for login in [Login.public, .user, .group] {
            #expect(clientErr { () throws(TEEClientError) in _ = try user.openSession(RemoteProcTA.uuid, login: login, connectionData: UInt32(getegid()), operation: TEEOperation(.valueInput(0))) } == denied, "\(login)")
            #expect(clientErr { () throws(TEEClientError) in _ = try h.context.openSession(RemoteProcTA.uuid, login: login, connectionData: 0, operation: TEEOperation(.valueInput(0))) } == denied, "kernel peer, \(login)")
        }
        #expect(clientErr { () throws(TEEClientError) in _ = try user.openSession(RemoteProcTA.uuid, login: .application, operation: TEEOperation(.valueInput(0))) } == TEEClientError(.notSupported, origin: .tee))
        #expect(h.world.sessionCount == 0)
    }

    /// Another kernel session gets ACCESS_DENIED for every command on a coprocessor it did not
    /// load — above all GET_COREDUMP, which would hand it the firmware's private memory.
    @Test func aCoprocessorBelongsToTheSessionThatLoadedIt() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let owner = try h.session(), other = try h.session()
        let image = try RprocHarness.m4Image()
        #expect(rproc(owner, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(image))) == nil)
        #expect(rproc(owner, .startFirmware, TEEOperation(.valueInput(0))) == nil)
        h.platform.coprocessors[0]!.crash(reason: "test")
        let attempts: [(RemoteProcTA.Command, TEEOperation)] = [
            (.loadFirmware, TEEOperation(.valueInput(0), .tempInput(image))),
            (.startFirmware, TEEOperation(.valueInput(0))),
            (.stopFirmware, TEEOperation(.valueInput(0))),
            (.getResourceTable, TEEOperation(.valueInput(0), .valueOutput, .valueOutput)),
            (.getCoreDump, TEEOperation(.valueInput(0), .tempOutput(capacity: 1 << 20))),
            (.releaseFirmware, TEEOperation(.valueInput(0))),
        ]
        for (command, op) in attempts {
            #expect(rproc(other, command, op) == denied, "\(command) from another session")
        }
        #expect(h.platform.coprocessors[0]!.state == .crashed, "nothing the other session asked happened")
        // The owner can; after its RELEASE the coprocessor is free for anyone.
        #expect(rproc(owner, .stopFirmware, TEEOperation(.valueInput(0))) == nil)
        #expect(rproc(owner, .releaseFirmware, TEEOperation(.valueInput(0))) == nil)
        #expect(rproc(other, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(image))) == nil)
        #expect(rproc(owner, .startFirmware, TEEOperation(.valueInput(0))) == denied, "now the other session owns it")
    }

    /// An owner that closes its session without RELEASE does not leave the coprocessor locked
    /// (or its firmware in memory): it is stopped and released, as Linux does on driver removal.
    @Test func closingTheOwnerSessionReleases() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let owner = try h.session()
        #expect(rproc(owner, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try RprocHarness.m4Image()))) == nil)
        #expect(rproc(owner, .startFirmware, TEEOperation(.valueInput(0))) == nil)
        owner.close()
        #expect(h.platform.coprocessors[0]!.state == .off)
        #expect(h.platform.isWiped(0))
        #expect(h.platform.firewallState(of: 0) == .default)
        let next = try h.session()
        #expect(rproc(next, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try RprocHarness.m4Image()))) == nil)
    }

    /// GET_COREDUMP answers only after a crash (also after the STOP Linux's recovery sends
    /// before it dumps); a healthy, loaded or stopped-but-not-crashed coprocessor: BAD_STATE.
    @Test func coreDumpOnlyAfterACrash() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let s = try h.session()
        let dump = { rproc(s, .getCoreDump, TEEOperation(.valueInput(0), .tempOutput(capacity: 1 << 20))) }
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try RprocHarness.m4Image()))) == nil)
        #expect(dump() == badState, "loaded, never run")
        #expect(rproc(s, .startFirmware, TEEOperation(.valueInput(0))) == nil)
        #expect(dump() == badState, "running and healthy")
        #expect(rproc(s, .stopFirmware, TEEOperation(.valueInput(0))) == nil)
        #expect(dump() == badState, "stopped without a crash")
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try RprocHarness.m4Image()))) == nil)
        #expect(rproc(s, .startFirmware, TEEOperation(.valueInput(0))) == nil)
        h.platform.coprocessors[0]!.crash(reason: "test")
        #expect(dump() == nil, "crashed")
        #expect(rproc(s, .stopFirmware, TEEOperation(.valueInput(0))) == nil)
        #expect(dump() == nil, "stopped after the crash (Linux's recovery order)")
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try RprocHarness.m4Image()))) == nil)
        #expect(rproc(s, .startFirmware, TEEOperation(.valueInput(0))) == nil)
        #expect(dump() == badState, "recovered")
    }
}

/// Anti-rollback with images OP-TEE's script makes (no SECURITY_COUNTER): they load while no
/// counter (or 0) is stored, and count as 0 against a stored counter.
@Suite struct RollbackWithoutCounterTests {
    @Test func anImageWithoutACounterCountsAsZero() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let plain = try RprocHarness.m4Image()
        var zero = Manifest()
        zero.securityCounter = 0
        var one = Manifest()
        one.securityCounter = 1
        let driver = h.driver()
        try driver.boot(firmware: plain)
        try driver.shutdown()
        try driver.boot(firmware: try RprocHarness.m4Image(manifest: zero))   // stores 0
        try driver.shutdown()
        try driver.boot(firmware: plain)                                       // 0 ≥ 0: loads
        try driver.shutdown()
        try driver.boot(firmware: try RprocHarness.m4Image(manifest: one))    // stores 1
        try driver.shutdown()
        #expect(throws: RemoteProcError.self) { try driver.boot(firmware: plain) }
        #expect(h.platform.isWiped(0))
    }
}

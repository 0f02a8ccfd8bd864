import FirmwareImage
import Foundation
import RemoteProcTAInterface
@testable import SecureWorld
import TEEEmbedded
import Testing
import TestSupport

/// Windows the TA opens to the normal world cover exactly the declared bytes, never code or
/// secure memory; the board's ELF machines are enforced at LOAD.
@Suite struct WindowTests {
    /// The M4 example with its TRACE entry's device address replaced (rehashed, re-signed).
    static func m4(traceDA: UInt32, traceLength: UInt32? = nil) throws -> [UInt8] {
        var builder = try ImageBuilder.m4()
        let elf = try ELFImage(bytes: builder.images[0])
        let table = Int(elf.resourceTableSection!.offset)
        // header (16) + 3 offsets; the second entry is the trace: u32 type, da, len, …
        let trace = table + Int(readLE32(builder.images[0], table + 20))
        patch32(&builder.images[0], trace + 4, traceDA)
        if let traceLength { patch32(&builder.images[0], trace + 8, traceLength) }
        builder.rehash()
        return try builder.signed()
    }

    /// A TRACE entry pointing at RETRAM code (DA 0): the image loads (OP-TEE would run it), but
    /// no window opens over the code, and the normal world's read says why.
    @Test func traceOverCodeGetsNoWindow() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try Self.m4(traceDA: 0x0, traceLength: 0x100))
        #expect(h.platform.coprocessors[0]!.state == .running)
        #expect(throws: RemoteProcError.self) { _ = try driver.readTrace() }
        do {
            _ = try h.platform.read(.normal, pa: 0x3800_0000, count: 0x100)
            Issue.record("the normal world read RETRAM code through a trace window")
        } catch {
            #expect(error.kind == .denied)
            #expect(error.reason.contains("no window was opened there"), "\(error.reason)")
            #expect(error.reason.contains("executable segment"), "\(error.reason)")
        }
        try driver.shutdown()
        #expect(h.platform.isWiped(0))
    }

    /// A trace buffer that is not inside any loaded segment nor a shared region (free MCUSRAM
    /// past the firmware): no window either.
    @Test func traceOutsideLoadedMemoryGetsNoWindow() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try Self.m4(traceDA: 0x1002_0000))
        #expect(throws: RemoteProcError.self) { _ = try driver.readTrace() }
        try driver.shutdown()
    }

    /// The windows are exactly the table's and the trace's bytes: one byte before or after is
    /// denied; the trace window is read-only, the table's read-write.
    @Test func windowsCoverExactlyTheDeclaredBytes() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m4Image())
        let table = try #require(driver.tableAddress), trace = try #require(driver.trace)
        #expect((try? h.platform.read(.normal, pa: table.pa, count: table.size)) != nil)
        #expect((try? h.platform.write(.normal, pa: table.pa + 24, bytes: [7])) != nil, "the table window is writable (vdev status)")
        #expect(throws: MemoryAccessError.self) { try h.platform.read(.normal, pa: table.pa, count: table.size + 1) }
        #expect(throws: MemoryAccessError.self) { try h.platform.read(.normal, pa: table.pa - 1, count: 1) }
        #expect((try? h.platform.read(.normal, pa: trace.pa, count: trace.size)) != nil)
        #expect(throws: MemoryAccessError.self) { try h.platform.write(.normal, pa: trace.pa, bytes: [0x41]) }
        #expect(throws: MemoryAccessError.self) { try h.platform.read(.normal, pa: trace.pa + UInt64(trace.size), count: 1) }
        try driver.shutdown()
    }

    /// On the M33 the TF-M image's memory is secure: no window may open there, even over data.
    @Test func noWindowOverSecureMemory() throws {
        let h = try RprocHarness(board: "stm32mp25")
        defer { h.cleanUp() }
        try h.driver().boot(firmware: try RprocHarness.m33Bundle())
        let sram = try #require(h.platform.board.coprocessors[0].regions.first { $0.secure })
        #expect(throws: Platform.WindowRefusal.self) {
            try h.platform.openWindow(0, da: UInt64(sram.deviceAddress), size: 16, rights: .read, purpose: "test")
        }
    }

    /// A RISC-V ELF is refused on the Cortex-M4 (the board's elfMachines), memory wiped.
    @Test func theBoardsMachinesAreEnforced() throws {
        var builder = try ImageBuilder.m4()
        patch16(&builder.images[0], 18, ELFMachine.riscv)
        builder.rehash()
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let s = try h.session()
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try builder.signed()))) == TEEClientError(.badFormat, origin: .trustedApp))
        #expect(h.platform.isWiped(0))
        #expect(h.platform.firewallState(of: 0) == .default)
    }
}

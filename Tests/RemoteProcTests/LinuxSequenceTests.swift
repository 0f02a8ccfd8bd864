import FirmwareImage
import Testing
import TEEEmbedded
import TestSupport

@Suite struct LinuxSequenceTests {
    /// Boot, crash, recovery, core dump, shutdown: the Linux driver's three sequences.
    @Test func bootCrashRecoverDumpShutdown() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let image = try RprocHarness.m4Image()
        let driver = h.driver()
        try driver.boot(firmware: image)
        #expect(driver.state == .running)
        #expect(h.platform.coprocessors[0]!.state == .running)
        #expect(h.platform.firewallState(of: 0) == .running)
        // The trace buffer, written by the firmware running on the emulated core, is readable
        // by the normal world.
        let trace = try h.trace(driver) { $0.contains("cm4: tick 3\n") }
        #expect(trace.hasPrefix("cm4: firmware up\ncm4: tick 1\ncm4: tick 2\ncm4: tick 3\n"), "\(trace)")
        // The resource table the driver installed carries the addresses it assigned.
        let table = try #require(driver.resourceTable)
        #expect(table.vdevs.first?.vrings.map(\.pa) == [0x3004_0000, 0x3004_1000])
        #expect(table.carveouts.first?.pa == 0x3004_2000)
        let loaded = try h.platform.read(.normal, pa: driver.tableAddress!.pa, count: driver.tableAddress!.size)
        #expect(loaded == driver.cachedTable)

        // A crash is injected (as if the watchdog fired); recovery re-authenticates and restarts.
        h.platform.coprocessors[0]!.crash(reason: "test watchdog")
        driver.reportCrash()
        let dump = try driver.coreDump()
        #expect(Array(dump.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46])
        #expect(dump[16] == 4, "ET_CORE")
        #expect(String(decoding: dump, as: UTF8.self).contains("crash=test watchdog"))
        try driver.recover(firmware: image)
        #expect(driver.state == .running)
        #expect(h.platform.coprocessors[0]!.state == .running)
        // The firmware booted again from its reset vector: its trace starts afresh.
        #expect(try h.trace(driver) { $0.contains("cm4: tick 1\n") }.hasPrefix("cm4: firmware up\ncm4: tick 1\n"))

        try driver.shutdown()
        #expect(h.platform.isWiped(0))
        #expect(h.platform.firewallState(of: 0) == .default)
        #expect(h.platform.coprocessors[0]!.state == .off)
    }

    /// A refused boot and a refused recovery both end in RELEASE: the driver offline, every
    /// coprocessor byte zero, the default firewall, and the TA's own result reported.
    @Test func refusedBootAndRefusedRecoveryRelease() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let image = try RprocHarness.m4Image()
        let base = try ImageMetadata(bytes: image, fileSize: image.count).imageRange(0).lowerBound
        let text = try #require(try ELFImage(bytes: try ExampleFirmware.m4).loadSegments.first { $0.flags & 1 != 0 })
        var tampered = image
        tampered[base + Int(text.offset) + 4] ^= 0x01   // one bit of the signed code
        let driver = h.driver()

        let bootError = #expect(throws: RemoteProcError.self) { try driver.boot(firmware: tampered) }
        #expect(bootError?.step == "LOAD_FW")
        #expect(bootError?.result == .security)
        #expect(driver.state == .offline)
        #expect(h.platform.isWiped(0))
        #expect(h.platform.firewallState(of: 0) == .default)
        #expect(h.log.contains { $0.contains("boot failed at LOAD_FW") && $0.hasSuffix("releasing") })

        try driver.boot(firmware: image)
        h.platform.coprocessors[0]!.crash(reason: "test watchdog")
        driver.reportCrash()
        #expect(driver.state == .crashed)
        let recoverError = #expect(throws: RemoteProcError.self) { try driver.recover(firmware: tampered) }
        #expect(recoverError?.step == "LOAD_FW")
        #expect(recoverError?.result == .security)
        #expect(driver.state == .offline)
        #expect(h.platform.coprocessors[0]!.state == .off)
        #expect(h.platform.isWiped(0))
        #expect(h.platform.firewallState(of: 0) == .default)
        // The good image still boots afterwards: nothing was left half-done.
        try driver.boot(firmware: image)
        #expect(driver.state == .running)
        try driver.shutdown()
    }

    /// The normal world reads the trace buffer through its window, and what it reads is exactly
    /// the coprocessor's memory there: no copy, no model in between.
    @Test func theTraceIsTheFirmwaresOwnMemory() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m4Image())
        let trace = try #require(driver.trace)
        _ = try h.trace(driver) { $0.contains("cm4: tick 2\n") }
        h.platform.coprocessors[0]!.stop()
        let region = try #require(h.platform.board.coprocessors[0].regions.firstIndex { UInt64($0.physicalAddress) <= trace.pa && trace.pa < UInt64($0.physicalAddress) + UInt64($0.size) })
        let offset = Int(trace.pa) - Int(h.platform.board.coprocessors[0].regions[region].physicalAddress)
        let inMemory = Array(h.platform.regionBytes(0, region: region)[offset..<(offset + trace.size)])
        #expect(try h.platform.read(.normal, pa: trace.pa, count: trace.size) == inMemory)
        #expect(String(decoding: inMemory.prefix { $0 != 0 }, as: UTF8.self).hasPrefix("cm4: firmware up\ncm4: tick 1\ncm4: tick 2\n"))
        try driver.shutdown()
    }
}

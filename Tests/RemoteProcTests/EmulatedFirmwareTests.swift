import FirmwareImage
import Foundation
@testable import SecureWorld
import Testing
import TestSupport

/// The firmware the remoteproc TA authenticated and loaded runs where it lies: the platform's
/// region memory is what the emulated core maps (no copy), so the example M4 firmware booted
/// through the real LOAD path writes its own trace into coprocessor memory the platform reads.
/// (START still drives the coprocessor model; wiring the core into START is issue 14's next step.)
@Suite struct EmulatedFirmwareTests {
    @Test func loadedFirmwareRunsInPlaceOnTheEmulatedCore() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let rproc = h.driver()
        try rproc.boot(firmware: try RprocHarness.m4Image())
        let description = try #require(h.platform.board.coprocessors.first { $0.id == 0 })
        let core = try EmulatedCore(.cortexM4)
        for (i, region) in description.regions.enumerated() {
            let storage = try #require(h.platform.regionMemory(0, region: i))
            try core.map(address: UInt64(region.deviceAddress), size: storage.mappedSize, protection: [.read, .write, .execute], memory: storage.base, owner: storage)
        }
        try core.reset(vectorTable: 0)
        #expect(core.run(instructions: 1_000_000) == .sliceEnded)
        // The trace buffer's device address, from the loaded image's resource table.
        let elf = try ELFImage(bytes: try ExampleFirmware.m4)
        let section = try #require(elf.resourceTableSection)
        let image = try ExampleFirmware.m4
        let trace = try #require(try ResourceTable(bytes: Array(image[Int(section.offset)..<Int(section.offset + section.size)])).traces.first)
        let region = try #require(description.regions.firstIndex { UInt64($0.deviceAddress) <= UInt64(trace.da) && UInt64(trace.da) < UInt64($0.deviceAddress) + UInt64($0.size) })
        let bytes = h.platform.regionBytes(0, region: region)
        let offset = Int(trace.da) - Int(description.regions[region].deviceAddress)
        let text = String(decoding: bytes[offset..<(offset + 64)].prefix { $0 != 0 }, as: UTF8.self)
        #expect(text.hasPrefix("cm4: firmware up"), "trace in coprocessor memory: \(text)")
        // Shutting down (STOP, RELEASE) wipes what the firmware wrote too.
        try rproc.shutdown()
        #expect(h.platform.isWiped(0))
    }
}

import FirmwareImage
import Foundation
import RemoteProcTAInterface
import Synchronization
import TEEEmbedded
import Testing
import TestSupport

/// Another thread keeps flipping bytes of the shared image while the TA loads it. Every round
/// must end either in an error with memory wiped, or LOADED with memory equal to the signed
/// segments: never anything in between.
@Suite struct TOCTOUTests {
    @Test func flippingSharedBytesDuringLoad() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let s = try h.session()
        let image = try RprocHarness.m4Image()
        let elfBytes = try ExampleFirmware.m4
        let elf = try ELFImage(bytes: elfBytes)
        let shm = try h.context.registerSharedMemory(image, flags: .input)
        let metadata = try ImageMetadata(bytes: image, fileSize: image.count)
        // Flip inside what matters: metadata, ELF headers, and segment bytes.
        let targets = Array(0..<metadata.header.metadataSize) + Array(metadata.imageRange(0))
        let stop = Atomic<Bool>(false)
        let flips = Atomic<Int>(0)
        let flipper = Thread {
            var rng = SystemRandomNumberGenerator()
            while !stop.load(ordering: .relaxed) {
                let at = targets[Int.random(in: 0..<targets.count, using: &rng)]
                let original = image[at]
                try? shm.write([original ^ UInt8.random(in: 1...255, using: &rng)], at: at)
                try? shm.write([original], at: at)
                flips.wrappingAdd(1, ordering: .relaxed)
            }
        }
        flipper.start()
        defer { stop.store(true, ordering: .relaxed) }
        var loaded = 0, refused = 0
        for _ in 0..<80 {
            let error = rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .whole(shm)))
            if error == nil {
                loaded += 1
                try expectMemoryMatches(h, elf: elf, bytes: elfBytes)
                #expect(rproc(s, .releaseFirmware, TEEOperation(.valueInput(0))) == nil)
            } else {
                refused += 1
                #expect(h.platform.isWiped(0), "refused (\(String(describing: error))) but memory not wiped")
                #expect(h.platform.firewallState(of: 0) == .default)
                #expect([TEEResult.badFormat, .security, .signatureInvalid, .accessDenied, .badParameters].contains(error!.result), "\(String(describing: error))")
            }
            #expect(h.platform.isWiped(0), "released or refused: nothing left")
        }
        stop.store(true, ordering: .relaxed)
        #expect(loaded + refused == 80)
        #expect(flips.load(ordering: .relaxed) > 1000, "the flipper ran during the loads")
    }
}

import FirmwareImage
import Foundation
import RemoteProcTAInterface
import TEECrypto
import TEEEmbedded
import Testing
import TestSupport

extension Manipulation: CustomTestStringConvertible {
    public var testDescription: String { name }
}

/// How the TA reports each refusal (spec: remoteproc-ta.md, load step 8).
func expectedResult(_ code: ImageError.Code) -> TEEResult {
    switch code {
    case .signatureInvalid, .untrustedKey: .signatureInvalid
    case .hashMismatch, .hashTableMismatch, .rollback: .security
    case .overlappingSegments, .addressWraps: .accessDenied
    default: .badFormat
    }
}

@Suite struct RemoteProcTATests {
    /// Every state × command of the spec, including the idempotent cases.
    @Test func stateMachine() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let s = try h.session()
        let image = try h.context.registerSharedMemory(try RprocHarness.m4Image(), flags: .input)
        let load = { rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .whole(image))) }
        let start = { rproc(s, .startFirmware, TEEOperation(.valueInput(0))) }
        let stop = { rproc(s, .stopFirmware, TEEOperation(.valueInput(0))) }
        let release = { rproc(s, .releaseFirmware, TEEOperation(.valueInput(0))) }
        let table = { rproc(s, .getResourceTable, TEEOperation(.valueInput(0), .valueOutput, .valueOutput)) }
        let badState = TEEClientError(.badState, origin: .trustedApp)

        // OFF
        #expect(start() == badState)
        #expect(stop() == nil, "STOP from OFF is SUCCESS")
        #expect(table() == badState)
        #expect(release() == nil, "RELEASE from OFF")
        #expect(rproc(s, .getCoreDump, TEEOperation(.valueInput(0), .tempOutput(capacity: 16))) == badState, "nothing to dump")
        // OFF → LOADED
        #expect(load() == nil)
        #expect(load() == nil, "LOAD from LOADED is a no-op")
        #expect(stop() == badState)
        #expect(table() == nil)
        // LOADED → STARTED
        #expect(start() == nil)
        #expect(start() == nil, "START from STARTED")
        #expect(load() == badState)
        #expect(release() == badState)
        #expect(table() == nil)
        // STARTED → OFF
        #expect(stop() == nil)
        #expect(table() == badState)
        #expect(start() == badState)
        // LOADED → RELEASE → OFF
        #expect(load() == nil)
        #expect(release() == nil)
        #expect(h.platform.isWiped(0))
        #expect(table() == badState)
    }

    @Test func parameterChecks() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        // Unknown rproc id, wrong open types.
        #expect(clientErr { () throws(TEEClientError) in _ = try h.context.openSession(RemoteProcTA.uuid, login: .reeKernel, operation: TEEOperation(.valueInput(7))) } == TEEClientError(.notSupported, origin: .trustedApp))
        #expect(clientErr { () throws(TEEClientError) in _ = try h.context.openSession(RemoteProcTA.uuid, login: .reeKernel, operation: TEEOperation(.valueOutput)) } == TEEClientError(.badParameters, origin: .trustedApp))
        let s = try h.session()
        let bad = TEEClientError(.badParameters, origin: .trustedApp)
        #expect(rproc(s, .startFirmware, TEEOperation(.valueInput(0), .valueInput(1))) == bad, "wrong packed types")
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput([]))) == bad, "empty image")
        #expect(rproc(s, .startFirmware, TEEOperation(.valueInput(1))) == bad, "id differs from the session's")
        #expect(clientErr { () throws(TEEClientError) in try s.invoke(99, TEEOperation(.valueInput(0))) } == TEEClientError(.notSupported, origin: .trustedApp))
        // The platform pseudo-TA is closed to the normal world.
        #expect(clientErr { () throws(TEEClientError) in _ = try h.context.openSession(RemoteProcPTA.uuid) } == TEEClientError(.accessDenied, origin: .tee))
    }

    /// The firmware-image damage table, through the TA: each gets its specific result, state
    /// OFF, every coprocessor byte zero, firewall back to default.
    @Test(arguments: manipulations)
    func damagedImagesThroughTheTA(_ m: Manipulation) throws {
        let (bytes, trust) = try m.damage()
        let h = try RprocHarness(board: m.board, trust: trust)
        defer { h.cleanUp() }
        let s = try h.session()
        let error = rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(bytes)))
        #expect(error == TEEClientError(expectedResult(m.expected), origin: .trustedApp), "\(m.name): \(String(describing: error))")
        #expect(rproc(s, .getResourceTable, TEEOperation(.valueInput(0), .valueOutput, .valueOutput)) == TEEClientError(.badState, origin: .trustedApp))
        #expect(h.platform.isWiped(0), "\(m.name): memory not wiped")
        #expect(h.platform.firewallState(of: 0) == .default)
        #expect(h.platform.loadedSegments(of: 0).isEmpty)
    }

    /// Segments placed where firmware may not go.
    @Test(arguments: [
        ("outside every region", UInt32(0x2000_0000)),
        ("in the shared IPC region", UInt32(0x1004_0000)),
        ("straddling the end of MCUSRAM", UInt32(0x1003_FFF0)),
    ])
    func placementAttacks(name: String, paddr: UInt32) throws {
        var builder = try ImageBuilder.m4()
        let elf = try ELFImage(bytes: builder.images[0])
        let data = elf.loadSegments.first { $0.flags & 2 != 0 }!   // the RW data segment
        patch32(&builder.images[0], 0x34 + 32 * data.index + 12, paddr)
        builder.rehash()
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let s = try h.session()
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try builder.signed()))) == TEEClientError(.accessDenied, origin: .trustedApp), "\(name)")
        #expect(h.platform.isWiped(0))
    }

    @Test func normalWorldIsDeniedFirmwareMemory() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let retram: UInt64 = 0x3800_0000, mcusram: UInt64 = 0x3000_0000, ipc: UInt64 = 0x3004_0000
        // Before any firmware the normal world may use the memory.
        #expect((try? h.platform.read(.normal, pa: retram, count: 16)) != nil)
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m4Image())
        // (MCUSRAM + 0x1000 is past the resource table and trace windows the TA opened.)
        for (name, pa) in [("RETRAM", retram), ("MCUSRAM", mcusram + 0x1000)] {
            #expect(throws: MemoryAccessError.self, "\(name) read while running") { try h.platform.read(.normal, pa: pa, count: 4) }
            #expect(throws: MemoryAccessError.self, "\(name) write while running") { try h.platform.write(.normal, pa: pa, bytes: [0xEE]) }
        }
        // The shared IPC region and the windows the TA opened are reachable.
        #expect((try? h.platform.read(.normal, pa: ipc, count: 64)) != nil)
        #expect((try? h.platform.read(.normal, pa: driver.tableAddress!.pa, count: driver.tableAddress!.size)) != nil)
        // Another coprocessor's view: a coprocessor never reaches memory that is not its own.
        #expect(throws: MemoryAccessError.self) { try h.platform.read(.coprocessor(9), pa: retram, count: 4) }
        // Stopped but not released: still denied.
        try driver.callStop()
        #expect(throws: MemoryAccessError.self) { try h.platform.read(.normal, pa: retram, count: 4) }
        try driver.shutdownAfterStop()
        #expect(try h.platform.read(.normal, pa: retram, count: 16) == [UInt8](repeating: 0, count: 16), "wiped before the normal world sees it")
    }

    @Test func loadedBytesEqualTheSignedSegments() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let elfBytes = try ExampleFirmware.m4
        let elf = try ELFImage(bytes: elfBytes)
        let s = try h.session()
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try RprocHarness.m4Image()))) == nil)
        try expectMemoryMatches(h, elf: elf, bytes: elfBytes)
    }

    /// Bytes the normal world left in the (default-open) regions never survive into a load,
    /// and everything any requester wrote is gone after RELEASE: the wipe follows every store.
    @Test func leftoversAreWipedBeforeLoadAndAfterRelease() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let regions = h.platform.board.coprocessors[0].regions
        for r in regions {
            try h.platform.write(.normal, pa: UInt64(r.physicalAddress), bytes: [UInt8](repeating: 0xA5, count: Int(r.size)))
        }
        #expect(!h.platform.isWiped(0))
        let elfBytes = try ExampleFirmware.m4
        let elf = try ELFImage(bytes: elfBytes)
        let s = try h.session()
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try RprocHarness.m4Image()))) == nil)
        try expectMemoryMatches(h, elf: elf, bytes: elfBytes)
        var nonZeroOutsideSegments = 0
        for r in regions {
            let bytes = try h.platform.read(.secure, pa: UInt64(r.physicalAddress), count: Int(r.size))
            for (i, b) in bytes.enumerated() where b != 0 {
                let da = UInt64(r.deviceAddress) + UInt64(i)
                if !elf.loadSegments.contains(where: { da >= $0.paddr && da - $0.paddr < $0.memsz }) { nonZeroOutsideSegments += 1 }
            }
        }
        #expect(nonZeroOutsideSegments == 0, "the normal world's 0xA5 bytes survived the load")
        #expect(rproc(s, .startFirmware, TEEOperation(.valueInput(0))) == nil)
        #expect(rproc(s, .stopFirmware, TEEOperation(.valueInput(0))) == nil)
        #expect(rproc(s, .releaseFirmware, TEEOperation(.valueInput(0))) == nil)
        #expect(h.platform.isWiped(0))
    }

    @Test func antiRollback() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-rollback-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        func image(_ counter: UInt32) throws -> [UInt8] { try RprocHarness.m4Image(counter: counter) }
        let h = try RprocHarness(state: state)
        let s = try h.session()
        // Loaded but never started: the counter does not move.
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try image(5)))) == nil)
        #expect(rproc(s, .releaseFirmware, TEEOperation(.valueInput(0))) == nil)
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try image(3)))) == nil)
        #expect(rproc(s, .releaseFirmware, TEEOperation(.valueInput(0))) == nil)
        // Started at 5: the counter is stored.
        let driver = h.driver()
        try driver.boot(firmware: try image(5))
        try driver.shutdown()
        let security = TEEClientError(.security, origin: .trustedApp)
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try image(4)))) == security)
        #expect(h.platform.isWiped(0))
        // An image without a counter counts as 0: refused while a counter above 0 is stored
        // (otherwise stripping the TLV would be a way around anti-rollback).
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try RprocHarness.m4Image()))) == security)
        #expect(h.platform.isWiped(0))
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try image(5)))) == nil)
        h.context.finalize()
        // The counter survives a restart of the secure world (trusted storage).
        let again = try RprocHarness(state: state)
        defer { again.cleanUp() }
        #expect(rproc(try again.session(), .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try image(4)))) == security)
        again.context.finalize()
        // Red-team M2: deleting an object's file is a rollback trusted storage notices (its
        // directory names every object's current file): every load fails closed.
        let storage = state.appendingPathComponent("storage/\(RemoteProcTA.uuid)")
        for name in try FileManager.default.contentsOfDirectory(atPath: storage.path) where name.hasSuffix(".rpo") {
            try FileManager.default.removeItem(at: storage.appendingPathComponent(name))
        }
        let deleted = try RprocHarness(state: state)
        defer { deleted.cleanUp() }
        let s3 = try deleted.session()
        #expect(rproc(s3, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try image(1)))) == TEEClientError(.corruptObject, origin: .trustedApp))
        #expect(rproc(s3, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try image(5)))) == TEEClientError(.corruptObject, origin: .trustedApp))
        #expect(deleted.platform.isWiped(0))
    }

    @Test func revokedAndUnknownKeys() throws {
        let image = try RprocHarness.m4Image()
        let key = RprocHarness.rsaKey.publicKey
        let revoked = try RprocHarness(trust: TrustedKeys(keys: [key], revoked: [key.fingerprint]))
        defer { revoked.cleanUp() }
        #expect(rproc(try revoked.session(), .loadFirmware, TEEOperation(.valueInput(0), .tempInput(image))) == TEEClientError(.signatureInvalid, origin: .trustedApp))
        let unknown = try RprocHarness(trust: TrustedKeys(keys: [try PrivateKey(generating: .rsa2048).publicKey]))
        defer { unknown.cleanUp() }
        #expect(rproc(try unknown.session(), .loadFirmware, TEEOperation(.valueInput(0), .tempInput(image))) == TEEClientError(.signatureInvalid, origin: .trustedApp))
        // A key carried in PKEYINFO is accepted only when its hash is provisioned.
        let carried = try PrivateKey(generating: .ecdsaP256)
        var signer = ImageSigner(images: [try ExampleFirmware.m4], key: carried)
        signer.keyInfo = carried.publicKey.derRepresentation
        let withInfo = try signer.sign()
        #expect(rproc(try unknown.session(), .loadFirmware, TEEOperation(.valueInput(0), .tempInput(withInfo))) == TEEClientError(.signatureInvalid, origin: .trustedApp))
        let byHash = try RprocHarness(trust: TrustedKeys(keyHashes: [carried.publicKey.fingerprint]))
        defer { byHash.cleanUp() }
        #expect(rproc(try byHash.session(), .loadFirmware, TEEOperation(.valueInput(0), .tempInput(withInfo))) == nil)
    }

    @Test func m33BundleBootsWithItsVectorTables() throws {
        let h = try RprocHarness(board: "stm32mp25")
        defer { h.cleanUp() }
        // After LOAD (before the driver rewrites the table and the core writes its trace), both
        // images' segments are in memory, each where its ELF says, tails zero.
        let s = try h.session()
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try RprocHarness.m33Bundle()))) == nil)
        try expectMemoryMatches(h, elf: try ELFImage(bytes: try ExampleFirmware.tfmSecure), bytes: try ExampleFirmware.tfmSecure)
        try expectMemoryMatches(h, elf: try ELFImage(bytes: try ExampleFirmware.zephyrNonSecure), bytes: try ExampleFirmware.zephyrNonSecure)
        #expect(rproc(s, .releaseFirmware, TEEOperation(.valueInput(0))) == nil)
        s.close()
        let driver = h.driver()
        try driver.boot(firmware: try RprocHarness.m33Bundle())
        let core = h.platform.coprocessors[0]!
        #expect(core.state == .running)
        #expect(core.vectors.secure == 0x0E08_0000 && core.vectors.nonSecure == 0x8000_0000)
        #expect(try h.trace(driver) { $0.contains("zephyr: booting") }.hasPrefix("zephyr: booting on cortex-m33 (non-secure)\n"))
        #expect(driver.resourceTable?.traces.first?.name == "zephyr_log")
        try driver.shutdown()
        #expect(h.platform.isWiped(0))
    }

    @Test func coreDumpShortBuffer() throws {
        let h = try RprocHarness()
        defer { h.cleanUp() }
        let s = try h.session()
        #expect(rproc(s, .loadFirmware, TEEOperation(.valueInput(0), .tempInput(try RprocHarness.m4Image()))) == nil)
        #expect(rproc(s, .startFirmware, TEEOperation(.valueInput(0))) == nil)
        h.platform.coprocessors[0]!.crash(reason: "test watchdog")
        let small = TEEOperation(.valueInput(0), .tempOutput(capacity: 100))
        #expect(rproc(s, .getCoreDump, small) == TEEClientError(.shortBuffer, origin: .trustedApp))
        let needed = try #require(small.size(1))
        #expect(needed > 0x10000 + 0x40000 + 0x20000, "every region of the coprocessor is in the dump")
        let full = TEEOperation(.valueInput(0), .tempOutput(capacity: needed))
        #expect(rproc(s, .getCoreDump, full) == nil)
        let dump = try #require(full.output(1))
        #expect(dump.count == needed)
        // PT_LOAD for RETRAM: p_vaddr 0 (DA), p_paddr 0x38000000 (PA); its bytes are the loaded code.
        let phoff = Int(readLE32(dump, 28))
        #expect(readLE32(dump, phoff + 32 + 12) == 0x3800_0000)
        let codeOffset = Int(readLE32(dump, phoff + 32 + 4))
        let elfBytes = try ExampleFirmware.m4
        let elf = try ELFImage(bytes: elfBytes)
        let code = elf.loadSegments[1]
        #expect(Array(dump[(codeOffset + Int(code.paddr))..<(codeOffset + Int(code.paddr + code.filesz))]) == Array(elfBytes[Int(code.offset)..<Int(code.offset + code.filesz)]))
    }
}

/// Every loadable segment of `elf` is in platform memory at its physical address, its tail zero.
func expectMemoryMatches(_ h: RprocHarness, elf: ELFImage, bytes: [UInt8], skipTable: Bool = false) throws {
    let map = DeviceMemoryMap(board: h.platform.board, coprocessor: 0)
    for segment in elf.loadSegments where segment.memsz > 0 {
        let pa = try #require(map.pa(forDA: segment.paddr, size: segment.memsz))
        let loaded = try h.platform.read(.secure, pa: pa, count: Int(segment.memsz))
        var expected = Array(bytes[Int(segment.offset)..<Int(segment.offset + segment.filesz)])
        expected += [UInt8](repeating: 0, count: Int(segment.memsz - segment.filesz))
        if skipTable && elf.resourceTableSection.map({ elf.segment(containing: $0) == segment }) == true { continue }
        #expect(loaded == expected, "segment \(segment.index) at DA \(segment.paddr)")
    }
}

func clientErr(_ body: () throws(TEEClientError) -> Void) -> TEEClientError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

extension RemoteProcessor {
    func callStop() throws(RemoteProcError) { try simpleCall("STOP_FW", .stopFirmware) }
    func shutdownAfterStop() throws(RemoteProcError) { try simpleCall("RELEASE_FW", .releaseFirmware) }
}

import FirmwareImage
import Foundation
import Logging
import RemoteProcTAInterface
import SecureWorld
import TEECrypto
import TEEEmbedded

/// The emulated Cortex-M4 (Unicorn) running the example M4 firmware's busy loop: emulated
/// instructions per second (target ≥ 50 M/s on this machine), and the time from reset to the
/// firmware's first trace byte.
func runCoreBenchmarks() throws {
    print("core: the example Cortex-M4 firmware on the emulated core (Unicorn 2.0)")
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-tee-bench-fw-\(getpid())")
    defer { try? FileManager.default.removeItem(at: out) }
    let make = Process()
    make.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    make.arguments = ["make", "-s", "-C", repo.appendingPathComponent("Examples/firmware").path, "OUT=\(out.path)"]
    try make.run()
    make.waitUntilExit()
    guard make.terminationStatus == 0 else { print("  the example firmware did not build"); return }
    let bytes = Array(try Data(contentsOf: out.appendingPathComponent("stm32mp15-m4.elf")))
    let elf = try ELFImage(bytes: bytes)
    guard let section = elf.resourceTableSection,
          let trace = try ResourceTable(bytes: Array(bytes[Int(section.offset)..<Int(section.offset + section.size)])).traces.first else {
        print("  the example firmware has no trace buffer"); return
    }
    let traceOffset = Int(trace.da) - 0x1000_0000
    final class Owner {
        let retram = UnsafeMutableRawPointer.allocate(byteCount: 64 << 10, alignment: 4096)
        let mcusram = UnsafeMutableRawPointer.allocate(byteCount: 256 << 10, alignment: 4096)
        deinit { retram.deallocate(); mcusram.deallocate() }
    }
    let owner = Owner()
    let retram = owner.retram, mcusram = owner.mcusram
    func load() {
        retram.initializeMemory(as: UInt8.self, repeating: 0, count: 64 << 10)
        mcusram.initializeMemory(as: UInt8.self, repeating: 0, count: 256 << 10)
        for s in elf.loadSegments where s.filesz > 0 {
            let dst = s.paddr >= 0x1000_0000 ? mcusram + Int(s.paddr - 0x1000_0000) : retram + Int(s.paddr)
            bytes.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress! + Int(s.offset), byteCount: Int(s.filesz)) }
        }
    }
    func core() throws -> EmulatedCore {
        let c = try EmulatedCore(.cortexM4)
        try c.map(address: 0, size: 64 << 10, protection: [.read, .execute], memory: retram, owner: owner)
        try c.map(address: 0x1000_0000, size: 256 << 10, protection: [.read, .write, .execute], memory: mcusram, owner: owner)
        try c.reset(vectorTable: 0)
        return c
    }
    load()
    let c = try core()
    _ = c.run(instructions: 1_000_000)   // translate the loop once
    let count = 200_000_000
    let seconds = bestTime(rounds: 3) { _ = c.run(instructions: count) }
    print("  \(format(Double(count) / seconds / 1e6)) M instructions/s (slices of \(count / 1_000_000) M; target ≥ 50 M/s)")
    // With interrupts: the same kind of loop interrupted by SysTick every 10,000 instructions
    // (Examples/firmware/stm32mp15-m4/exceptions.c, -DEXCEPTIONS_BUSY), against the bare loop
    // above in the same run.
    let busyBytes = Array(try Data(contentsOf: out.appendingPathComponent("stm32mp15-m4-systick.elf")))
    let busyELF = try ELFImage(bytes: busyBytes)
    retram.initializeMemory(as: UInt8.self, repeating: 0, count: 64 << 10)
    mcusram.initializeMemory(as: UInt8.self, repeating: 0, count: 256 << 10)
    for s in busyELF.loadSegments where s.filesz > 0 {
        let dst = s.paddr >= 0x1000_0000 ? mcusram + Int(s.paddr - 0x1000_0000) : retram + Int(s.paddr)
        busyBytes.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress! + Int(s.offset), byteCount: Int(s.filesz)) }
    }
    let busy = try core()
    _ = busy.run(instructions: 1_000_000)
    let busySeconds = bestTime(rounds: 3) { _ = busy.run(instructions: count) }
    let withInterrupts = Double(count) / busySeconds / 1e6, bare = Double(count) / seconds / 1e6
    print("  with SysTick interrupting every 10,000 instructions (20,000 exception entries and returns a round): \(format(withInterrupts)) M instructions/s, \(format(withInterrupts / bare, digits: 2))× the bare loop (target ≥ 50 M/s)")
    load()
    // Reset to the first trace byte: a fresh core, stepped in small slices until the firmware's
    // trace buffer (in MCUSRAM) holds a byte.
    var firsts: [Double] = []
    for _ in 0..<20 {
        load()
        let start = ContinuousClock.now
        let fresh = try core()
        var steps = 0
        while mcusram.load(fromByteOffset: traceOffset, as: UInt8.self) == 0 && steps < 10_000 {
            _ = fresh.run(instructions: 100)
            steps += 1
        }
        let d = ContinuousClock.now - start
        firsts.append(Double(d.components.attoseconds) / 1e12 + Double(d.components.seconds) * 1e6)
    }
    firsts.sort()
    print("  reset (new core, regions mapped, SP/PC from the vector table) to the first trace byte: p50 \(format(firsts[firsts.count / 2])) µs")
    try startToFirstTraceByte(bytes)
}

/// START_FW through the client API (embedded) to the firmware's first trace byte as the
/// normal world reads it through its window: the TA's START, the platform's checks, the core
/// set up with the running firewall's regions, the runner thread, the firmware's first stores.
func startToFirstTraceByte(_ elf: [UInt8]) throws {
    let key = try PrivateKey(generating: .ecdsaP256)
    let image = try ImageSigner(images: [elf], key: key).sign()
    let platform = Platform(board: try PlatformDescription.builtIn("stm32mp15"), extraTrust: TrustedKeys(keys: [key.publicKey]))
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let world = SecureWorld.remoteproc(platform: platform, logger: logger)
    let context = TEEContext.embedded(world, peer: .kernel)
    defer { context.finalize() }
    let session = try context.openSession(RemoteProcTA.uuid, login: .reeKernel, operation: TEEOperation(.valueInput(0)))
    let shm = try context.registerSharedMemory(image, flags: .input)
    var samples: [Double] = []
    for _ in 0..<30 {
        try session.invoke(RemoteProcTA.Command.loadFirmware.rawValue, TEEOperation(.valueInput(0), .whole(shm)))
        let table = TEEOperation(.valueInput(0), .valueOutput, .valueOutput)
        try session.invoke(RemoteProcTA.Command.getResourceTable.rawValue, table)
        // The example's trace buffer, cm4_log at DA 0x100000cc ↔ PA 0x300000cc (its resource
        // table says so), read through the normal world's trace window.
        let tracePA: UInt64 = 0x3000_00CC
        let start = ContinuousClock.now
        try session.invoke(RemoteProcTA.Command.startFirmware.rawValue, TEEOperation(.valueInput(0)))
        var spins = 0
        while (try? platform.read(.normal, pa: tracePA, count: 1))?.first ?? 0 == 0, spins < 10_000_000 { spins += 1 }
        let d = ContinuousClock.now - start
        samples.append(Double(d.components.attoseconds) / 1e12 + Double(d.components.seconds) * 1e6)
        try session.invoke(RemoteProcTA.Command.stopFirmware.rawValue, TEEOperation(.valueInput(0)))
        try session.invoke(RemoteProcTA.Command.releaseFirmware.rawValue, TEEOperation(.valueInput(0)))
    }
    samples.sort()
    print("  START_FW (client API, embedded) to the first trace byte read by the normal world: p50 \(format(samples[samples.count / 2])) µs, p90 \(format(samples[samples.count * 9 / 10])) µs")
}

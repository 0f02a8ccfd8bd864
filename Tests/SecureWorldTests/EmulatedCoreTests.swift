import FirmwareImage
import Foundation
import SecureWorld
import Testing
import TestSupport

/// The emulated Cortex-M4 runs the example firmware (Examples/firmware, built by the test run
/// with the clang beside swift) out of memory the test owns: its own trace text appears in its
/// trace buffer, a busy loop stops on request from another thread, and an access outside the
/// mapped memory is a bus fault with its address.
@Suite struct EmulatedCoreTests {
    /// Page-aligned memory the core maps (RETRAM at 0x0, MCUSRAM at 0x10000000, as the board).
    final class Memory {
        let retram: UnsafeMutableRawPointer, mcusram: UnsafeMutableRawPointer
        static let retramSize = 64 << 10, mcusramSize = 256 << 10
        init() {
            retram = UnsafeMutableRawPointer.allocate(byteCount: Self.retramSize, alignment: 4096)
            mcusram = UnsafeMutableRawPointer.allocate(byteCount: Self.mcusramSize, alignment: 4096)
            retram.initializeMemory(as: UInt8.self, repeating: 0, count: Self.retramSize)
            mcusram.initializeMemory(as: UInt8.self, repeating: 0, count: Self.mcusramSize)
        }
        deinit { retram.deallocate(); mcusram.deallocate() }

        func pointer(_ da: UInt64) -> UnsafeMutableRawPointer {
            da >= 0x1000_0000 ? mcusram + Int(da - 0x1000_0000) : retram + Int(da)
        }
    }

    static func loaded(_ firmware: String = "stm32mp15-m4.elf") throws -> (EmulatedCore, Memory, traceDA: UInt64) {
        let bytes = try ExampleFirmware.bytes(firmware)
        let elf = try ELFImage(bytes: bytes)
        let memory = Memory()
        for segment in elf.loadSegments where segment.filesz > 0 {
            bytes.withUnsafeBytes { src in
                memory.pointer(segment.paddr).copyMemory(from: src.baseAddress! + Int(segment.offset), byteCount: Int(segment.filesz))
            }
        }
        let core = try EmulatedCore(.cortexM4)
        try core.map(address: 0, size: Memory.retramSize, protection: [.read, .execute], memory: memory.retram, owner: memory)
        try core.map(address: 0x1000_0000, size: Memory.mcusramSize, protection: [.read, .write, .execute], memory: memory.mcusram, owner: memory)
        // The resource table's trace entry (type 2): the buffer's device address.
        let section = try #require(elf.resourceTableSection)
        let table = ResourceTableView(bytes: Array(bytes[Int(section.offset)..<Int(section.offset + section.size)]))
        try core.reset(vectorTable: 0)
        return (core, memory, try #require(table.traceDA))
    }

    @Test func theFirmwareWritesItsOwnTrace() throws {
        let (core, memory, traceDA) = try Self.loaded()
        var outcome = EmulatedCore.Outcome.sliceEnded
        for _ in 0..<10 where outcome == .sliceEnded { outcome = core.run(instructions: 100_000) }
        #expect(outcome == .sliceEnded)
        let trace = String(decoding: UnsafeRawBufferPointer(start: memory.pointer(traceDA), count: 64).prefix { $0 != 0 }, as: UTF8.self)
        #expect(trace.hasPrefix("cm4: firmware up\n"), "trace: \(trace)")
        // Its loop writes "cm4: tick N" every 65,536 turns: a long run in one call gets there.
        #expect(core.run(instructions: 20_000_000) == .sliceEnded)
        let later = String(decoding: UnsafeRawBufferPointer(start: memory.pointer(traceDA), count: 1024).prefix { $0 != 0 }, as: UTF8.self)
        #expect(later.hasPrefix("cm4: firmware up\ncm4: tick 1\ncm4: tick 2\n"), "trace: \(later)")
        #expect(core.registers.count == 17)
    }

    @Test func stopEndsABusyLoopFromAnotherThread() throws {
        let (core, _, _) = try Self.loaded()
        // A thread of its own asks for the stop once the core has been running a while.
        let stopper = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            core.requestStop()
        }
        let started = Date()
        stopper.start()
        #expect(core.run(instructions: Int.max / 2) == .stopped)
        // Bounded: the request is seen within one chunk of instructions, however loaded the machine.
        #expect(Date().timeIntervalSince(started) < 30)
        // And the core goes on from where it stopped.
        #expect(core.run(instructions: 1000) == .sliceEnded)
    }

    @Test func anAccessOutsideTheMappedMemoryIsABusFault() throws {
        let (core, memory, _) = try Self.loaded()
        // A Thumb-2 store to an unmapped address: movw r0, #0 ; movt r0, #0x4000 ; str r0, [r0].
        let program: [UInt8] = [0x40, 0xF2, 0x00, 0x00, 0xC4, 0xF2, 0x00, 0x00, 0x00, 0x60, 0xFE, 0xE7]
        program.withUnsafeBytes { memory.retram.advanced(by: 0x8000).copyMemory(from: $0.baseAddress!, byteCount: program.count) }
        core.setProgramCounter(0x8000)
        #expect(core.run(instructions: 100) == .busFault(address: 0x4000_0000, write: true, fetch: false))
    }
}

/// Just enough of a resource table (remoteproc's layout) to find the trace buffer.
struct ResourceTableView {
    let bytes: [UInt8]
    func u32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
    var traceDA: UInt64? {
        let count = Int(u32(4))
        for i in 0..<count {
            let offset = Int(u32(16 + 4 * i))
            if u32(offset) == 2 { return UInt64(u32(offset + 4)) }
        }
        return nil
    }
}

/// What Unicorn 2.0.1 does with the M33 example's secure → non-secure hand-over (the facts the
/// START wiring models, issue 14): the TF-M-like secure image runs from its vector table up to
/// its BLXNS, the PC reaches the non-secure reset handler, and the first non-secure fetch is an
/// exception Unicorn cannot take (it has no SAU/IDAU — no SCS device — so all memory is
/// Secure to the core). Modelled instead: a core given only the non-secure regions, reset from
/// the non-secure vector table, runs the Zephyr-like image, which writes its own trace.
@Suite struct M33HandOverTests {
    final class Memory {
        var blocks: [(address: UInt64, size: Int, base: UnsafeMutableRawPointer)] = []
        func add(_ address: UInt64, _ size: Int) -> UnsafeMutableRawPointer {
            let p = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
            p.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            blocks.append((address, size, p))
            return p
        }
        func pointer(_ a: UInt64) -> UnsafeMutableRawPointer? {
            blocks.first { a >= $0.address && a < $0.address + UInt64($0.size) }.map { $0.base + Int(a - $0.address) }
        }
        deinit { for b in blocks { b.base.deallocate() } }
    }

    static let secure: [(UInt64, Int)] = [(0x0E08_0000, 128 << 10), (0x0E0A_0000, 64 << 10)]
    static let nonSecure: [(UInt64, Int)] = [(0x8000_0000, 512 << 10), (0x8008_0000, 256 << 10)]

    @Test func secureImageHandsOverAndTheNonSecureImageRuns() throws {
        let memory = Memory()
        for (a, n) in Self.secure + Self.nonSecure { _ = memory.add(a, n) }
        for bytes in [try ExampleFirmware.tfmSecure, try ExampleFirmware.zephyrNonSecure] {
            for s in try ELFImage(bytes: bytes).loadSegments where s.filesz > 0 {
                bytes.withUnsafeBytes { memory.pointer(s.paddr)!.copyMemory(from: $0.baseAddress! + Int(s.offset), byteCount: Int(s.filesz)) }
            }
        }
        let both = try EmulatedCore(.cortexM33)
        for (a, n) in Self.secure + Self.nonSecure { try both.map(address: a, size: n, protection: [.read, .write, .execute], memory: memory.pointer(a)!, owner: memory) }
        try both.reset(vectorTable: 0x0E08_0000)
        guard case .exception = both.run(instructions: 1_000_000) else {
            Issue.record("Unicorn took the non-secure fetch after BLXNS: it models the SAU now — START can run the hand-over on one core")
            return
        }
        let pc = UInt64(both.registers[15])
        #expect(Self.nonSecure[0].0 <= pc && pc < Self.nonSecure[0].0 + UInt64(Self.nonSecure[0].1), "stopped in the non-secure reset handler, pc 0x\(String(pc, radix: 16))")

        let ns = try EmulatedCore(.cortexM33)
        for (a, n) in Self.nonSecure { try ns.map(address: a, size: n, protection: [.read, .write, .execute], memory: memory.pointer(a)!, owner: memory) }
        try ns.reset(vectorTable: 0x8000_0000)
        #expect(ns.run(instructions: 1_000_000) == .sliceEnded)
        let image = try ExampleFirmware.zephyrNonSecure
        let section = try #require(try ELFImage(bytes: image).resourceTableSection)
        let trace = try #require(try ResourceTable(bytes: Array(image[Int(section.offset)..<Int(section.offset + section.size)])).traces.first)
        let text = String(decoding: UnsafeRawBufferPointer(start: memory.pointer(UInt64(trace.da))!, count: 128).prefix { $0 != 0 }, as: UTF8.self)
        #expect(text.hasPrefix("zephyr: booting on cortex-m33 (non-secure)\n"), "\(text)")
    }
}

/// The host's Cortex-M exception model (`CortexMExceptions`, README "The emulated coprocessor").
@Suite struct ExceptionModelTests {
    static func trace(_ memory: EmulatedCoreTests.Memory, _ traceDA: UInt64) -> String {
        String(decoding: UnsafeRawBufferPointer(start: memory.pointer(traceDA), count: 1024).prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Unicorn 2.0.1 runs every M-profile core as a Cortex-M33: the "M4" executes v8-M's
    /// `mrs r0, msplim` (an M4 would fault). Pinned here so that a Unicorn that honours the
    /// model shows up; the README and `rproc-tee run` say what the core is.
    @Test func theM4IsUnicornsM33() throws {
        let (core, memory, _) = try EmulatedCoreTests.loaded()
        #expect(core.actualModel == "Cortex-M33")
        // At the reset handler: mrs r0, msplim (f3ef 800a); b . (e7fe).
        let pc = core.registers[15]
        let code: [UInt16] = [0xF3EF, 0x800A, 0xE7FE]
        code.withUnsafeBytes { memory.pointer(UInt64(pc)).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        #expect(core.run(instructions: 10) == .sliceEnded, "v8-M's MSPLIM read executes on the \"M4\"")
    }

    /// The host's exception model, driven by firmware written as an RTOS would (Examples/firmware/
    /// stm32mp15-m4/exceptions.c): SVC with its argument, PendSV, preemption by priority,
    /// tail-chaining in priority order, BASEPRI, STIR, a PendSV context switch between two PSP
    /// tasks, SysTick interrupts waking WFI; then an idle core that uses no host CPU until an
    /// interrupt raised from another thread wakes it.
    @Test func exceptionsAsAnRTOSUsesThem() throws {
        let (core, memory, traceDA) = try EmulatedCoreTests.loaded("stm32mp15-m4-exceptions.elf")
        var outcome = EmulatedCore.Outcome.sliceEnded
        for _ in 0..<200 where outcome == .sliceEnded { outcome = core.run(instructions: 100_000) }
        let trace = Self.trace(memory, traceDA)
        #expect(outcome == .idle, "\(outcome): \(trace)")
        #expect(trace == """
            exc: up
            exc: svc 7
            exc: pendsv
            exc: irq 5 nested 6
            exc: tail 6 5
            exc: basepri held
            exc: basepri released
            exc: stir 9
            exc: tasks a b a b
            exc: systick 5
            exc: done

            """, "\(trace)")
        // Idle: waiting costs no CPU; an interrupt from another thread wakes it.
        func threadCPU() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        let before = threadCPU()
        core.waitForEvent(timeout: 0.2)
        let cpu = threadCPU() - before
        #expect(cpu < 0.02, "an idle wait of 0.2 s used \(cpu) s of CPU")
        #expect(core.run(instructions: 100_000) == .idle, "still nothing to wake it")
        let raiser = Thread { core.raise(irq: 9) }
        raiser.start()
        core.waitForEvent(timeout: 10)
        #expect(core.run(instructions: 100_000) == .idle)
        #expect(Self.trace(memory, traceDA).hasSuffix("exc: done\nexc: woken by irq 9\n"), "\(Self.trace(memory, traceDA))")
    }

    /// Thumb-2 MOVW/MOVT of `imm` into `rd`.
    static func mov32(_ rd: UInt16, _ value: UInt32) -> [UInt16] {
        func half(_ first: UInt16, _ imm: UInt16) -> [UInt16] {
            [first | ((imm >> 11) & 1) << 10 | imm >> 12, ((imm >> 8) & 7) << 12 | rd << 8 | (imm & 0xFF)]
        }
        return half(0xF240, UInt16(value & 0xFFFF)) + half(0xF2C0, UInt16(value >> 16))
    }

    /// AIRCR.SYSRESETREQ with its key is a reset request; the same store without the key is
    /// nothing (the firmware goes on).
    @Test func aResetRequestIsReported() throws {
        let (core, memory, _) = try EmulatedCoreTests.loaded()
        // r0 = AIRCR; r1 = key | SYSRESETREQ; r2 = SYSRESETREQ alone; str r2; str r1; b .
        let code = Self.mov32(0, 0xE000_ED0C) + Self.mov32(1, 0x05FA_0004) + Self.mov32(2, 0x0000_0004) + [0x6002, 0x6001, 0xE7FE]
        code.withUnsafeBytes { memory.retram.advanced(by: 0x8000).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        core.setProgramCounter(0x8000)
        #expect(core.run(instructions: 1000) == .resetRequested)
        #expect(core.registers[15] == 0x801C, "stopped after the keyed store, not the one without the key")
    }
}

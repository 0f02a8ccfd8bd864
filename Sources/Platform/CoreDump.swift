/// An ELF32 core file of a coprocessor: one PT_NOTE and one PT_LOAD per memory region
/// (p_vaddr = device address, p_paddr = physical address), as `gdb`/`lldb` and Linux's
/// remoteproc coredump lay them out. The notes:
/// - `CORE`/NT_PRSTATUS, Linux's 32-bit Arm `struct elf_prstatus` (148 bytes): the signal the
///   crash amounts to (SIGSEGV for a bus fault, SIGILL for an exception the core could not
///   take, SIGALRM for the watchdog) and `pr_reg` = r0–r15 then xPSR in the CPSR slot, the core's
///   registers when it stopped. Present once the firmware has run.
/// - `RPROC`, type 1: one line of text — coprocessor, core, state, entry point and the crash
///   reason (with the faulting address).
package enum CoreDump {
    /// Linux's `struct elf_prstatus` for 32-bit Arm: 72 bytes before `pr_reg` (siginfo, cursig,
    /// sigpend, sighold, four pids, four timevals), 18 registers, `pr_fpvalid`.
    static let prstatusSize = 148
    static let prstatusRegisterOffset = 72

    package static func build(coprocessor: Coprocessor, regions: [(RegionDescription, [UInt8])]) -> [UInt8] {
        let c = coprocessor.description
        func u32(_ v: UInt32, _ into: inout [UInt8]) { for s in stride(from: 0, to: 32, by: 8) { into.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
        func u16(_ v: UInt16, _ into: inout [UInt8]) { into.append(UInt8(v & 0xFF)); into.append(UInt8(v >> 8)) }
        func pad4(_ b: inout [UInt8]) { while b.count % 4 != 0 { b.append(0) } }
        func note(_ owner: String, type: UInt32, _ desc: [UInt8], into notes: inout [UInt8]) {
            let name = Array(owner.utf8) + [0]
            u32(UInt32(name.count), &notes); u32(UInt32(desc.count), &notes); u32(type, &notes)
            notes += name; pad4(&notes)
            notes += desc; pad4(&notes)
        }

        var notes: [UInt8] = []
        let registers = coprocessor.lastRegisters
        if registers.count == 17 {
            var status = [UInt8](repeating: 0, count: prstatusSize)
            let signal = UInt16(coprocessor.crashSignal)
            status[0] = UInt8(signal)                     // pr_info.si_signo
            status[12] = UInt8(signal)                    // pr_cursig
            var regs: [UInt8] = []
            for r in registers { u32(r, &regs) }          // r0–r15, xPSR (the CPSR slot)
            u32(0, &regs)                                 // ORIG_r0
            status.replaceSubrange(prstatusRegisterOffset..<(prstatusRegisterOffset + regs.count), with: regs)
            note("CORE", type: 1, status, into: &notes)   // NT_PRSTATUS
        }
        let text = "coprocessor=\(c.name) core=\(c.core) state=\(coprocessor.state.rawValue) entry=\(hex(coprocessor.entryPoint)) crash=\(coprocessor.crashReason ?? "none")"
        note("RPROC", type: 1, Array(text.utf8) + [0], into: &notes)

        let phnum = 1 + regions.count
        let headerSize = 52 + 32 * phnum
        var out: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        u16(4, &out)                                               // ET_CORE
        u16(c.elfMachines.min() ?? 40, &out)
        u32(1, &out); u32(0, &out); u32(52, &out); u32(0, &out); u32(0, &out)
        u16(52, &out); u16(32, &out); u16(UInt16(phnum), &out); u16(40, &out); u16(0, &out); u16(0, &out)
        var offset = UInt32(headerSize)
        u32(4, &out); u32(offset, &out); u32(0, &out); u32(0, &out); u32(UInt32(notes.count), &out); u32(0, &out); u32(0, &out); u32(4, &out)
        offset += UInt32(notes.count)
        for (region, bytes) in regions {
            u32(1, &out); u32(offset, &out); u32(region.deviceAddress, &out); u32(region.physicalAddress, &out)
            u32(UInt32(bytes.count), &out); u32(UInt32(bytes.count), &out); u32(region.loadable ? 7 : 6, &out); u32(4, &out)
            offset += UInt32(bytes.count)
        }
        out += notes
        for (_, bytes) in regions { out += bytes }
        return out
    }
}

import CUnicorn
import Foundation

/// The Cortex-M exception model Unicorn 2.0.1 leaves out, done by the host (README "The emulated
/// coprocessor"): the NVIC (enable, pending, active, 4-bit priorities, PRIGROUP), the SCB (ICSR,
/// VTOR, AIRCR with SYSRESETREQ reported, SHPR1–3, SHCSR, CCR, CPUID), SysTick counted in
/// instructions, exception entry (the 8-word frame, 8-byte alignment, MSP/PSP, EXC_RETURN) and
/// return with tail-chaining, SVC, PendSV, PRIMASK/BASEPRI/FAULTMASK.
///
/// Unicorn runs the core and reports an SVC (intno 2) and a branch to an EXC_RETURN value
/// (intno 8, PC = EXC_RETURN & ~1) to a hook; it never takes an exception itself. Asynchronous
/// exceptions are taken between runs of the core (`EmulatedCore.run` ends a run after the
/// instruction that pended one: a store to ICSR, ISPR or STIR, a SysTick wrap, a raise from
/// another thread); SVC and exception returns inside the run, in the hook. The system control
/// space is an MMIO page at 0xE000E000 the core's loads and stores reach.
///
/// Not modelled: faults as exceptions (a bus fault, an undefined instruction, a wild EXC_RETURN
/// end the run: the coprocessor crashed — on hardware an escalated HardFault whose handler
/// spins), the FP extended frame (a handler must not use the FPU lazily stacked), MPU, DWT/ITM.
final class CortexMExceptions: @unchecked Sendable {
    // @unchecked: every field is used under `lock` (the runner's hooks and MMIO callbacks, and
    // `raise` from other threads).
    let lock = NSLock()
    /// Exceptions 0…15 are the system's, 16… the external interrupts.
    static let count = 256
    static let irqLines = count - 16
    /// Implemented priority bits (STM32MP1's and MP2's NVIC: 4, the top of each byte).
    static let priorityMask: UInt8 = 0xF0
    var enabled = [Bool](repeating: false, count: count)
    var pending = [Bool](repeating: false, count: count)
    var active = [Bool](repeating: false, count: count)
    var priority = [UInt8](repeating: 0, count: count)
    /// External lines held high by a device (level-sensitive, as a peripheral's IRQ is): pending
    /// while high, and pending again when its handler returns with the line still high.
    var lineHigh = [Bool](repeating: false, count: count)
    var prigroup: UInt32 = 0
    var vtor: UInt32 = 0
    var shcsrEnables: UInt32 = 0
    var scr: UInt32 = 0
    /// Other words of the page a firmware writes (CPACR, CFSR…): read back as written.
    var other: [UInt64: UInt32] = [:]
    /// SYSRESETREQ was written: the firmware asks for a reset.
    var resetRequested = false
    let cpuid: UInt32

    // SysTick.
    var systickControl: UInt32 = 0
    var systickReload: UInt32 = 0
    var systickCurrent: UInt32 = 0

    static let hardFault = 3, svcall = 11, pendsv = 14, systick = 15

    init(cpuid: UInt32) {
        self.cpuid = cpuid
        for n in [1, 2, 3, Self.svcall, Self.pendsv, Self.systick] { enabled[n] = true }
    }

    // MARK: Priorities

    /// An exception's priority: Reset −3, NMI −2, HardFault −1, the rest as programmed.
    func priorityOf(_ n: Int) -> Int {
        switch n {
        case 1: return -3
        case 2: return -2
        case 3: return -1
        default: return Int(priority[n])
        }
    }

    /// The group priority (PRIGROUP splits group from subpriority).
    func group(_ p: Int) -> Int {
        guard p >= 0 else { return p }
        let subBits = Int(prigroup) + 1
        return p & ~((1 << subBits) - 1) & 0xFF
    }

    /// The execution priority: the highest of the active exceptions' group priorities and the
    /// masks (PRIMASK → 0, FAULTMASK → −1, BASEPRI → its group); 256 in Thread mode unmasked.
    func executionPriority(primask: UInt32, basepri: UInt32, faultmask: UInt32) -> Int {
        var p = 256
        for n in 1..<Self.count where active[n] { p = min(p, group(priorityOf(n))) }
        if basepri & 0xFF != 0 { p = min(p, group(Int(basepri & 0xFF))) }
        if primask & 1 != 0 { p = min(p, 0) }
        if faultmask & 1 != 0 { p = min(p, -1) }
        return p
    }

    /// The pending, enabled exception to take next (highest priority, then lowest number), if any.
    func highestPending() -> Int? {
        var best: Int?
        for n in 2..<Self.count where pending[n] && enabled[n] {
            if let b = best {
                let (pn, pb) = (priorityOf(n), priorityOf(b))
                if pn < pb { best = n }
            } else {
                best = n
            }
        }
        return best
    }

    // MARK: SysTick

    var systickEnabled: Bool { systickControl & 1 != 0 }

    /// Instructions until SysTick next counts to zero (nil: not counting).
    var instructionsToSysTick: Int? {
        guard systickEnabled, systickReload != 0 || systickCurrent != 0 else { return nil }
        return systickCurrent != 0 ? Int(systickCurrent) : Int(systickReload) + 1
    }

    /// `n` instructions (cycles) pass: the counter counts down, reloads, sets COUNTFLAG and
    /// pends SysTick (TICKINT) at each count to zero.
    func advanceSysTick(_ n: Int) {
        guard systickEnabled else { return }
        var left = n
        while left > 0 {
            if systickCurrent == 0 {
                guard systickReload != 0 else { return }
                systickCurrent = systickReload
                left -= 1
                continue
            }
            let step = min(left, Int(systickCurrent))
            systickCurrent -= UInt32(step)
            left -= step
            if systickCurrent == 0 {
                systickControl |= 1 << 16
                if systickControl & 2 != 0 { pending[Self.systick] = true }
                // Past one period, the rest are whole periods: COUNTFLAG and the pend are set.
                if systickReload != 0, left > Int(systickReload) { left %= Int(systickReload) + 1 }
            }
        }
    }

    // MARK: The system control space (0xE000E000…0xE000EFFF)

    /// Attacker: the firmware (any offset, any size): every offset is decoded or reads as zero.
    func read(_ offset: UInt64, size: Int, ipsr: UInt32) -> UInt64 {
        let word = offset & ~3
        let value = readWord(word, ipsr: ipsr)
        let shift = (offset & 3) * 8
        let mask: UInt64 = size >= 4 ? 0xFFFF_FFFF : (1 << (UInt64(size) * 8)) - 1
        return (UInt64(value) >> shift) & mask
    }

    private func readWord(_ w: UInt64, ipsr: UInt32) -> UInt32 {
        switch w {
        case 0x004: return UInt32(Self.irqLines / 32 - 1)            // ICTR
        case 0x010:                                                   // SYST_CSR: COUNTFLAG clears on read
            let v = systickControl | 4
            systickControl &= ~(1 << 16)
            return v
        case 0x014: return systickReload
        case 0x018: return systickCurrent
        case 0x01C: return 1 << 31                                    // CALIB: no reference clock
        case 0x100..<0x120: return bits(enabled, 16 + Int(w - 0x100) * 8)
        case 0x180..<0x1A0: return bits(enabled, 16 + Int(w - 0x180) * 8)
        case 0x200..<0x220: return bits(pending, 16 + Int(w - 0x200) * 8)
        case 0x280..<0x2A0: return bits(pending, 16 + Int(w - 0x280) * 8)
        case 0x300..<0x320: return bits(active, 16 + Int(w - 0x300) * 8)
        case 0x400..<0x4F0: return bytes(16 + Int(w - 0x400))
        case 0xD00: return cpuid
        case 0xD04:                                                   // ICSR
            var v = ipsr & 0x1FF
            if let p = highestPending() { v |= UInt32(p) << 12 }
            if (16..<Self.count).contains(where: { pending[$0] }) { v |= 1 << 22 }
            if active.enumerated().filter({ $0.element }).count <= 1 { v |= 1 << 11 }   // RETTOBASE
            if pending[Self.systick] { v |= 1 << 26 }
            if pending[Self.pendsv] { v |= 1 << 28 }
            if pending[2] { v |= 1 << 31 }
            return v
        case 0xD08: return vtor
        case 0xD0C: return 0xFA05_0000 | prigroup << 8                  // AIRCR
        case 0xD10: return scr
        case 0xD14: return other[w] ?? 0x200                          // CCR: STKALIGN
        case 0xD18: return bytes(4)
        case 0xD1C: return UInt32(priority[Self.svcall]) << 24
        case 0xD20: return UInt32(priority[Self.pendsv]) << 16 | UInt32(priority[Self.systick]) << 24
        case 0xD24:                                                   // SHCSR
            var v = shcsrEnables
            if active[Self.svcall] { v |= 1 << 7 }
            if active[Self.pendsv] { v |= 1 << 10 }
            if active[Self.systick] { v |= 1 << 11 }
            if pending[Self.svcall] { v |= 1 << 15 }
            return v
        default: return other[w] ?? 0
        }
    }

    /// A store of the firmware's (the caller then ends the run if it made an exception
    /// deliverable). Attacker: the firmware — any offset, size and value.
    func write(_ offset: UInt64, size: Int, value: UInt64) {
        let w = offset & ~3
        // Byte and halfword stores reach the priority bytes; elsewhere the word is merged.
        if (0x400..<0x4F0).contains(w) || (0xD18..<0xD24).contains(w) {
            for i in 0..<min(size, 4) {
                let byte = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) & Self.priorityMask
                let address = offset + UInt64(i)
                if (0x400..<0x4F0).contains(address) { priority[16 + Int(address - 0x400)] = byte }
                if (0xD18..<0xD24).contains(address) {
                    // SHPR1–3: exceptions 4…15; 7–10 and 13 are reserved.
                    let n = 4 + Int(address - 0xD18)
                    if [4, 5, 6, 11, 12, 14, 15].contains(n) { priority[n] = byte }
                }
            }
            return
        }
        let v = UInt32(truncatingIfNeeded: value << ((offset & 3) * 8))
        switch w {
        case 0x010:
            systickControl = (systickControl & (1 << 16)) | (v & 0x7)
        case 0x014: systickReload = v & 0x00FF_FFFF
        case 0x018:
            systickCurrent = 0
            systickControl &= ~(1 << 16)
        case 0x100..<0x120: set(&enabled, from: 16 + Int(w - 0x100) * 8, v, to: true)
        case 0x180..<0x1A0: set(&enabled, from: 16 + Int(w - 0x180) * 8, v, to: false)
        case 0x200..<0x220: set(&pending, from: 16 + Int(w - 0x200) * 8, v, to: true)
        case 0x280..<0x2A0: set(&pending, from: 16 + Int(w - 0x280) * 8, v, to: false)
        case 0xD04:
            if v & (1 << 31) != 0 { pending[2] = true }
            if v & (1 << 28) != 0 { pending[Self.pendsv] = true }
            if v & (1 << 27) != 0 { pending[Self.pendsv] = false }
            if v & (1 << 26) != 0 { pending[Self.systick] = true }
            if v & (1 << 25) != 0 { pending[Self.systick] = false }
        case 0xD08: vtor = v & ~0x7F
        case 0xD0C:
            // Attacker: the firmware — only a write with the key counts.
            guard v >> 16 == 0x05FA else { return }
            prigroup = (v >> 8) & 7
            if v & 4 != 0 { resetRequested = true }
        case 0xD10: scr = v & 0x16
        case 0xD24: shcsrEnables = v & (7 << 16)
        case 0xF00:                                                   // STIR
            let n = 16 + Int(v & 0x1FF)
            if n < Self.count { pending[n] = true }
        default:
            other[w] = v
        }
    }

    private func bits(_ array: [Bool], _ first: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<32 where first + i < Self.count && array[first + i] { v |= 1 << UInt32(i) }
        return v
    }

    private func bytes(_ first: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 where first + i < Self.count { v |= UInt32(priority[first + i]) << (8 * UInt32(i)) }
        return v
    }

    private func set(_ array: inout [Bool], from first: Int, _ mask: UInt32, to value: Bool) {
        for i in 0..<32 where mask & (1 << UInt32(i)) != 0 && first + i < Self.count { array[first + i] = value }
    }
}

import CUnicorn
import CUnicornShims
import Foundation

/// An emulated Arm Cortex-M core (Unicorn 2.0, QEMU's CPU as a library) running firmware out of
/// memory its owner provides: the core sees exactly the regions mapped into it, with the rights
/// given, and no copy sits between the owner's bytes and the core's view (`uc_mem_map_ptr`).
/// Unicorn emulates the core, not the NVIC: the exception model is the host's
/// (`CortexMExceptions`: NVIC, SCB, SysTick, SVC, PendSV, entry, return, tail-chaining). A fault
/// stops emulation (`.busFault`, `.exception`); a WFI with nothing to wake it ends a run as
/// `.idle` (`waitForEvent` then sleeps without using the host's CPU).
///
/// Unicorn 2.0.1 makes every M-profile core a Cortex-M33 (`UC_MODE_MCLASS`, whatever model is
/// set): a `.cortexM4` core executes ARMv8-M Mainline, so v8-M-only instructions (`mrs` of
/// MSPLIM, `tt`, …) do not fault on it; `actualModel` says so and `rproc-tee run` prints it. What
/// the host models is v7-M-compatible: the frame, EXC_RETURN values, CPUID (the M4's for an M4).
///
/// Not thread-safe except `requestStop()`, which another thread may call while `run` executes.
public final class EmulatedCore: @unchecked Sendable {
    // @unchecked: one thread runs the core; requestStop (uc_emu_stop) is documented as callable
    // from another thread while emulation runs.
    public enum Model: Sendable { case cortexM4, cortexM33 }

    /// Why `run` returned.
    public enum Outcome: Equatable, Sendable {
        /// The slice's instruction budget ran out; the core can go on.
        case sliceEnded
        /// `requestStop()` was called.
        case stopped
        /// An access outside the mapped regions or their rights: a bus fault.
        case busFault(address: UInt64, write: Bool, fetch: Bool)
        /// An undefined instruction, or an exception the core cannot take (a wild EXC_RETURN, an
        /// SVC where it cannot be taken and HardFault cannot either: lockup).
        case exception(String)
        /// The core executed WFI and nothing can wake it but an event from outside (`raise`, a
        /// stop): the caller waits (`waitForEvent`) and runs it again.
        case idle
        /// The firmware asked for a system reset (AIRCR.SYSRESETREQ).
        case resetRequested
    }

    public struct Protection: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let read = Protection(rawValue: UC_PROT_READ.rawValue)
        public static let write = Protection(rawValue: UC_PROT_WRITE.rawValue)
        public static let execute = Protection(rawValue: UC_PROT_EXEC.rawValue)
    }

    private let uc: OpaquePointer
    private let fault: UnsafeMutablePointer<rproc_uc_fault>
    private var hook: uc_hook = 0
    private var counterHook: uc_hook = 0
    private var intrHook: uc_hook = 0
    private var owners: [AnyObject] = []
    private var stopRequested = ManagedAtomicFlag()
    public let model: Model
    /// The instructions of the current `uc_emu_start`, counted by our hook (as Unicorn's own
    /// `count` bounds a run, one check per instruction) so that they are known however the run
    /// ends, and so that a run ends after — not inside — the instruction that pended an
    /// exception (a stop from a memory callback would leave the PC on the store, to run again).
    private let counter: UnsafeMutablePointer<rproc_uc_counter>
    let exceptions: CortexMExceptions
    /// Why the hook stopped the run (a lockup, a wild exception return, an exception Unicorn
    /// could not take).
    private var hookFailure: String?
    /// Signalled by `raise` and `requestStop`: what an idle core waits for.
    private let events = NSCondition()
    private var eventPending = false
    /// The model Unicorn actually runs (it reports M33 for every M-profile core: see the type).
    public var actualModel: String {
        var reported: Int32 = -1
        guard rproc_uc_get_cpu_model(uc, &reported) == UC_ERR_OK else { return "unknown" }
        return reported == Int32(UC_CPU_ARM_CORTEX_M33.rawValue) ? "Cortex-M33"
            : reported == Int32(UC_CPU_ARM_CORTEX_M4.rawValue) ? "Cortex-M4" : "Cortex-M (Unicorn model \(reported))"
    }

    public init(_ model: Model) throws(EmulatedCoreError) {
        var engine: OpaquePointer?
        let mode = uc_mode(rawValue: UC_MODE_THUMB.rawValue | UC_MODE_MCLASS.rawValue)
        guard uc_open(UC_ARCH_ARM, mode, &engine) == UC_ERR_OK, let engine else { throw EmulatedCoreError("uc_open failed: Unicorn has no Arm M-profile core") }
        let cpu = model == .cortexM4 ? UC_CPU_ARM_CORTEX_M4 : UC_CPU_ARM_CORTEX_M33
        guard rproc_uc_set_cpu_model(engine, Int32(cpu.rawValue)) == UC_ERR_OK else {
            uc_close(engine)
            throw EmulatedCoreError("Unicorn refused the \(model) CPU model")
        }
        fault = .allocate(capacity: 1)
        fault.initialize(to: rproc_uc_fault())
        counter = .allocate(capacity: 1)
        counter.initialize(to: rproc_uc_counter())
        uc = engine
        self.model = model
        // CPUID as the model's (r0p1 M4, r0p0 M33): what CMSIS code reads.
        exceptions = CortexMExceptions(cpuid: model == .cortexM4 ? 0x410F_C241 : 0x410F_D210)
        let me = Unmanaged.passUnretained(self).toOpaque()
        guard rproc_uc_hook_invalid_memory(uc, &hook, fault) == UC_ERR_OK,
              rproc_uc_hook_counter(uc, &counterHook, counter) == UC_ERR_OK,
              rproc_uc_hook_intr(uc, &intrHook, coreInterrupt, me) == UC_ERR_OK,
              uc_mmio_map(uc, Self.systemControlSpace, 0x1000, systemControlReadCallback, me, systemControlWriteCallback, me) == UC_ERR_OK else {
            uc_close(engine)
            fault.deallocate()
            counter.deallocate()
            throw EmulatedCoreError("Unicorn refused a hook or the system control space")
        }
    }

    deinit {
        uc_close(uc)
        fault.deallocate()
        counter.deallocate()
    }

    /// The Cortex-M system control space (NVIC, SysTick, SCB): the host's `CortexMExceptions`.
    static let systemControlSpace: UInt64 = 0xE000_E000

    /// Maps `size` bytes of `memory` at `address` with `protection`. Both must be 4 KiB aligned
    /// (Unicorn's page). The memory stays the owner's; `owner` (the object that frees it) is kept
    /// alive as long as the core, so the core can never run on freed memory.
    public func map(address: UInt64, size: Int, protection: Protection, memory: UnsafeMutableRawPointer, owner: AnyObject) throws(EmulatedCoreError) {
        let ret = uc_mem_map_ptr(uc, address, size, protection.rawValue, memory)
        guard ret == UC_ERR_OK else { throw EmulatedCoreError("mapping \(size) bytes at 0x\(String(address, radix: 16)): \(Self.text(ret))") }
        owners.append(owner)
    }

    public func register(_ r: uc_arm_reg) -> UInt32 {
        var value: UInt32 = 0
        _ = uc_reg_read(uc, Int32(r.rawValue), &value)
        return value
    }

    public func setRegister(_ r: uc_arm_reg, _ value: UInt32) {
        var v = value
        _ = uc_reg_write(uc, Int32(r.rawValue), &v)
    }

    /// Moves execution to `address` (a Thumb address; bit 0 is ignored).
    public func setProgramCounter(_ address: UInt32) {
        setRegister(UC_ARM_REG_PC, address & ~1)
    }

    /// r0–r15 and xPSR, as a core dump records them.
    public var registers: [UInt32] {
        (0...12).map { register(uc_arm_reg(rawValue: UC_ARM_REG_R0.rawValue + UInt32($0))) }
            + [register(UC_ARM_REG_SP), register(UC_ARM_REG_LR), register(UC_ARM_REG_PC), register(UC_ARM_REG_XPSR)]
    }

    /// Takes the initial stack pointer and reset handler from the vector table at `vectorTable`
    /// (read through the core's own view, so an unmapped table is a fault here too).
    public func reset(vectorTable: UInt64) throws(EmulatedCoreError) {
        var words = [UInt32](repeating: 0, count: 2)
        let ret = words.withUnsafeMutableBytes { uc_mem_read(uc, vectorTable, $0.baseAddress, 8) }
        guard ret == UC_ERR_OK else { throw EmulatedCoreError("the vector table at 0x\(String(vectorTable, radix: 16)) is not mapped") }
        setRegister(UC_ARM_REG_SP, words[0])
        setRegister(UC_ARM_REG_PC, words[1] & ~1)
        fault.pointee = rproc_uc_fault()
    }

    /// Instructions per call into Unicorn: a stop request is seen at the latest after one chunk
    /// (a few milliseconds at this machine's ≈ 120 M instructions/s), even if it came just
    /// before Unicorn started and its uc_emu_stop was lost.
    static let chunk = 2_000_000

    /// Runs at most `instructions` instructions from the current PC, in chunks; a pending stop
    /// request ends it (and is consumed). Exceptions are taken between chunks: a chunk ends after
    /// the instruction that made one deliverable, and at the next SysTick count to zero.
    public func run(instructions: Int) -> Outcome {
        var remaining = max(instructions, 0)
        while remaining > 0 {
            if stopRequested.isSet {
                stopRequested.clear()
                return .stopped
            }
            if let failure = deliverPending() { return .exception(failure) }
            var n = min(remaining, Self.chunk)
            // Held back by PRIMASK, BASEPRI or FAULTMASK alone: an MSR or CPSIE that lifts the
            // mask is no store the host sees, so the counting hook watches the three registers
            // (only then: it costs three reads an instruction) and ends the run after a change.
            let watch = exceptions.lock.withLock { heldByMask() }
            counter.pointee.watch_masks = watch ? 1 : 0
            if watch {
                counter.pointee.primask = register(UC_ARM_REG_PRIMASK)
                counter.pointee.basepri = register(UC_ARM_REG_BASEPRI)
                counter.pointee.faultmask = register(UC_ARM_REG_FAULTMASK)
            }
            if let toTick = exceptions.lock.withLock({ exceptions.instructionsToSysTick }) { n = max(1, min(n, toTick)) }
            counter.pointee.executed = 0
            counter.pointee.budget = UInt64(n)
            counter.pointee.stop = 0
            let pc = UInt64(register(UC_ARM_REG_PC)) | 1
            let ret = uc_emu_start(uc, pc, 0xFFFF_FFFF_FFFF, 0, 0)
            let ran = Int(counter.pointee.executed)
            remaining -= ran == 0 ? n : ran
            exceptions.lock.withLock { exceptions.advanceSysTick(ran) }
            if fault.pointee.happened != 0 {
                let f = fault.pointee
                fault.pointee = rproc_uc_fault()
                let type = uc_mem_type(rawValue: UInt32(f.type))
                let write = [UC_MEM_WRITE_UNMAPPED, UC_MEM_WRITE_PROT].contains(type)
                let fetch = [UC_MEM_FETCH_UNMAPPED, UC_MEM_FETCH_PROT].contains(type)
                return .busFault(address: f.address, write: write, fetch: fetch)
            }
            if let failure = hookFailure {
                hookFailure = nil
                return .exception(failure)
            }
            guard ret == UC_ERR_OK else { return .exception(Self.text(ret)) }
            if exceptions.lock.withLock({ exceptions.resetRequested }) {
                exceptions.lock.withLock { exceptions.resetRequested = false }
                return .resetRequested
            }
            // Ended early by the core itself: a WFI (or WFE) returns from Unicorn.
            if ran < n, counter.pointee.stop == 0, !stopRequested.isSet, isWFI() {
                if exceptions.lock.withLock({ wakes() }) { continue }
                // Asleep until SysTick counts to zero: those cycles pass at once.
                if let toTick = exceptions.lock.withLock({ exceptions.systickControl & 2 != 0 ? exceptions.instructionsToSysTick : nil }) {
                    exceptions.lock.withLock { exceptions.advanceSysTick(toTick) }
                    remaining -= toTick
                    continue
                }
                return .idle
            }
        }
        if stopRequested.isSet {
            stopRequested.clear()
            return .stopped
        }
        return .sliceEnded
    }

    /// Whether the instruction before the PC is a WFI (16- or 32-bit).
    private func isWFI() -> Bool {
        let pc = UInt64(register(UC_ARM_REG_PC))
        var half: UInt16 = 0, word: [UInt16] = [0, 0]
        if pc >= 2, uc_mem_read(uc, pc - 2, &half, 2) == UC_ERR_OK, half == 0xBF30 { return true }
        if pc >= 4, word.withUnsafeMutableBytes({ uc_mem_read(uc, pc - 4, $0.baseAddress, 4) }) == UC_ERR_OK, word == [0xF3AF, 0x8003] { return true }
        return false
    }

    /// Whether the highest pending exception would be taken but for PRIMASK, BASEPRI and
    /// FAULTMASK. Caller holds `exceptions.lock`.
    private func heldByMask() -> Bool {
        guard let n = exceptions.highestPending() else { return false }
        let p = exceptions.group(exceptions.priorityOf(n))
        return p < exceptions.executionPriority(primask: 0, basepri: 0, faultmask: 0)
            && p >= exceptions.executionPriority(primask: register(UC_ARM_REG_PRIMASK), basepri: register(UC_ARM_REG_BASEPRI), faultmask: register(UC_ARM_REG_FAULTMASK))
    }

    /// Whether a pending exception wakes a WFI: enabled and of a priority above the execution
    /// priority without PRIMASK (a masked one wakes the core, which goes on after the WFI).
    private func wakes() -> Bool {
        guard let n = exceptions.highestPending() else { return false }
        let p = exceptions.executionPriority(primask: 0, basepri: register(UC_ARM_REG_BASEPRI), faultmask: register(UC_ARM_REG_FAULTMASK))
        return exceptions.group(exceptions.priorityOf(n)) < p
    }

    /// Takes the highest pending exception if it may preempt; a failure (lockup) as text.
    private func deliverPending() -> String? {
        exceptions.lock.lock()
        defer { exceptions.lock.unlock() }
        guard let n = exceptions.highestPending() else { return nil }
        let p = exceptions.executionPriority(primask: register(UC_ARM_REG_PRIMASK), basepri: register(UC_ARM_REG_BASEPRI), faultmask: register(UC_ARM_REG_FAULTMASK))
        guard exceptions.group(exceptions.priorityOf(n)) < p else { return nil }
        return enter(n, returnAddress: register(UC_ARM_REG_PC))
    }

    // MARK: Exception entry and return (ARMv7-M B1.5.6–B1.5.8, as v8-M keeps them for one
    // security state)

    private static let frameWords = 8

    /// Pushes the frame on the current stack, switches to Handler mode on MSP and branches to
    /// exception `n`'s vector. Caller holds `exceptions.lock`. A frame or vector the core cannot
    /// reach is a lockup: its text.
    private func enter(_ n: Int, returnAddress: UInt32) -> String? {
        let xpsr = register(UC_ARM_REG_XPSR), control = register(UC_ARM_REG_CONTROL)
        let threadMode = xpsr & 0x1FF == 0
        let onPSP = threadMode && control & 2 != 0
        let sp = register(UC_ARM_REG_SP)
        let padded = sp & 4 != 0
        let frame = (sp &- 32) & ~(padded ? 4 : 0)
        let words: [UInt32] = [register(UC_ARM_REG_R0), register(UC_ARM_REG_R1), register(UC_ARM_REG_R2), register(UC_ARM_REG_R3),
                               register(UC_ARM_REG_R12), register(UC_ARM_REG_LR), returnAddress & ~1, (xpsr & ~(1 << 9)) | (padded ? 1 << 9 : 0)]
        guard words.withUnsafeBytes({ uc_mem_write(uc, UInt64(frame), $0.baseAddress, 32) }) == UC_ERR_OK else {
            return "lockup: the exception frame of exception \(n) at \(hex(frame)) is not writable"
        }
        var vector: UInt32 = 0
        let vtor = exceptions.vtor
        guard uc_mem_read(uc, UInt64(vtor) + UInt64(4 * n), &vector, 4) == UC_ERR_OK else {
            return "lockup: the vector of exception \(n) at \(hex(vtor &+ UInt32(4 * n))) is not readable"
        }
        setRegister(UC_ARM_REG_SP, frame)
        // Handler mode runs on MSP: leaving PSP swaps the stack pointers (the frame stays on PSP).
        if onPSP { setRegister(UC_ARM_REG_CONTROL, control & ~2) }
        // IPSR = n; the IT/ICI bits cleared (a leak of them into the handler is a Unicorn gotcha).
        setRegister(UC_ARM_REG_XPSR, (xpsr & 0xF80F_0000 & ~(1 << 9)) | 1 << 24 | UInt32(n))
        setRegister(UC_ARM_REG_LR, threadMode ? (onPSP ? 0xFFFF_FFFD : 0xFFFF_FFF9) : 0xFFFF_FFF1)
        // Bit 0 set: Unicorn takes a PC write's bit 0 as the Thumb state (a clear one would be Arm).
        setRegister(UC_ARM_REG_PC, vector | 1)
        exceptions.active[n] = true
        exceptions.pending[n] = false
        return nil
    }

    /// The exception return EXC_RETURN asks for: pops the frame from the stack it names, back
    /// to the mode it names; then tail-chains to a pending exception that may preempt. Caller
    /// holds `exceptions.lock`.
    private func exceptionReturn(_ excReturn: UInt32) -> String? {
        let xpsr = register(UC_ARM_REG_XPSR)
        let returning = Int(xpsr & 0x1FF)
        // Attacker: the firmware's branch — only 0xFFFFFFF1/F9/FD from Handler mode return.
        guard returning != 0, exceptions.active[returning], [0xFFFF_FFF1, 0xFFFF_FFF9, 0xFFFF_FFFD].contains(excReturn) else {
            return "a branch to EXC_RETURN \(hex(excReturn)) with no such exception active (IPSR \(returning))"
        }
        exceptions.active[returning] = false
        // A level-sensitive line still high: its interrupt is pending again.
        if exceptions.lineHigh[returning] { exceptions.pending[returning] = true }
        if excReturn & 8 != 0 {
            // Back to Thread mode: IPSR 0 first (Handler mode ignores SPSEL), then the stack.
            setRegister(UC_ARM_REG_XPSR, xpsr & ~0x1FF)
            if excReturn & 4 != 0 { setRegister(UC_ARM_REG_CONTROL, register(UC_ARM_REG_CONTROL) | 2) }
        }
        let sp = register(UC_ARM_REG_SP)
        var words = [UInt32](repeating: 0, count: Self.frameWords)
        guard words.withUnsafeMutableBytes({ uc_mem_read(uc, UInt64(sp), $0.baseAddress, 32) }) == UC_ERR_OK else {
            return "lockup: the exception frame at \(hex(sp)) is not readable"
        }
        for (i, r) in [UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12, UC_ARM_REG_LR].enumerated() { setRegister(r, words[i]) }
        setRegister(UC_ARM_REG_SP, sp &+ 32 &+ (words[7] & (1 << 9) != 0 ? 4 : 0))
        setRegister(UC_ARM_REG_XPSR, words[7] & ~(1 << 9) | 1 << 24)
        setRegister(UC_ARM_REG_PC, words[6] | 1)
        // Tail-chaining: the next pending exception that may preempt what was returned to.
        if let n = exceptions.highestPending() {
            let p = exceptions.executionPriority(primask: register(UC_ARM_REG_PRIMASK), basepri: register(UC_ARM_REG_BASEPRI), faultmask: register(UC_ARM_REG_FAULTMASK))
            if exceptions.group(exceptions.priorityOf(n)) < p { return enter(n, returnAddress: words[6]) }
        }
        return nil
    }

    /// Unicorn's report of a CPU exception, inside `uc_emu_start` (the hook).
    fileprivate func interrupt(_ intno: UInt32) {
        exceptions.lock.lock()
        var failure: String?
        switch intno {
        case 2:
            // SVC: PC is past the instruction. Taken if SVCall may preempt, else escalated to
            // HardFault, else a lockup.
            let p = exceptions.executionPriority(primask: register(UC_ARM_REG_PRIMASK), basepri: register(UC_ARM_REG_BASEPRI), faultmask: register(UC_ARM_REG_FAULTMASK))
            let n = exceptions.group(exceptions.priorityOf(CortexMExceptions.svcall)) < p ? CortexMExceptions.svcall : (p > -1 ? CortexMExceptions.hardFault : 0)
            failure = n == 0 ? "lockup: SVC where neither SVCall nor HardFault can be taken" : enter(n, returnAddress: register(UC_ARM_REG_PC))
        case 8:
            failure = exceptionReturn(register(UC_ARM_REG_PC) | 1)
        default:
            failure = Self.text(UC_ERR_EXCEPTION)
        }
        exceptions.lock.unlock()
        if let failure {
            hookFailure = failure
            counter.pointee.stop = 1
            uc_emu_stop(uc)
        }
    }

    fileprivate func systemControlRead(_ offset: UInt64, _ size: Int) -> UInt64 {
        let ipsr = register(UC_ARM_REG_XPSR) & 0x1FF
        return exceptions.lock.withLock { exceptions.read(offset, size: size, ipsr: ipsr) }
    }

    fileprivate func systemControlWrite(_ offset: UInt64, _ size: Int, _ value: UInt64) {
        let deliverable = exceptions.lock.withLock { () -> Bool in
            exceptions.write(offset, size: size, value: value)
            return exceptions.resetRequested || exceptions.highestPending() != nil
        }
        // The run ends after this store: what it pended is taken (or the reset reported) at once.
        if deliverable { counter.pointee.stop = 1 }
    }

    /// Pends external interrupt `irq` (0…239) from outside the core (a mailbox, a timer): taken
    /// when enabled and of a priority that may preempt; wakes an idle core. Any thread.
    public func raise(irq: Int) {
        guard (0..<CortexMExceptions.irqLines).contains(irq) else { return }
        exceptions.lock.withLock { exceptions.pending[16 + irq] = true }
        // The counting hook ends the run before the next instruction.
        counter.pointee.stop = 1
        signalEvent()
    }

    /// Holds external line `irq` high or low (a device's level-sensitive interrupt): pending
    /// while high — taken once enabled and allowed, and again after its handler if still high.
    /// Any thread; a line going high wakes an idle core.
    public func setLine(irq: Int, high: Bool) {
        guard (0..<CortexMExceptions.irqLines).contains(irq) else { return }
        let rose = exceptions.lock.withLock { () -> Bool in
            let was = exceptions.lineHigh[16 + irq]
            exceptions.lineHigh[16 + irq] = high
            if high { exceptions.pending[16 + irq] = true }
            return high && !was
        }
        if rose {
            counter.pointee.stop = 1
            signalEvent()
        }
    }

    /// A device's registers: `read`/`write` get the offset in the page at `address` (4 KiB
    /// aligned), the access size and the value; called on the core's thread inside a run.
    public func mapDevice(address: UInt64, read: @escaping (UInt64, Int) -> UInt64, write: @escaping (UInt64, Int, UInt64) -> Void) throws(EmulatedCoreError) {
        let device = Device(read: read, write: write)
        let me = Unmanaged.passUnretained(device).toOpaque()
        let ret = uc_mmio_map(uc, address, 0x1000, deviceReadCallback, me, deviceWriteCallback, me)
        guard ret == UC_ERR_OK else { throw EmulatedCoreError("mapping a device at 0x\(String(address, radix: 16)): \(Self.text(ret))") }
        owners.append(device)
    }

    final class Device {
        let read: (UInt64, Int) -> UInt64
        let write: (UInt64, Int, UInt64) -> Void
        init(read: @escaping (UInt64, Int) -> UInt64, write: @escaping (UInt64, Int, UInt64) -> Void) {
            self.read = read
            self.write = write
        }
    }

    /// Sleeps until `raise`, `requestStop` or `timeout` (what a caller does on `.idle`): no host
    /// CPU is used meanwhile.
    public func waitForEvent(timeout: TimeInterval) {
        events.lock()
        defer { events.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while !eventPending, events.wait(until: deadline) {}
        eventPending = false
    }

    private func signalEvent() {
        events.lock()
        eventPending = true
        events.broadcast()
        events.unlock()
    }


    /// Ends a `run` in progress at the next instruction boundary (any thread).
    public func requestStop() {
        stopRequested.set()
        counter.pointee.stop = 1
        uc_emu_stop(uc)
        signalEvent()
    }

    static func text(_ err: uc_err) -> String { String(cString: uc_strerror(err)) }
}

/// Unicorn's callbacks (C function pointers: no captures; the core is the user data).
private let coreInterrupt: rproc_uc_intr_callback = { _, intno, user in
    Unmanaged<EmulatedCore>.fromOpaque(user!).takeUnretainedValue().interrupt(intno)
}

private let systemControlReadCallback: uc_cb_mmio_read_t = { _, offset, size, user in
    Unmanaged<EmulatedCore>.fromOpaque(user!).takeUnretainedValue().systemControlRead(offset, Int(size))
}

private let systemControlWriteCallback: uc_cb_mmio_write_t = { _, offset, size, value, user in
    Unmanaged<EmulatedCore>.fromOpaque(user!).takeUnretainedValue().systemControlWrite(offset, Int(size), value)
}

private let deviceReadCallback: uc_cb_mmio_read_t = { _, offset, size, user in
    Unmanaged<EmulatedCore.Device>.fromOpaque(user!).takeUnretainedValue().read(offset, Int(size))
}

private let deviceWriteCallback: uc_cb_mmio_write_t = { _, offset, size, value, user in
    Unmanaged<EmulatedCore.Device>.fromOpaque(user!).takeUnretainedValue().write(offset, Int(size), value)
}

public struct EmulatedCoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A flag another thread sets (requestStop while run executes), read after run returns.
struct ManagedAtomicFlag: @unchecked Sendable {
    private let storage = NSLockedBool()
    func set() { storage.value = true }
    func clear() { storage.value = false }
    var isSet: Bool { storage.value }
}

final class NSLockedBool: @unchecked Sendable {
    private let lock = NSLock()
    private var _value = false
    var value: Bool {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}

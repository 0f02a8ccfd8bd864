import CUnicorn
import CUnicornShims
import Foundation

/// An emulated Arm Cortex-M core (Unicorn 2.0, QEMU's CPU as a library) running firmware out of
/// memory its owner provides: the core sees exactly the regions mapped into it, with the rights
/// given, and no copy sits between the owner's bytes and the core's view (`uc_mem_map_ptr`).
/// Unicorn emulates the core, not the NVIC: an exception the core cannot take stops emulation,
/// reported as `.exception`.
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
        /// An undefined instruction, or an exception the core cannot take (no NVIC here).
        case exception(String)
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
    private var owners: [AnyObject] = []
    private var stopRequested = ManagedAtomicFlag()
    public let model: Model

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
        uc = engine
        self.model = model
        guard rproc_uc_hook_invalid_memory(uc, &hook, fault) == UC_ERR_OK else {
            uc_close(engine)
            fault.deallocate()
            throw EmulatedCoreError("Unicorn refused the memory-fault hook")
        }
    }

    deinit {
        uc_close(uc)
        fault.deallocate()
    }

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
    /// request ends it (and is consumed).
    public func run(instructions: Int) -> Outcome {
        var remaining = max(instructions, 0)
        while remaining > 0 {
            if stopRequested.isSet {
                stopRequested.clear()
                return .stopped
            }
            let n = min(remaining, Self.chunk)
            remaining -= n
            let pc = UInt64(register(UC_ARM_REG_PC)) | 1
            let ret = uc_emu_start(uc, pc, 0xFFFF_FFFF_FFFF, 0, n)
            if fault.pointee.happened != 0 {
                let f = fault.pointee
                fault.pointee = rproc_uc_fault()
                let type = uc_mem_type(rawValue: UInt32(f.type))
                let write = [UC_MEM_WRITE_UNMAPPED, UC_MEM_WRITE_PROT].contains(type)
                let fetch = [UC_MEM_FETCH_UNMAPPED, UC_MEM_FETCH_PROT].contains(type)
                return .busFault(address: f.address, write: write, fetch: fetch)
            }
            guard ret == UC_ERR_OK else { return .exception(Self.text(ret)) }
        }
        if stopRequested.isSet {
            stopRequested.clear()
            return .stopped
        }
        return .sliceEnded
    }

    /// Ends a `run` in progress at the next instruction boundary (any thread).
    public func requestStop() {
        stopRequested.set()
        uc_emu_stop(uc)
    }

    static func text(_ err: uc_err) -> String { String(cString: uc_strerror(err)) }
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

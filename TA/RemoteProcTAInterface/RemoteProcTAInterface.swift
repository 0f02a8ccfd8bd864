import TEECore

/// The remoteproc TA's interface (shared/spec/remoteproc-ta.md), wire-compatible with OP-TEE's
/// `ta/remoteproc/include/ta_remoteproc.h` as driven by Linux's `remoteproc_tee`.
public enum RemoteProcTA {
    public static let uuid: TEEUUID = "80a4c275-0a47-4905-8285-1486a9771a08"

    /// Every command carries the rproc id in params[0].value.a (VALUE_INPUT).
    public enum Command: UInt32, Sendable {
        /// [in] value a = rproc id; [in] memref the whole signed image.
        /// OFF → authenticate and load → LOADED; LOADED → SUCCESS without reading; STARTED → BAD_STATE.
        case loadFirmware = 1
        /// [in] value a = rproc id. LOADED → STARTED; STARTED → SUCCESS; OFF → BAD_STATE.
        case startFirmware = 2
        /// [in] value a = rproc id. STARTED → OFF; OFF → SUCCESS; LOADED → BAD_STATE.
        case stopFirmware = 3
        /// [in] value a = rproc id; [out] value a/b = physical address low/high;
        /// [out] value a/b = size low/high (0/0: no resource table). OFF → BAD_STATE.
        case getResourceTable = 4
        /// [in] value a = rproc id; [out] memref an ELF core file of the coprocessor memories
        /// (SHORT_BUFFER with the size needed when it does not fit).
        case getCoreDump = 5
        /// [in] value a = rproc id. OFF/LOADED → wipe every region → OFF; STARTED → BAD_STATE.
        case releaseFirmware = 6
    }

    public static let loadTypes = ParamTypes(.valueInput, .memrefInput)          // 0x0051
    public static let simpleTypes = ParamTypes(.valueInput)                      // 0x0001
    public static let resourceTableTypes = ParamTypes(.valueInput, .valueOutput, .valueOutput) // 0x0221
    public static let coreDumpTypes = ParamTypes(.valueInput, .memrefOutput)     // 0x0061
}

/// The platform pseudo-TA the remoteproc TA calls (OP-TEE's `remoteproc_pta`, UUID kept), with
/// per-coprocessor state and what isolation needs. Only the remoteproc TA may open it.
/// Every command takes the rproc id in params[0].value.a.
public enum RemoteProcPTA {
    public static let uuid: TEEUUID = "54af4a68-19be-40d7-bbe6-8950350a8744"

    public enum Command: UInt32, Sendable {
        /// [out] value a = `Capabilities`, b = number of coprocessors. (Command 2, OP-TEE's
        /// FIRMWARE_LOAD, is not offered: segments are loaded one by one with their hashes.)
        case hwCapabilities = 1
        /// [in] memref segment bytes (shared memory, read once); [in] value a = device address
        /// low, b = p_flags; [in] memref expected SHA-256. Copies to the destination, hashes the
        /// destination, zeroes it on mismatch (SECURITY). Placement errors: ACCESS_DENIED.
        case loadSegmentSHA256 = 3
        /// [in] value a = device address, b = size; [in] value a = fill byte, b = p_flags.
        case setMemory = 4
        /// [in] value a = entry point, b = trace buffer DA; [in] value a = secure vector table
        /// (0xFFFFFFFF none), b = non-secure vector table; [in] value a = trace size.
        case firmwareStart = 5
        case firmwareStop = 6
        /// [in] value a = device address, b = size; [out] value a/b = physical address low/high.
        case daToPA = 7
        /// [in] value a = signature type (SIGNTYPE); [in] memref PKEYINFO (may be empty);
        /// [in] memref digest; [in] memref signature. SUCCESS only with a trusted, unrevoked key.
        case verifyDigest = 8
        /// Wipes every region, forgets segments and windows, restores the default firewall.
        case release = 9
        /// [in] value a = firewall configuration (0 default, 1 load, 2 running).
        case applyFirewall = 10
        /// [out] memref ELF core file (SHORT_BUFFER with the size needed).
        case coreDump = 11
        /// [in] value a = device address, b = size; [in] value a = rights (1 read, 2 write),
        /// b = `Window` (what it is for, for the log and the normal world's error message):
        /// opens exactly that range to the normal world. Refused (ACCESS_DENIED) unless it lies
        /// wholly inside one loaded non-executable segment or a shared region; never over
        /// executable or secure memory.
        case shareWindow = 12
        /// [in] value a = device address, b = size; [out] memref: verified loaded bytes.
        case readLoaded = 13
        /// [in] value a = ELF e_machine: SUCCESS if this coprocessor runs it, else BAD_FORMAT.
        case acceptsMachine = 14
    }

    /// What the platform can do (HW_CAPABILITIES value a), OP-TEE's `PTA_RPROC_HWCAP_*` bits
    /// and ours.
    public struct Capabilities: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Loads ELF images (`PTA_RPROC_HWCAP_FMT_ELF`).
        public static let elf = Capabilities(rawValue: 1 << 0)
        /// Checks each segment against a signed SHA-256 hash table (`PTA_RPROC_HWCAP_PROT_HASH_TABLE`).
        public static let hashTable = Capabilities(rawValue: 1 << 1)
        /// Produces ELF core dumps of a crashed coprocessor (ours).
        public static let coreDump = Capabilities(rawValue: 1 << 2)
    }

    /// What a window opened with SHARE_WINDOW is for.
    public enum Window: UInt32, Sendable {
        case other = 0, trace = 1, resourceTable = 2
        public var name: String {
            switch self {
            case .other: "window"
            case .trace: "trace buffer"
            case .resourceTable: "resource table"
            }
        }
    }
}

/// The normal world's bus to the simulated SoC (what Linux gets from its device tree and
/// `memremap`), for drivers in another process than the secure world: physical reads and writes
/// checked by the same firewall as in-process ones, the coprocessors' memory maps, and the
/// simulation's controls (let the coprocessor model run, inject a watchdog crash). Only the
/// normal-world kernel may open it (login REE_KERNEL). Every command: params[0] value.
public enum PlatformBus {
    public static let uuid: TEEUUID = "6f1c2e8a-3b4d-4c5e-9f60-7a8b9c0d1e2f"

    public enum Command: UInt32, Sendable {
        /// [in] value a = rproc id; [out] memref: u32 count, then per region u32 da, pa, size,
        /// flags (1 loadable, 2 shared, 4 secure); [out] value a = bytes needed (SHORT_BUFFER).
        case describe = 1
        /// [in] value a/b = physical address low/high; [out] memref the bytes (its size).
        case read = 2
        /// [in] value a/b = physical address low/high; [in] memref the bytes.
        case write = 3
        /// [in] value a = rproc id, b = slices (of `sliceInstructions` emulated instructions)
        /// the running firmware is given before the call returns (at most `maxTicks`).
        case tick = 4
        /// [in] value a = rproc id; [in] memref the reason (UTF-8, at most 256 bytes): a crash
        /// injected as if the watchdog had fired.
        case crash = 5
        /// [in] value a = rproc id; [out] value a = state (0 off, 1 running, 2 crashed), b = the
        /// signal the crash amounts to (11 bus fault, 4 exception, 14 watchdog, 6 injected);
        /// [out] memref the crash reason (UTF-8, at most `maxReason` bytes; empty if none). What
        /// the coprocessor's crash interrupt tells Linux.
        case status = 6
        /// [in] value a = rproc id, b = channel (1…the board's count): the normal world kicks
        /// the coprocessor through its mailbox (the IPCC). BUSY while the coprocessor has not
        /// acknowledged the last kick on that channel, ITEM_NOT_FOUND without a mailbox.
        case kick = 7
        /// [in] value a = rproc id, b = timeout in ms (at most `maxKickWait`); [out] value a =
        /// the channels the coprocessor kicked (channel n is bit n − 1), acknowledged; 0 on
        /// timeout. Blocks (no polling) until a kick or the timeout.
        case waitKick = 8
    }

    public static let maxKickWait: UInt32 = 10_000
    public static let maxTicks: UInt32 = 1_000
    public static let maxReason = 256
    public static let maxTransfer = 1 << 20
}

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
        /// [out] value a = capabilities (bit 0: ELF images, bit 1: SHA-256 segment hashes,
        /// bit 2: core dumps), b = number of coprocessors.
        case hwCapabilities = 1
        /// Unused (OP-TEE loads through LOAD_SEGMENT_SHA256): NOT_SUPPORTED.
        case firmwareLoad = 2
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
        /// [in] value a = device address, b = size; [in] value a = rights (1 read, 2 write):
        /// opens that range of loaded memory to the normal world (resource table, trace buffer).
        case shareWindow = 12
        /// [in] value a = device address, b = size; [out] memref: verified loaded bytes.
        case readLoaded = 13
    }
}

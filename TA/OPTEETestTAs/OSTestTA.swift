import OPTEETestTAInterface
import TEEInternalAPI

/// optee_test's `os_test` TA in Swift — the part that is not about C itself — written from what
/// the original (`ta/os_test/os_test.c`, `ta_entry.c`) does. Multi-instance, as the original
/// (TA_FLAGS 0). Every entry unmasks cancellation first, as the original does.
///
/// Ported: INIT (TEE_GetTAPersistentTime), PANIC, CLIENT (a session to the crypt TA), CLIENT_WITH_TIMEOUT (a TA-to-TA call
/// cancelled by its timeout), PARAMS_ACCESS (TEE_CheckMemoryAccessRights), WAIT, BAD_MEM_ACCESS (real faults of the TA's process, see below), the TA-to-TA memref
/// commands, PARAMS, NULL_MEMREF_PARAMS and CLIENT_IDENTITY.
///
/// Answered NOT_SUPPORTED: what the original answers so when built without the feature (C++,
/// pointer authentication, thread-local storage, the address sanitizer), and what has no
/// meaning for a TA that is not a C ELF (shared libraries, `dl_iterate_phdr`, `.init_array`,
/// MTE tags), or needs an API rproc-tee does not have (remote attestation).
///
/// BASIC runs the original's checks of the property sets (every property it names, with its
/// type; the TA's own `myprop.*` properties), of memory access rights on the client's memref and
/// through a TA-to-TA call, and of the TA persistent time (set, read back, wrapped past 32-bit
/// seconds). Its checks of the C runtime — TEE_Malloc, floats, setjmp, the bget allocator, and
/// access rights on the TA's own stack, heap and read-only data — have no counterpart in a Swift
/// TA and are not run.
public final class OSTestTAImplementation: TrustedApplication {
    public static let properties = TAProperties(uuid: OSTestTA.uuid, dataSize: 900 * 1024, stackSize: 8 * 1024,
                                                description: "os_test (optee_test), OS features", extra: OSTestTA.extraProperties)
    private let tee: TEE

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
    }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        _ = tee.setCancellationMasked(false)
        guard let command = OSTestTA.Command(rawValue: command) else { throw .badParameters }
        switch command {
        case .panic:
            tee.panic(0xBEEF)

        case .client:
            // SHA-256 of "abc" through a session to the crypt TA, from the TA's own memory.
            let crypt = try tee.session(to: CryptTA.uuid)
            defer { crypt.close() }
            var p = Parameters(types: ParamTypes(.memrefInput, .memrefOutput),
                               params: [.memref(.privateInput(Array("abc".utf8))), .memref(.privateOutput(capacity: 32)), .none, .none])
            try crypt.call(CryptTA.Command.sha256.rawValue, &p)
            let expected: [UInt8] = [0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                     0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad]
            guard try p.memref(1).written() == expected else { throw .generic }

        case .paramsAccess:
            try params.require(ParamTypes(.memrefInput, .memrefInput))
            try Self.checkSharedRights(params.memref(0))
            guard params.memref(1).isNull, params.memref(1).capacity == 0 else { throw .badParameters }

        case .wait:
            try tee.wait(milliseconds: params.value(0).a)

        case .clientWithTimeout:
            // Another instance waits value.a ms; the call's timeout is half that: its WAIT must
            // end cancelled (CANCEL from the TA), else GENERIC.
            try params.require(ParamTypes(.valueInput))
            let other = try tee.session(to: OSTestTA.uuid)
            defer { other.close() }
            do {
                try other.invoke(OSTestTA.Command.wait.rawValue, &params, timeout: params.value(0).a / 2)
                throw TEEResult.generic
            } catch let error as TEEError {
                guard error.result == .cancel, error.origin == .trustedApp else { throw .generic }
            } catch {
                throw .generic
            }

        case .badMemoryAccess:
            guard params.types == ParamTypes(.valueInput) || params.types == ParamTypes(.valueInput, .memrefInout) else { throw .badParameters }
            Self.misbehave(params.value(0).a, tee: tee)

        case .ta2taMemref:
            try params.require(ParamTypes())
            try ta2taMemref()

        case .ta2taMemrefMix:
            try params.require(ParamTypes(.memrefInput, .memrefInout, .memrefOutput))
            let size = params.memref(0).capacity
            guard params.memref(1).capacity == size, params.memref(2).capacity == size else { throw .badParameters }
            let input = size == 0 ? [] : try params.memref(0).read()
            var inOut = size == 0 ? [] : try params.memref(1).read()
            var out = [UInt8](repeating: 0, count: size)
            for i in 0..<size {
                inOut[i] &+= 1
                out[i] = inOut[i] &+ input[i]
            }
            if size > 0 {
                try params.withMemref(1) { (m) throws(TEEResult) in try m.write(inOut) }
                try params.withMemref(2) { (m) throws(TEEResult) in try m.write(out) }
            }

        case .ta2taMemrefSize0:
            try params.require(ParamTypes(.memrefInput, .memrefInout, .memrefOutput))
            // Non-NULL references of size zero, passed on to another instance as they are.
            for i in 0..<3 where params.memref(i).isNull || params.memref(i).capacity != 0 { throw .badParameters }
            let other = try tee.session(to: OSTestTA.uuid)
            defer { other.close() }
            try other.call(OSTestTA.Command.ta2taMemrefMix.rawValue, &params)

        case .params:
            try params.require(ParamTypes(.memrefInput, .memrefInput, .memrefOutput, .memrefOutput))
            for i in 0..<4 where params.memref(i).isNull || params.memref(i).capacity == 0 { throw .badParameters }

        case .nullMemrefParams:
            try params.require(ParamTypes(.memrefInput, .memrefInput, .memrefOutput, .memrefOutput))
            // 0 and 2: mapped (non-NULL) with size 0; 1 and 3: NULL with size 0.
            for i in 0..<4 {
                let m = params.memref(i)
                guard m.capacity == 0, m.isNull == (i % 2 == 1) else { throw .badParameters }
            }

        case .clientIdentity:
            try params.require(ParamTypes(.valueOutput, .memrefOutput))
            guard params.memref(1).capacity >= 16 else {
                try params.withMemref(1) { (m) throws(TEEResult) in m.size = 16 }
                throw .shortBuffer
            }
            let client = tee.client
            params.setValue(0, a: client.login.rawValue)
            try params.withMemref(1) { (m) throws(TEEResult) in try m.write(client.uuid.cLayout) }

        case .cxxCtorMain, .cxxCtorShlib, .cxxCtorShlibDL, .cxxExcMain, .cxxExcMixed, .pauthNop, .pauthCorruptPAC,
             .tlsTestMain, .tlsTestShlib, .asanStack, .asanGlobal, .asanMalloc, .asanUAF, .asanMemfunc:
            throw .notSupported   // the original without WITH_CXX_TESTS, CFG_TA_PAUTH, WITH_TLS_TESTS, CFG_TA_SANITIZE_KADDRESS

        case .initialize:
            // The original returns TEE_GetTAPersistentTime's result (TIME_NOT_SET until set).
            _ = try tee.taPersistentTime()

        case .basic:
            try params.require(ParamTypes(.memrefInput))
            try basicProperties()
            try basicAccessRights(params)
            try basicTime()

        case .callLib, .callLibPanic, .callLibDL, .callLibDLPanic, .getGlobalVar,
             .dlPhdr, .dlPhdrDL, .attestation, .memtagUseAfterFree, .memtagInvalidTag, .memtagDoubleFree, .memtagBufferOverrun:
            tee.log("os_test: command \(command) is not ported (see OSTestTAImplementation)")
            throw .notSupported
        }
    }

    // MARK: BASIC

    /// The original's test_properties: each property it names is found in one of the three
    /// property sets and reads as its type; every property reads as a string (GP); the TA's
    /// binary blocks of ones hold 1…4 bytes of 0xFF.
    private func basicProperties() throws(TEEResult) {
        let readers = PropertySet.allCases.map { tee.properties($0) }
        for reader in readers {
            for (name, _) in reader.all { _ = try reader.string(name) }
        }
        for (name, kind) in OSTestTA.basicProperties {
            guard let reader = readers.first(where: { (try? $0.value(name)) != nil }) else {
                tee.log("os_test BASIC: \"\(name)\" not retrieved")
                throw .generic
            }
            switch kind {
            case .bool: _ = try reader.bool(name)
            case .int: _ = try reader.u32(name)
            case .uuid: _ = try reader.uuid(name)
            case .identity: _ = try reader.identity(name)
            case .string: _ = try reader.string(name)
            case .binary: _ = try reader.binary(name)
            }
        }
        let ta = tee.properties(.currentTA)
        for n in 1...4 {
            guard try ta.binary("myprop.binaryblock.\(n)byte-ones") == [UInt8](repeating: 0xFF, count: n) else { throw .generic }
        }
    }

    /// Memory shared with the caller: readable by anyone's rules (READ | ANY_OWNER), and without
    /// ANY_OWNER the same check fails with ACCESS_DENIED, as the original wants; else GENERIC.
    private static func checkSharedRights(_ m: MemoryReference) throws(TEEResult) {
        try m.checkAccessRights(0x1 | 0x4)
        let refused: Bool
        do {
            try m.checkAccessRights(0x1)
            refused = false
        } catch {
            refused = error == .accessDenied
        }
        guard refused else { throw .generic }
    }

    /// The original's test_mem_access_right, for what a Swift TA has: the client's memref is
    /// readable with ANY_OWNER and ACCESS_DENIED without; PARAMS_ACCESS into another instance
    /// with a buffer of the TA's own and a NULL memref.
    private func basicAccessRights(_ params: Parameters) throws(TEEResult) {
        try Self.checkSharedRights(params.memref(0))
        let other = try tee.session(to: OSTestTA.uuid)
        defer { other.close() }
        var p = Parameters(types: ParamTypes(.memrefInput, .memrefInput),
                           params: [.memref(.privateInput([UInt8](repeating: 0, count: 32))), .memref(MemoryReference(buffer: nil, offset: 0, size: 0, direction: .memrefInput)), .none, .none])
        try other.call(OSTestTA.Command.paramsAccess.rawValue, &p)
    }

    /// The original's test_time: system and REE time; the TA persistent time, whatever state it
    /// is in, then set to 0 and read back (well under a minute), then set to 2³² − 1 s 999 ms
    /// and, a second later, read as OVERFLOW with its seconds wrapped past zero.
    private func basicTime() throws(TEEResult) {
        _ = tee.systemTime
        _ = tee.reeTime
        do { _ = try tee.taPersistentTimeWrapping() } catch where [.timeNotSet, .timeNeedsReset].contains(error) {}
        try tee.setTAPersistentTime(seconds: 0, milliseconds: 0)
        let zero = try tee.taPersistentTime()
        guard zero.seconds <= 60, zero.milliseconds < 1000 else { throw .badState }
        try tee.setTAPersistentTime(seconds: .max, milliseconds: 999)
        try tee.wait(milliseconds: 1000)
        let wrapped = try tee.taPersistentTimeWrapping()
        guard wrapped.overflowed, wrapped.seconds <= 60 else { throw .badState }
    }

    /// The original's TA2TA_MEMREF: two calls of TA2TA_MEMREF_MIX into another instance with
    /// 2 KiB buffers of the TA's own, the values checked after each.
    private func ta2taMemref() throws(TEEResult) {
        let other = try tee.session(to: OSTestTA.uuid)
        defer { other.close() }
        let size = 2 * 1024
        var input = [UInt8](repeating: 5, count: size), both = [UInt8](repeating: 10, count: size), out = [UInt8](repeating: 0, count: size)
        for round in 0..<2 {
            var p = Parameters(types: ParamTypes(.memrefInput, .memrefInout, .memrefOutput), params: [
                .memref(.privateInput(input)),
                .memref(MemoryReference(buffer: PrivateBuffer(bytes: both), offset: 0, size: size, direction: .memrefInout)),
                .memref(.privateOutput(capacity: size)), .none,
            ])
            try other.call(OSTestTA.Command.ta2taMemrefMix.rawValue, &p)
            both = try p.memref(1).written()
            out = try p.memref(2).written()
            if round == 0 {
                // Each value one up, as the original does between the calls.
                input = input.map { $0 &+ 1 }; both = both.map { $0 &+ 1 }; out = out.map { $0 &+ 1 }
            }
        }
        guard input.allSatisfy({ $0 == 6 }), both.allSatisfy({ $0 == 13 }), out.allSatisfy({ $0 == 19 }) else { throw .generic }
    }

    /// The original's BAD_MEM_ACCESS cases, as real faults of this TA's process (the daemon
    /// then reports TARGET_DEAD, as OP-TEE does for a faulting TA): 1 a store to (nearly) NULL,
    /// 2 a store 1 GiB past the stack, 3 a call through NULL, 4 a call 1 GiB past the stack,
    /// 5 an undefined instruction. 6 and 7 dereference a zero-size TEE_Malloc in C, which Swift
    /// cannot express: the TA panics instead (the same outcome for its client). Anything else
    /// returns. Never call this in an embedded secure world: the fault is the process's.
    private static func misbehave(_ which: UInt32, tee: TEE) {
        var local = 0
        let stack = withUnsafeMutablePointer(to: &local) { Int(bitPattern: $0) }
        switch which {
        case 1:
            UnsafeMutablePointer<UInt32>(bitPattern: 0x10)!.pointee = 0
        case 2:
            UnsafeMutablePointer<UInt32>(bitPattern: stack &+ 0x4000_0000)!.pointee = 0
        case 3:
            unsafeBitCast(Int(0x10), to: (@convention(c) () -> Void).self)()
        case 4:
            unsafeBitCast(stack &+ 0x4000_0000, to: (@convention(c) () -> Void).self)()
        case 5:
            undefinedInstruction()
        case 6, 7:
            tee.panic(TEEResult.badParameters.rawValue, "os_test: a zero-size allocation dereferenced (case \(which))")
        default:
            break
        }
        blackHole(local)
    }
}

/// Executes an undefined instruction (Swift's trap is `ud2` on x86-64, `brk`/`udf` on Arm).
@inline(never) func undefinedInstruction() -> Never {
    trapNow()
}

@inline(__always) func trapNow() -> Never {
    fatalError("os_test: undefined instruction")
}

/// optee_test's `create_fail_test` TA: TA_CreateEntryPoint answers GENERIC, so no session ever
/// opens (xtest 1008.3 expects GENERIC, every time).
public final class CreateFailTestTAImplementation: TrustedApplication {
    public static let properties = TAProperties(uuid: CreateFailTestTA.uuid, stackSize: 1024, description: "create_fail_test (optee_test)")
    public init(tee: TEE) throws(TEEResult) {
        throw .generic
    }
    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        throw .notSupported
    }
}

/// optee_test's `rpc_test` TA, written from what the original (`ta/rpc_test/ta_rpc.c`) does: its
/// crypt commands call the crypt TA with the client's parameters as they are (the client's
/// memory passed on), or — the `privmem` ones — with every memref copied into the TA's own
/// memory first and the outputs copied back; OPEN reads the SIMS TA's counter. Multi-instance.
public final class RPCTestTAImplementation: TrustedApplication {
    public static let properties = TAProperties(uuid: RPCTestTA.uuid, stackSize: 4 * 1024, description: "rpc_test (optee_test)")
    private let tee: TEE
    public init(tee: TEE) throws(TEEResult) { self.tee = tee }

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = RPCTestTA.Command(rawValue: command) else { throw .badParameters }
        let crypt: CryptTA.Command
        switch command {
        case .open:
            let sims = try tee.session(to: SIMSTA.uuid)
            defer { sims.close() }
            var counter = Parameters(types: ParamTypes(.valueOutput), params: [.value(a: 0, b: 0), .none, .none, .none])
            try sims.call(SIMSTA.Command.getCounter.rawValue, &counter)
            return
        case .sha224, .privmemSHA224: crypt = .sha224
        case .sha256, .privmemSHA256: crypt = .sha256
        case .aes256ECBEncrypt, .privmemAES256ECBEncrypt: crypt = .aes256ECBEncrypt
        case .aes256ECBDecrypt, .privmemAES256ECBDecrypt: crypt = .aes256ECBDecrypt
        }
        let session = try tee.session(to: CryptTA.uuid)
        defer { session.close() }
        guard command.rawValue >= RPCTestTA.Command.privmemSHA224.rawValue else {
            try session.call(crypt.rawValue, &params)
            return
        }
        // privmem: the callee sees only the TA's own copies.
        var copy = params
        for i in 0..<4 {
            guard case .memref(let m) = params.params[i] else { continue }
            let bytes = m.direction == .memrefOutput ? [UInt8](repeating: 0, count: m.capacity) : try m.read()
            copy.params[i] = .memref(MemoryReference(buffer: PrivateBuffer(bytes: bytes), offset: 0, size: m.capacity, direction: m.direction))
        }
        var result: TEEResult?
        do { try session.invoke(crypt.rawValue, &copy) } catch { result = error.result }
        for i in 0..<4 {
            switch (params.params[i], copy.params[i]) {
            case (.value, .value(let a, let b)) where params.types[i].isOutput:
                params.setValue(i, a: a, b: b)
            case (.memref(let m), .memref(let c)) where m.direction != .memrefInput:
                // A size past the capacity is the callee's SHORT_BUFFER answer: passed on as it is.
                let written = c.size <= c.capacity ? try c.written() : nil
                try params.withMemref(i) { (out) throws(TEEResult) in
                    if let written { try out.write(written) } else { out.size = c.size }
                }
            default:
                break
            }
        }
        if let result { throw result }
    }
}

extension OSTestTA {
    /// The original's TA_CURRENT_TA_EXT_PROPERTIES (`user_ta_header_defines.h`): the binary
    /// blocks as the bytes their base64 spells ("-%@&", only invalid code, spells none).
    static let extraProperties: [String: PropertyValue] = [
        "myprop.true": .bool(true),
        "myprop.42": .u32(42),
        "myprop.123": .uuid(TEEUUID(timeLow: 1, timeMid: 2, timeHiAndVersion: 3, clockSeqAndNode: (0, 0, 0, 0, 0, 0, 0, 0))),
        "myprop.1234": .identity(login: Login(rawValue: 1), uuid: TEEUUID(timeLow: 2, timeMid: 3, timeHiAndVersion: 4, clockSeqAndNode: (0, 0, 0, 0, 0, 0, 0, 0))),
        "myprop.hello": .string("hello property, larger than 80 characters, so that it checks that it is not truncated by anything in the source code which may be wrong"),
        "myprop.binaryblock": .binary(Array("Hello world!".utf8)),
        "myprop.binaryblock.1byte-ones": .binary([0xFF]),
        "myprop.binaryblock.2byte-ones": .binary([0xFF, 0xFF]),
        "myprop.binaryblock.3byte-ones": .binary([0xFF, 0xFF, 0xFF]),
        "myprop.binaryblock.4byte-ones": .binary([0xFF, 0xFF, 0xFF, 0xFF]),
        "myprop.binaryblock.empty1": .binary([]),
        "myprop.binaryblock.empty2": .binary([]),
        "myprop.binaryblock.empty3": .binary([]),
    ]

    enum PropertyKind { case bool, int, uuid, identity, string, binary }

    /// The properties the original's test_properties must retrieve, with their types.
    static let basicProperties: [(String, PropertyKind)] = [
        ("gpd.ta.appID", .uuid), ("gpd.ta.singleInstance", .bool), ("gpd.ta.multiSession", .bool),
        ("gpd.ta.instanceKeepAlive", .bool), ("gpd.ta.dataSize", .int), ("gpd.ta.stackSize", .int),
        ("gpd.ta.version", .string), ("gpd.ta.description", .string), ("gpd.client.identity", .identity),
        ("gpd.tee.apiversion", .string), ("gpd.tee.description", .string), ("gpd.tee.deviceID", .uuid),
        ("gpd.tee.systemTime.protectionLevel", .int), ("gpd.tee.TAPersistentTime.protectionLevel", .int),
        ("gpd.tee.arith.maxBigIntSize", .int), ("gpd.tee.cryptography.ecc", .bool),
        ("gpd.tee.trustedStorage.antiRollback.protectionLevel", .int), ("gpd.tee.trustedos.implementation.version", .string),
        ("gpd.tee.trustedos.implementation.binaryversion", .int), ("gpd.tee.trustedos.manufacturer", .string),
        ("gpd.tee.firmware.implementation.version", .string), ("gpd.tee.firmware.implementation.binaryversion", .int),
        ("gpd.tee.firmware.manufacturer", .string),
        ("myprop.true", .bool), ("myprop.42", .int), ("myprop.123", .uuid), ("myprop.1234", .identity), ("myprop.hello", .string),
        ("myprop.binaryblock", .binary), ("myprop.binaryblock.1byte-ones", .binary), ("myprop.binaryblock.2byte-ones", .binary),
        ("myprop.binaryblock.3byte-ones", .binary), ("myprop.binaryblock.4byte-ones", .binary), ("myprop.binaryblock.empty1", .binary),
        ("myprop.binaryblock.empty2", .binary), ("myprop.binaryblock.empty3", .binary),
    ]
}

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
/// MTE tags), or needs an API rproc-tee does not have (remote attestation), or is not ported
/// (BASIC: the original's own checks of properties, time, floats, the arithmetical API and its
/// allocator).
public final class OSTestTAImplementation: TrustedApplication {
    public static let properties = TAProperties(uuid: OSTestTA.uuid, dataSize: 900 * 1024, stackSize: 8 * 1024,
                                                description: "os_test (optee_test), OS features")
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
            // Client memory: readable by anyone's rules (ANY_OWNER), refused without it.
            try params.memref(0).checkAccessRights(0x1 | 0x4)
            // Without ANY_OWNER the same check must fail (the original wants ACCESS_DENIED;
            // GP and OP-TEE's core answer ACCESS_CONFLICT or ACCESS_DENIED: either is a refusal).
            let refused: Bool
            do {
                try params.memref(0).checkAccessRights(0x1)
                refused = false
            } catch {
                refused = error == .accessConflict || error == .accessDenied
            }
            guard refused else { throw .generic }
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

        case .basic, .callLib, .callLibPanic, .callLibDL, .callLibDLPanic, .getGlobalVar,
             .dlPhdr, .dlPhdrDL, .attestation, .memtagUseAfterFree, .memtagInvalidTag, .memtagDoubleFree, .memtagBufferOverrun:
            tee.log("os_test: command \(command) is not ported (see OSTestTAImplementation)")
            throw .notSupported
        }
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

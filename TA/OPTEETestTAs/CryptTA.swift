import OPTEETestTAInterface
import TEEInternalAPI

/// optee_test's `crypt` TA in Swift: the GP crypto API one command per function, so xtest's
/// 1004 and 4000 series drive rproc-tee's TEEInternalAPI from the normal world. Written from
/// what the original (`ta/crypt/cryp_taf.c`, `ta_entry.c`) does:
///
/// - operations and transient objects live in per-instance tables; a handle is its 1-based slot
///   (0 is TEE_HANDLE_NULL) and a handle that names nothing is a panic, as in the original;
/// - a command's parameter types are checked after its handles are looked up (so a bad handle
///   panics even with wrong types — the original's order);
/// - GP functions that return nothing (`TEE_CipherInit`, `TEE_DigestUpdate`, …) panic on misuse,
///   which the client sees as TARGET_DEAD.
///
/// Multi-instance like the original (TA_FLAGS 0): each session has its own tables.
public final class CryptTAImplementation: TrustedApplication {
    public static let properties = TAProperties(uuid: CryptTA.uuid, dataSize: 32 * 1024, stackSize: 32 * 1024,
                                                description: "crypt (optee_test), GP crypto API driver")

    /// Slots each table may grow to. Attacker: a client allocating operations or objects in a
    /// loop; past this the TA panics with OUT_OF_MEMORY, as the original does when its table
    /// cannot grow. (The host's data limit bounds the keys themselves.)
    static let maxHandles = 1024

    private let tee: TEE
    private var operations: [CryptoOperation?] = []
    private var objects: [TransientObject?] = []
    private var global: UInt32 = 0

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
    }

    // MARK: Handles

    private func put<T: AnyObject>(_ item: T, in table: inout [T?]) -> UInt32 {
        if let free = table.firstIndex(where: { $0 == nil }) {
            table[free] = item
            return UInt32(free + 1)
        }
        guard table.count < Self.maxHandles else { tee.panic(TEEResult.outOfMemory.rawValue, "crypt TA: more than \(Self.maxHandles) handles") }
        table.append(item)
        return UInt32(table.count)
    }

    /// The item a handle names; nil for TEE_HANDLE_NULL. Attacker: the client names any value —
    /// checked against the table; an unknown handle panics (BAD_PARAMETERS), as in the original.
    private func lookup<T: AnyObject>(_ handle: UInt32, in table: [T?]) -> T? {
        guard handle != 0 else { return nil }
        guard handle <= table.count, let item = table[Int(handle - 1)] else {
            tee.panic(TEEResult.badParameters.rawValue, "crypt TA: invalid handle 0x\(String(handle, radix: 16))")
        }
        return item
    }

    private func remove<T: AnyObject>(_ handle: UInt32, from table: inout [T?]) -> T? {
        let item = lookup(handle, in: table)
        if handle != 0 { table[Int(handle - 1)] = nil }
        return item
    }

    private func operation(_ handle: UInt32) -> CryptoOperation {
        guard let op = lookup(handle, in: operations) else { tee.panic(0, "crypt TA: TEE_HANDLE_NULL as an operation") }
        return op
    }

    private func object(_ handle: UInt32) -> TransientObject {
        guard let o = lookup(handle, in: objects) else { tee.panic(0, "crypt TA: TEE_HANDLE_NULL as an object") }
        return o
    }

    // MARK: Entry point

    public func invoke(_ session: Void, command: UInt32, _ params: inout Parameters) throws(TEEResult) {
        guard let command = CryptTA.Command(rawValue: command) else { throw .badParameters }
        switch command {
        case .sha224, .sha256:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let algorithm: Algorithm = command == .sha224 ? .sha224 : .sha256
            let size = command == .sha224 ? 28 : 32
            guard params.memref(1).capacity >= size else { throw .badParameters }
            let op = try CryptoOperation(algorithm: algorithm, mode: .digest)
            let digest = op.digestDoFinal(try params.memref(0).read())
            try params.withMemref(1) { (m) throws(TEEResult) in try m.write(digest) }

        case .aes256ECBEncrypt, .aes256ECBDecrypt:
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            let input = try params.memref(0).read()
            // The original runs whole blocks of the input into the output; here the output must
            // hold them (the original would write past a shorter one).
            let whole = input.count / 16 * 16
            guard params.memref(1).capacity >= whole else { throw .badParameters }
            let op = try CryptoOperation(algorithm: .aesECBNoPad, mode: command == .aes256ECBEncrypt ? .encrypt : .decrypt, maxKeySize: 256)
            let key = try TransientObject(type: .aes, maxKeySize: 256)
            try key.populate([.ref(AttributeID.secretValue, (0..<32).map { UInt8($0) })])
            op.setKey(key)
            try op.cipherInit(iv: [])
            var length = whole
            let out = try op.cipherDoFinal(Array(input.prefix(whole)), outputLength: &length)
            try params.withMemref(1) { (m) throws(TEEResult) in
                try m.write(out)
                m.size = m.capacity   // the original leaves the size as given
            }

        case .allocateOperation:
            try params.require(ParamTypes(.valueInout, .valueInput))
            let (_, algorithm) = params.value(0)
            let (rawMode, maxKeySize) = params.value(1)
            guard let mode = OperationMode(rawValue: rawMode) else { throw .notSupported }
            let op = try CryptoOperation(algorithm: Algorithm(rawValue: algorithm), mode: mode, maxKeySize: Int(maxKeySize))
            params.setValue(0, a: put(op, in: &operations), b: algorithm)

        case .freeOperation:
            _ = remove(params.value(0).a, from: &operations)
            try params.require(ParamTypes(.valueInput))

        case .getOperationInfo:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefOutput))
            let info = op.reportedInfo.encoded
            try params.withMemref(1) { (m) throws(TEEResult) in
                guard m.capacity >= info.count else { throw .shortBuffer }
                try m.write(info)
            }

        case .resetOperation:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput))
            op.reset()

        case .setOperationKey:
            let op = operation(params.value(0).a)
            let key = lookup(params.value(0).b, in: objects)
            try params.require(ParamTypes(.valueInput))
            try op.setOperationKey(key)

        case .setOperationKey2:
            let op = operation(params.value(0).a)
            let key1 = lookup(params.value(0).b, in: objects)
            let key2 = lookup(params.value(1).a, in: objects)
            try params.require(ParamTypes(.valueInput, .valueInput))
            try op.setOperationKey2(key1, key2)

        case .copyOperation:
            let destination = operation(params.value(0).a)
            let source = operation(params.value(0).b)
            try params.require(ParamTypes(.valueInput))
            destination.copy(from: source)

        case .digestUpdate:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput))
            op.digestUpdate(try params.memref(1).read())

        case .digestDoFinal:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefOutput))
            let chunk = try params.memref(1).read()
            try params.produceOutput(at: 2) { (length) throws(TEEResult) in try op.digestDoFinal(chunk, outputLength: &length) }

        case .digestExtract:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefOutput))
            try params.produceOutput(at: 1) { (length) throws(TEEResult) in op.digestExtract(outputLength: &length) }

        case .cipherInit, .macInit:
            let op = operation(params.value(0).a)
            let iv: [UInt8]
            if params.types == ParamTypes(.valueInput) {
                iv = []
            } else if params.types == ParamTypes(.valueInput, .memrefInput) {
                iv = try params.memref(1).read()
            } else {
                throw .badParameters
            }
            if command == .cipherInit {
                // TEE_CipherInit returns nothing: an IV the algorithm cannot take is a panic.
                do { try op.cipherInit(iv: iv) } catch { tee.panic(error.rawValue, "TEE_CipherInit: an IV of \(iv.count) bytes") }
            } else {
                op.macInit(iv: iv)
            }

        case .cipherUpdate, .cipherDoFinal:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefOutput))
            let input = try params.memref(1).read()
            try params.produceOutput(at: 2) { (length) throws(TEEResult) in
                command == .cipherUpdate ? try op.cipherUpdate(input, outputLength: &length) : try op.cipherDoFinal(input, outputLength: &length)
            }

        case .macUpdate:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput))
            op.macUpdate(try params.memref(1).read())

        case .macFinalCompute:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefOutput))
            let message = try params.memref(1).read()
            try params.produceOutput(at: 2) { (length) throws(TEEResult) in try op.macComputeFinal(message, outputLength: &length) }

        case .macFinalCompare:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput))
            try op.macCompareFinal(try params.memref(1).read(), expected: try params.memref(2).read())

        case .allocateTransientObject:
            try params.require(ParamTypes(.valueInput, .valueOutput))
            let (type, maxSize) = params.value(0)
            let o = try TransientObject(type: ObjectType(rawValue: type), maxKeySize: Int(maxSize))
            params.setValue(1, a: put(o, in: &objects))

        case .freeTransientObject:
            _ = remove(params.value(0).a, from: &objects)
            try params.require(ParamTypes(.valueInput))

        case .resetTransientObject:
            let o = lookup(params.value(0).a, in: objects)
            try params.require(ParamTypes(.valueInput))
            o?.reset()

        case .populateTransientObject:
            let o = object(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput))
            try o.populate(try Self.unpackAttributes(params.memref(1).read()))

        case .copyObjectAttributes:
            let destination = object(params.value(0).a)
            let source = object(params.value(0).b)
            try params.require(ParamTypes(.valueInput))
            destination.copyAttributes(from: source)

        case .generateKey:
            let o = object(params.value(0).a)
            let bits = params.value(0).b
            try params.require(ParamTypes(.valueInput, .memrefInput))
            let attributes = try Self.unpackAttributes(params.memref(1).read())
            try o.generateKey(size: Int(bits), attributes: attributes)

        case .asymmetricEncrypt, .asymmetricDecrypt, .asymmetricSignDigest:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput, .memrefOutput))
            let attributes = try Self.unpackAttributes(params.memref(1).read())
            let input = try params.memref(2).read()
            try params.produceOutput(at: 3) { (length) throws(TEEResult) in
                switch command {
                case .asymmetricEncrypt: try op.asymmetricEncrypt(input, params: attributes, outputLength: &length)
                case .asymmetricDecrypt: try op.asymmetricDecrypt(input, params: attributes, outputLength: &length)
                default: try op.signDigest(input, params: attributes, outputLength: &length)
                }
            }

        case .asymmetricVerifyDigest:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefInput, .memrefInput))
            let attributes = try Self.unpackAttributes(params.memref(1).read())
            try op.verifyDigest(try params.memref(2).read(), signature: try params.memref(3).read(), params: attributes)

        case .deriveKey:
            let op = operation(params.value(0).a)
            let derived = object(params.value(0).b)
            try params.require(ParamTypes(.valueInput, .memrefInput))
            op.deriveKey(try Self.unpackAttributes(params.memref(1).read()), into: derived)

        case .randomNumberGenerate:
            try params.require(ParamTypes(.memrefOutput))
            let count = params.memref(0).capacity
            let bytes = tee.randomBytes(count)
            try params.withMemref(0) { (m) throws(TEEResult) in try m.write(bytes) }

        case .aeInit:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput, .valueInput))
            let tagBytes = params.value(0).b
            // The client's tag length (bytes), bounded before it is multiplied into bits.
            guard tagBytes <= 64 else { throw .notSupported }
            let (aadLength, payloadLength) = params.value(2)
            try op.aeInit(nonce: try params.memref(1).read(), tagBits: Int(tagBytes) * 8, aadLength: Int(aadLength), payloadLength: Int(payloadLength))

        case .aeUpdateAAD:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput))
            op.aeUpdateAAD(try params.memref(1).read())

        case .aeUpdate:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefOutput))
            let input = try params.memref(1).read()
            try params.produceOutput(at: 2) { (length) throws(TEEResult) in try op.aeUpdate(input, outputLength: &length) }

        case .aeEncryptFinal:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefOutput, .memrefOutput))
            let input = try params.memref(1).read()
            var length = params.memref(2).capacity, tagLength = params.memref(3).capacity
            do {
                let (data, tag) = try op.aeEncryptFinal(input, outputLength: &length, tagLength: &tagLength)
                try params.withMemref(2) { (m) throws(TEEResult) in try m.write(data) }
                try params.withMemref(3) { (m) throws(TEEResult) in try m.write(tag) }
            } catch {
                try params.withMemref(2) { (m) throws(TEEResult) in m.size = length }
                try params.withMemref(3) { (m) throws(TEEResult) in m.size = tagLength }
                throw error
            }

        case .aeDecryptFinal:
            let op = operation(params.value(0).a)
            try params.require(ParamTypes(.valueInput, .memrefInput, .memrefOutput, .memrefInput))
            let input = try params.memref(1).read(), tag = try params.memref(3).read()
            try params.produceOutput(at: 2) { (length) throws(TEEResult) in try op.aeDecryptFinal(input, tag: tag, outputLength: &length) }

        case .getObjectBufferAttribute:
            let o = object(params.value(0).a)
            let id = params.value(0).b
            try params.require(ParamTypes(.valueInput, .memrefOutput))
            try params.produceOutput(at: 1) { (length) throws(TEEResult) in try o.bufferAttribute(id, length: &length) }

        case .getObjectValueAttribute:
            let o = object(params.value(0).a)
            let id = params.value(0).b
            try params.require(ParamTypes(.valueInput, .valueOutput))
            let (a, b) = try o.valueAttribute(id)
            params.setValue(1, a: a, b: b)

        case .setGlobal:
            try params.require(ParamTypes(.valueInput))
            global = params.value(0).a

        case .getGlobal:
            try params.require(ParamTypes(.valueOutput))
            params.setValue(0, a: global)

        case .isAlgorithmSupported:
            try params.require(ParamTypes(.valueInput, .valueOutput))
            let (algorithm, element) = params.value(0)
            params.setValue(1, a: TEE.isAlgorithmSupported(algorithm, element: element).rawValue)

        case .seedRNGPool:
            // The caller's bytes go to the system pseudo-TA as they are (its memref passed on).
            try params.require(ParamTypes(.memrefInput))
            guard params.memref(0).capacity > 0 else { throw .badParameters }
            try withSystemPTA { (system) throws(TEEResult) in try system.call(SystemPTAInterface.Command.addRNGEntropy.rawValue, &params) }

        case .deriveTAUniqueKey:
            try params.require(ParamTypes())
            try withSystemPTA { (system) throws(TEEResult) in try Self.checkUniqueKeys(system) }

        case .deriveTAUniqueKeySHM:
            // The client's own memory as the key's destination: the pseudo-TA must refuse it.
            try params.require(ParamTypes(.memrefInput, .memrefOutput))
            try withSystemPTA { (system) throws(TEEResult) in try system.call(SystemPTAInterface.Command.deriveTAUniqueKey.rawValue, &params) }
        }
    }

    // MARK: The system pseudo-TA

    private func withSystemPTA(_ body: (TASession) throws(TEEResult) -> Void) throws(TEEResult) {
        let system = try tee.session(to: SystemPTAInterface.uuid)
        defer { system.close() }
        try body(system)
    }

    /// One key of `size` bytes, with `extra` data or none (a NULL memref).
    private static func derive(_ system: TASession, size: Int, extra: [UInt8]?) throws(TEEResult) -> [UInt8] {
        let input = extra.map { MemoryReference.privateInput($0) } ?? MemoryReference(buffer: nil, offset: 0, size: 0, direction: .memrefInput)
        var p = Parameters(types: ParamTypes(.memrefInput, .memrefOutput), params: [.memref(input), .memref(.privateOutput(capacity: size)), .none, .none])
        try system.call(SystemPTAInterface.Command.deriveTAUniqueKey.rawValue, &p)
        return try p.memref(1).written()
    }

    /// The original's checks: the same input gives the same key, with and without extra data;
    /// extra data gives another key; 1,025 bytes of extra data and keys outside 16…32 bytes are
    /// refused. GENERIC if any fails.
    private static func checkUniqueKeys(_ system: TASession) throws(TEEResult) {
        let extra = Array("My dummy data\0".utf8)
        var ok = true
        do {
            let plain = try derive(system, size: 32, extra: nil), plainAgain = try derive(system, size: 32, extra: nil)
            let mixed = try derive(system, size: 32, extra: extra), mixedAgain = try derive(system, size: 32, extra: extra)
            ok = plain == plainAgain && mixed == mixedAgain && mixed != plain
        } catch {
            ok = false
        }
        var large = [UInt8](repeating: 0, count: SystemPTAInterface.maxExtraData + 1)
        large.replaceSubrange(0..<extra.count, with: extra)
        if (try? derive(system, size: 32, extra: large)) != nil { ok = false }
        for size in 0..<64 {
            let derived = try? derive(system, size: size, extra: size % 2 == 1 ? extra : nil)
            if (derived != nil) != SystemPTAInterface.derivedKeySizes.contains(size) { ok = false }
        }
        guard ok else { throw .generic }
    }

    /// Decodes the packed attribute list (`CryptTA.packAttributes`). Attacker: the normal-world
    /// client writes every byte — the count is checked against the buffer before anything is
    /// sized by it, and each (offset, length) is checked without overflow against the buffer's
    /// end; a violation is BAD_PARAMETERS, as in the original.
    public static func unpackAttributes(_ buffer: [UInt8]) throws(TEEResult) -> [Attribute] {
        guard !buffer.isEmpty else { return [] }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(buffer[at + $1]) << (8 * $1) } }
        guard buffer.count >= 4 else { throw .badParameters }
        let count = Int(u32(0))
        guard count <= (buffer.count - 4) / 12 else { throw .badParameters }
        var attributes: [Attribute] = []
        attributes.reserveCapacity(count)
        for n in 0..<count {
            let at = 4 + 12 * n
            let id = u32(at), a = u32(at + 4), b = u32(at + 8)
            if AttributeID.isValue(id) {
                attributes.append(.value(id, a: a, b: b))
                continue
            }
            let offset = Int(a), length = Int(b)
            if offset == 0 {
                // The original's NULL buffer: no bytes (a length with it is what GP calls a NULL
                // reference; there is nothing to read).
                attributes.append(.ref(id, []))
                continue
            }
            guard offset <= buffer.count, length <= buffer.count - offset else { throw .badParameters }
            attributes.append(.ref(id, Array(buffer[offset..<(offset + length)])))
        }
        return attributes
    }
}

import OPTEETestTAInterface
import TEEInternalAPI

/// optee_test's `crypt` TA in Swift: the GP crypto API one command per function, so xtest's
/// 1004, 4000 and 4100 (arithmetical API, `arith_taf.c`) series drive rproc-tee's
/// TEEInternalAPI from the normal world. Written from
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
    private var operations = HandleTable<CryptoOperation>(limit: maxHandles)
    private var objects = HandleTable<TransientObject>(limit: maxHandles)
    private var global: UInt32 = 0
    /// Big integers, FMM contexts and FMM variables of the arithmetic commands.
    private var arith: [AnyObject?] = []

    public init(tee: TEE) throws(TEEResult) {
        self.tee = tee
    }

    // MARK: Handles

    /// A handle for `item`; a full table panics with OUT_OF_MEMORY, as the original when its
    /// table cannot grow.
    private func put<T: AnyObject>(_ item: T, in table: inout HandleTable<T>) -> UInt32 {
        guard let handle = table.insert(item) else { tee.panic(TEEResult.outOfMemory.rawValue, "crypt TA: more than \(Self.maxHandles) handles") }
        return handle
    }

    /// The item a handle names; nil for TEE_HANDLE_NULL; an unknown handle panics (as in the
    /// original).
    private func lookup<T: AnyObject>(_ handle: UInt32, in table: HandleTable<T>) -> T? { table.lookup(handle, tee, "crypt TA") }

    private func remove<T: AnyObject>(_ handle: UInt32, from table: inout HandleTable<T>) -> T? { table.remove(handle, tee, "crypt TA") }

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

        case .arithNewVar, .arithNewFMMContext, .arithNewFMMVar, .arithFreeHandle, .arithFromOctetString, .arithFromS32,
             .arithGetValue, .arithGetValueS32, .arithGetBit, .arithGetBitCount, .arithShiftRight, .arithCmp, .arithCmpS32,
             .arithAdd, .arithSub, .arithMul, .arithNeg, .arithSqr, .arithDiv, .arithMod, .arithAddMod, .arithSubMod,
             .arithMulMod, .arithSqrMod, .arithInvMod, .arithIsRelativePrime, .arithComputeEGCD, .arithIsPrime,
             .arithToFMM, .arithFromFMM, .arithComputeFMM, .arithAbs, .arithSetBit, .arithAssign, .arithExpMod:
            try arithmetic(command, &params)

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

    // MARK: Arithmetic (the original's arith_taf.c)

    /// A new handle for `item` of `kind`. Attacker: a client allocating in a loop — bounded by
    /// `maxHandles` (OUT_OF_MEMORY, as the original when its table cannot grow).
    private func arithHandle(_ item: AnyObject, kind: UInt32) throws(TEEResult) -> UInt32 {
        if let free = arith.firstIndex(where: { $0 == nil }) {
            arith[free] = item
            return UInt32(free) | kind
        }
        guard arith.count < Self.maxHandles else { throw .outOfMemory }
        arith.append(item)
        return UInt32(arith.count - 1) | kind
    }

    /// What `handle` names if it is of `kind`. Attacker: the client names any value — its kind
    /// bits and slot are checked against the table; anything else is BAD_PARAMETERS (the
    /// original's answer, not a panic).
    private func arithItem<T: AnyObject>(_ handle: UInt32, kind: UInt32, as type: T.Type) throws(TEEResult) -> T {
        guard handle & CryptTA.ArithHandle.kindMask == kind else { throw .badParameters }
        let slot = Int(handle & ~CryptTA.ArithHandle.kindMask)
        guard slot < arith.count, let item = arith[slot] as? T else { throw .badParameters }
        return item
    }

    private func bigInt(_ handle: UInt32) throws(TEEResult) -> TEEBigInt { try arithItem(handle, kind: CryptTA.ArithHandle.bigInt, as: TEEBigInt.self) }
    private func fmmVar(_ handle: UInt32) throws(TEEResult) -> TEEBigIntFMM { try arithItem(handle, kind: CryptTA.ArithHandle.fmmVar, as: TEEBigIntFMM.self) }
    private func fmmContext(_ handle: UInt32) throws(TEEResult) -> TEEBigIntFMMContext { try arithItem(handle, kind: CryptTA.ArithHandle.fmmContext, as: TEEBigIntFMMContext.self) }

    /// Bit counts a client asks a variable for. Attacker: the client — above GP's maximum the
    /// TA panics in TEE_BigIntInit, as a C TA does on OP-TEE.
    private static func bits(_ v: UInt32) -> Int { Int(v) }

    private func arithmetic(_ command: CryptTA.Command, _ params: inout Parameters) throws(TEEResult) {
        let inOut = ParamTypes(.valueInput, .valueOutput), inIn = ParamTypes(.valueInput, .valueInput)
        // Every arithmetic command starts with a value input; each case checks the rest of its
        // types before it reads another parameter (the original's CHECK_PT comes first).
        guard params.types[0] == .valueInput else { throw .badParameters }
        let p0 = params.value(0)
        switch command {
        case .arithNewVar:
            try params.require(inOut)
            params.setValue(1, a: try arithHandle(TEEBigInt(bits: Self.bits(p0.a)), kind: CryptTA.ArithHandle.bigInt))
        case .arithNewFMMContext:
            try params.require(inOut)
            let modulus = try bigInt(p0.b)
            params.setValue(1, a: try arithHandle(TEEBigIntFMMContext(bits: Self.bits(p0.a), modulus: modulus), kind: CryptTA.ArithHandle.fmmContext))
        case .arithNewFMMVar:
            try params.require(inOut)
            params.setValue(1, a: try arithHandle(TEEBigIntFMM(bits: Self.bits(p0.a)), kind: CryptTA.ArithHandle.fmmVar))
        case .arithFreeHandle:
            try params.require(ParamTypes(.valueInput))
            // The original frees by slot whatever the kind bits say.
            let slot = Int(p0.a & ~CryptTA.ArithHandle.kindMask)
            guard slot < arith.count, arith[slot] != nil else { throw .badParameters }
            arith[slot] = nil
        case .arithFromOctetString:
            try params.require(ParamTypes(.valueInput, .memrefInput))
            let v = try bigInt(p0.a)
            try v.setFromOctetString(try params.memref(1).read(), sign: Int32(bitPattern: p0.b))
        case .arithFromS32:
            try params.require(ParamTypes(.valueInput))
            try bigInt(p0.a).setFromS32(Int32(bitPattern: p0.b))
        case .arithGetValue:
            try params.require(ParamTypes(.valueInput, .valueOutput, .memrefOutput))
            let v = try bigInt(p0.a)
            params.setValue(1, a: UInt32(bitPattern: v.compare(0) < 0 ? -1 : 1))
            try params.produceOutput(at: 2) { (length) throws(TEEResult) in
                let bytes = v.octetString
                guard bytes.count <= length else {
                    length = bytes.count
                    throw .shortBuffer
                }
                return bytes
            }
        case .arithGetValueS32:
            try params.require(inOut)
            params.setValue(1, a: UInt32(bitPattern: try bigInt(p0.a).s32()))
        case .arithGetBit:
            try params.require(inOut)
            params.setValue(1, a: try bigInt(p0.a).bit(Int(p0.b)) ? 1 : 0)
        case .arithGetBitCount:
            try params.require(inOut)
            params.setValue(1, a: UInt32(try bigInt(p0.a).bitCount))
        case .arithSetBit:
            try params.require(inIn)
            try bigInt(p0.a).setBit(Int(p0.b), params.value(1).a != 0)
        case .arithShiftRight:
            try params.require(inIn)
            let op = try bigInt(p0.a)
            try bigInt(params.value(1).a).shiftRight(op, Int(p0.b))
        case .arithCmp:
            try params.require(inOut)
            params.setValue(1, a: UInt32(bitPattern: try bigInt(p0.a).compare(try bigInt(p0.b))))
        case .arithCmpS32:
            try params.require(inOut)
            params.setValue(1, a: UInt32(bitPattern: try bigInt(p0.a).compare(Int32(bitPattern: p0.b))))
        case .arithAdd, .arithSub, .arithMul, .arithMod, .arithSqrMod, .arithInvMod:
            try params.require(inIn)
            let a = try bigInt(p0.a), b = try bigInt(p0.b), dest = try bigInt(params.value(1).a)
            switch command {
            case .arithAdd: dest.add(a, b)
            case .arithSub: dest.subtract(a, b)
            case .arithMul: dest.multiply(a, b)
            case .arithMod: dest.mod(a, b)
            case .arithSqrMod: dest.squareMod(a, b)
            default: dest.inverseMod(a, b)
            }
        case .arithNeg, .arithSqr, .arithAbs, .arithAssign:
            try params.require(ParamTypes(.valueInput))
            let a = try bigInt(p0.a), dest = try bigInt(p0.b)
            switch command {
            case .arithNeg: dest.negate(a)
            case .arithSqr: dest.square(a)
            case .arithAbs: try dest.setAbsolute(a)
            default: try dest.assign(a)
            }
        case .arithDiv:
            try params.require(inIn)
            let a = try bigInt(p0.a), b = try bigInt(p0.b), q = try bigInt(params.value(1).a), r = try bigInt(params.value(1).b)
            TEEBigInt.divide(quotient: q, remainder: r, a, b)
        case .arithAddMod, .arithSubMod, .arithMulMod:
            try params.require(inIn)
            let a = try bigInt(p0.a), b = try bigInt(p0.b), n = try bigInt(params.value(1).a), dest = try bigInt(params.value(1).b)
            switch command {
            case .arithAddMod: dest.addMod(a, b, n)
            case .arithSubMod: dest.subtractMod(a, b, n)
            default: dest.multiplyMod(a, b, n)
            }
        case .arithIsRelativePrime:
            try params.require(inOut)
            params.setValue(1, a: TEEBigInt.relativelyPrime(try bigInt(p0.a), try bigInt(p0.b)) ? 1 : 0)
        case .arithComputeEGCD:
            try params.require(ParamTypes(.valueInput, .valueInput, .valueInput))
            let a = try bigInt(p0.a), b = try bigInt(p0.b), gcd = try bigInt(params.value(2).a)
            let (hu, hv) = params.value(1)
            let u = hu == CryptTA.ArithHandle.invalid ? nil : try bigInt(hu)
            let v = hv == CryptTA.ArithHandle.invalid ? nil : try bigInt(hv)
            TEEBigInt.extendedGCD(gcd: gcd, u: u, v: v, a, b)
        case .arithIsPrime:
            try params.require(inOut)
            params.setValue(1, a: UInt32(bitPattern: try bigInt(p0.a).isProbablePrime(confidenceLevel: p0.b)))
        case .arithToFMM:
            try params.require(inIn)
            let src = try bigInt(p0.a), n = try bigInt(p0.b), context = try fmmContext(params.value(1).a), dest = try fmmVar(params.value(1).b)
            TEEBigInt.convertToFMM(dest, src, n, context)
        case .arithFromFMM:
            try params.require(inIn)
            let src = try fmmVar(p0.a), n = try bigInt(p0.b), context = try fmmContext(params.value(1).a), dest = try bigInt(params.value(1).b)
            dest.setFromFMM(src, n, context)
        case .arithComputeFMM:
            try params.require(ParamTypes(.valueInput, .valueInput, .valueInput))
            let a = try fmmVar(p0.a), b = try fmmVar(p0.b), n = try bigInt(params.value(1).a)
            let context = try fmmContext(params.value(1).b), dest = try fmmVar(params.value(2).a)
            TEEBigInt.computeFMM(dest, a, b, n, context)
        case .arithExpMod:
            try params.require(ParamTypes(.valueInput, .valueInput, .valueInput))
            let a = try bigInt(p0.a), e = try bigInt(p0.b), n = try bigInt(params.value(1).a), dest = try bigInt(params.value(2).a)
            // The context is optional, as in the original (an unknown one is simply not used).
            let context = try? fmmContext(params.value(1).b)
            try dest.expMod(a, e, n, context: context)
        default:
            tee.panic(TEEResult.badParameters.rawValue, "crypt TA: \(command) is not an arithmetic command")
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

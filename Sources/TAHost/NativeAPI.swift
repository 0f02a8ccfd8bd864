#if canImport(Glibc)
import Glibc
#endif
import CTAHostABI
import TEEInternalAPI
import TEETransport

/// What libutee.so's calls reach in a TA host that runs a native (C) TA: each GP function on the
/// same Internal API a Swift TA uses, with the C TA's handles as ids into one table.
///
/// The TA is not trusted here either. A handle is an id this table gave out and checks on every
/// use: an unknown one, or one of the wrong kind, is a TEE_Panic (GP's answer), never a pointer
/// the host follows. Lengths the TA passes bound what is read from its memory; a pointer it
/// passes that is not its memory ends its own process (it is the TA's process), like a fault
/// in OP-TEE's user mode ends the TA.
final class NativeAPI: @unchecked Sendable {
    // @unchecked: used on the TA's entry-point thread only (libutee's calls come from the TA,
    // whose entry points the core never runs concurrently).
    nonisolated(unsafe) static var shared: NativeAPI?

    let host: HostProcess
    /// The instance's TEE, once it exists (libutee's calls before — a constructor's trace —
    /// may only log).
    var tee: TEE?
    private var items: [UInt64: AnyObject] = [:]
    private var nextHandle: UInt64 = 0x1000

    /// Attacker: a TA that allocates in a loop. Past this many live handles an allocation
    /// answers OUT_OF_MEMORY.
    static let maxHandles = 1 << 16
    /// Attacker: the TA's counts and lengths. An attribute list longer than this, or one
    /// attribute's buffer longer than `maxInput`, is a panic (nothing in GP needs more).
    static let maxAttributes = 64
    static let maxInput = 64 << 20

    init(host: HostProcess) {
        self.host = host
    }

    // MARK: Handles

    private func insert(_ item: AnyObject) throws(TEEResult) -> UInt64 {
        guard items.count < Self.maxHandles else { throw .outOfMemory }
        nextHandle += 1
        items[nextHandle] = item
        return nextHandle
    }

    private func item<T: AnyObject>(_ handle: UInt64, _ type: T.Type, _ function: String) -> T {
        guard let found = items[handle] as? T else {
            currentTEE.panic(TEEResult.badParameters.rawValue, "\(function): 0x\(String(handle, radix: 16)) is not a handle of this TA (\(T.self))")
        }
        return found
    }

    private func optionalItem<T: AnyObject>(_ handle: UInt64, _ type: T.Type, _ function: String) -> T? {
        handle == 0 ? nil : item(handle, type, function)
    }

    /// A key for an operation or a copy: a transient object, or a persistent key object's key.
    private func keyObject(_ handle: UInt64, _ function: String) throws(TEEResult) -> TransientObject? {
        guard handle != 0 else { return nil }
        switch items[handle] {
        case let transient as TransientObject: return transient
        case let persistent as PersistentObject: return try persistent.keyObject()
        default: currentTEE.panic(TEEResult.badParameters.rawValue, "\(function): 0x\(String(handle, radix: 16)) is not an object handle")
        }
    }

    private var currentTEE: TEE {
        guard let tee else { fatalError("rproc-tee: a native TA called the Internal API before its instance existed") }
        return tee
    }

    /// Frees what the TA still holds when its instance ends (persistent objects release their
    /// sharing locks in the core).
    func closeAll() {
        for (_, item) in items {
            (item as? PersistentObject)?.close()
            (item as? TASession)?.close()
        }
        items.removeAll()
    }

    // MARK: The door

    func call(_ fn: UInt32, _ c: inout rproc_tee_call) -> UInt32 {
        do throws(TEEResult) {
            try dispatch(fn, &c)
            return TEEResult.success.rawValue
        } catch {
            return error.rawValue
        }
    }

    private func dispatch(_ fn: UInt32, _ c: inout rproc_tee_call) throws(TEEResult) {
        let tee = currentTEE
        switch fn {
        case UInt32(RPROC_TEE_FN_PROPERTY_GET.rawValue): try property(&c)
        case UInt32(RPROC_TEE_FN_PROPENUM_ALLOCATE.rawValue): c.setValue(0, try insert(PropertyEnumerator()))
        case UInt32(RPROC_TEE_FN_PROPENUM_FREE.rawValue):
            if c.handle(0) != 0 {
                _ = item(c.handle(0), PropertyEnumerator.self, "TEE_FreePropertyEnumerator")
                items[c.handle(0)] = nil
            }
        case UInt32(RPROC_TEE_FN_PROPENUM_START.rawValue):
            let e = item(c.handle(0), PropertyEnumerator.self, "TEE_StartPropertyEnumerator")
            guard let set = Self.propertySet(c.handle(1)) else { tee.panic(TEEResult.badParameters.rawValue, "TEE_StartPropertyEnumerator: not a property set") }
            e.entries = tee.properties(set).all
            e.index = 0
        case UInt32(RPROC_TEE_FN_PROPENUM_RESET.rawValue):
            let e = item(c.handle(0), PropertyEnumerator.self, "TEE_ResetPropertyEnumerator")
            e.entries = nil
            e.index = 0
        case UInt32(RPROC_TEE_FN_PROPENUM_NAME.rawValue):
            let e = item(c.handle(0), PropertyEnumerator.self, "TEE_GetPropertyName")
            guard let (name, _) = e.current else { throw .itemNotFound }
            try c.produce(0) { (length) throws(TEEResult) in
                let bytes = Array(name.utf8) + [0]
                guard length >= bytes.count else { length = bytes.count; throw .shortBuffer }
                return bytes
            }
        case UInt32(RPROC_TEE_FN_PROPENUM_NEXT.rawValue):
            let e = item(c.handle(0), PropertyEnumerator.self, "TEE_GetNextProperty")
            guard let entries = e.entries, e.index < entries.count else { throw .itemNotFound }
            e.index += 1
            guard e.index < entries.count else { throw .itemNotFound }

        case UInt32(RPROC_TEE_FN_TA_OPEN.rawValue):
            guard let uuid = Self.uuid(c.input(0)) else { tee.panic(TEEResult.badParameters.rawValue, "TEE_OpenTASession: no UUID") }
            var params = try NativeParams.toSwift(types: UInt32(truncatingIfNeeded: c.value(1)), c.out.0, "TEE_OpenTASession")
            let session: TASession
            do throws(TEEError) {
                session = try tee.openSession(uuid, &params, timeout: UInt32(truncatingIfNeeded: c.value(0)))
            } catch {
                NativeParams.back(params, into: c.out.0)
                c.setValue(3, UInt64(error.origin.rawValue))
                throw error.result
            }
            NativeParams.back(params, into: c.out.0)
            c.setValue(3, UInt64(ReturnOrigin.trustedApp.rawValue))
            do { c.setValue(2, try insert(session)) } catch {
                session.close()
                throw error
            }
        case UInt32(RPROC_TEE_FN_TA_INVOKE.rawValue):
            let session = item(c.value(0), TASession.self, "TEE_InvokeTACommand")
            var params = try NativeParams.toSwift(types: UInt32(truncatingIfNeeded: c.value(3)), c.out.0, "TEE_InvokeTACommand")
            do {
                try session.invoke(UInt32(truncatingIfNeeded: c.value(2)), &params, timeout: UInt32(truncatingIfNeeded: c.value(1)))
                NativeParams.back(params, into: c.out.0)
                c.setValue(4, UInt64(ReturnOrigin.trustedApp.rawValue))
            } catch {
                NativeParams.back(params, into: c.out.0)
                c.setValue(4, UInt64(error.origin.rawValue))
                throw error.result
            }
        case UInt32(RPROC_TEE_FN_TA_CLOSE.rawValue):
            item(c.value(0), TASession.self, "TEE_CloseTASession").close()
            items[c.value(0)] = nil
        case UInt32(RPROC_TEE_FN_CANCELLATION.rawValue):
            switch c.value(0) {
            case 0: c.setValue(1, tee.isCancelled ? 1 : 0)
            case 1: c.setValue(1, tee.setCancellationMasked(false) ? 1 : 0)
            default: c.setValue(1, tee.setCancellationMasked(true) ? 1 : 0)
            }
        case UInt32(RPROC_TEE_FN_WAIT.rawValue): try tee.wait(milliseconds: UInt32(truncatingIfNeeded: c.value(0)))
        case UInt32(RPROC_TEE_FN_TA_TIME_GET.rawValue):
            let time = try tee.taPersistentTimeWrapping()
            c.setValue(0, UInt64(time.seconds))
            c.setValue(1, UInt64(time.milliseconds))
            if time.overflowed { throw .overflow }
        case UInt32(RPROC_TEE_FN_TA_TIME_SET.rawValue):
            try tee.setTAPersistentTime(seconds: UInt32(truncatingIfNeeded: c.value(0)), milliseconds: UInt32(truncatingIfNeeded: c.value(1)))
        case UInt32(RPROC_TEE_FN_RANDOM.rawValue):
            let count = try c.capacity(0, "TEE_GenerateRandom")
            c.write(0, tee.randomBytes(count))
        case UInt32(RPROC_TEE_FN_SUPP_PLUGIN.rawValue):
            guard let uuid = Self.uuid(c.input(0)) else { throw .badParameters }
            var data = c.outContents(0)
            let length = try tee.invokeSupplicantPlugin(uuid, command: UInt32(truncatingIfNeeded: c.value(0)),
                                                        subCommand: UInt32(truncatingIfNeeded: c.value(1)), data: &data)
            c.write(0, Array(data.prefix(min(length, data.count))))
            c.setOutLength(0, length)

        case UInt32(RPROC_TEE_FN_OBJECT_ALLOCATE.rawValue):
            let object = try TransientObject(type: ObjectType(rawValue: UInt32(truncatingIfNeeded: c.value(0))), maxKeySize: Int(truncatingIfNeeded: c.value(1)))
            c.setValue(2, try insert(object))
        case UInt32(RPROC_TEE_FN_OBJECT_CLOSE.rawValue):
            switch items[c.handle(0)] {
            case is TransientObject: break
            case let persistent as PersistentObject: persistent.close()
            default: tee.panic(TEEResult.badParameters.rawValue, "TEE_CloseObject: 0x\(String(c.handle(0), radix: 16)) is not an object handle")
            }
            items[c.handle(0)] = nil
        case UInt32(RPROC_TEE_FN_OBJECT_RESET.rawValue): item(c.handle(0), TransientObject.self, "TEE_ResetTransientObject").reset()
        case UInt32(RPROC_TEE_FN_OBJECT_POPULATE.rawValue):
            let object = item(c.handle(0), TransientObject.self, "TEE_PopulateTransientObject")
            try object.populate(attributes(c, "TEE_PopulateTransientObject"))
        case UInt32(RPROC_TEE_FN_OBJECT_INFO.rawValue):
            switch items[c.handle(0)] {
            case let transient as TransientObject:
                let i = transient.info
                c.setInfo([i.objectType.rawValue, i.objectSize, i.maxObjectSize, i.objectUsage.rawValue].map(UInt64.init) + [0, 0, UInt64(i.handleFlags.rawValue)])
            case let persistent as PersistentObject:
                c.setInfo(Self.words(try persistent.info))
            default: tee.panic(TEEResult.badParameters.rawValue, "TEE_GetObjectInfo1: 0x\(String(c.handle(0), radix: 16)) is not an object handle")
            }
        case UInt32(RPROC_TEE_FN_OBJECT_RESTRICT.rawValue):
            let usage = KeyUsage(rawValue: UInt32(truncatingIfNeeded: c.value(0)))
            switch items[c.handle(0)] {
            case let transient as TransientObject: transient.restrictUsage(usage)
            case let persistent as PersistentObject: try persistent.restrictUsage(usage)
            default: tee.panic(TEEResult.badParameters.rawValue, "TEE_RestrictObjectUsage1: 0x\(String(c.handle(0), radix: 16)) is not an object handle")
            }
        case UInt32(RPROC_TEE_FN_OBJECT_BUFFER_ATTRIBUTE.rawValue):
            guard let object = try keyObject(c.handle(0), "TEE_GetObjectBufferAttribute") else { tee.panic(TEEResult.badParameters.rawValue, "TEE_GetObjectBufferAttribute: TEE_HANDLE_NULL") }
            let id = UInt32(truncatingIfNeeded: c.value(0))
            try c.produce(0) { (length) throws(TEEResult) in try object.bufferAttribute(id, length: &length) }
        case UInt32(RPROC_TEE_FN_OBJECT_VALUE_ATTRIBUTE.rawValue):
            guard let object = try keyObject(c.handle(0), "TEE_GetObjectValueAttribute") else { tee.panic(TEEResult.badParameters.rawValue, "TEE_GetObjectValueAttribute: TEE_HANDLE_NULL") }
            let (a, b) = try object.valueAttribute(UInt32(truncatingIfNeeded: c.value(0)))
            c.setValue(1, UInt64(a))
            c.setValue(2, UInt64(b))
        case UInt32(RPROC_TEE_FN_OBJECT_COPY_ATTRIBUTES.rawValue):
            let destination = item(c.handle(0), TransientObject.self, "TEE_CopyObjectAttributes1")
            guard let source = try keyObject(c.handle(1), "TEE_CopyObjectAttributes1") else { tee.panic(TEEResult.badParameters.rawValue, "TEE_CopyObjectAttributes1: TEE_HANDLE_NULL") }
            destination.copyAttributes(from: source)
        case UInt32(RPROC_TEE_FN_OBJECT_GENERATE.rawValue):
            let object = item(c.handle(0), TransientObject.self, "TEE_GenerateKey")
            try object.generateKey(size: Int(truncatingIfNeeded: c.value(0)), attributes: attributes(c, "TEE_GenerateKey"))

        case UInt32(RPROC_TEE_FN_PERSISTENT_OPEN.rawValue):
            let object = try tee.storage(UInt32(truncatingIfNeeded: c.value(0))).open(try c.idInput(0), flags: DataFlags(rawValue: UInt32(truncatingIfNeeded: c.value(1))))
            do { c.setValue(2, try insert(object)) } catch { object.close(); throw error }
        case UInt32(RPROC_TEE_FN_PERSISTENT_CREATE.rawValue):
            let key = try keyObject(c.handle(0), "TEE_CreatePersistentObject")
            let object = try tee.storage(UInt32(truncatingIfNeeded: c.value(0))).create(try c.idInput(0), flags: DataFlags(rawValue: UInt32(truncatingIfNeeded: c.value(1))), key: key,
                                                initialData: try c.boundedInput(1))
            if c.value(3) != 0 {
                do { c.setValue(2, try insert(object)) } catch { object.close(); throw error }
            } else {
                object.close()
            }
        case UInt32(RPROC_TEE_FN_PERSISTENT_DELETE.rawValue):
            let object = item(c.handle(0), PersistentObject.self, "TEE_CloseAndDeletePersistentObject1")
            items[c.handle(0)] = nil
            try object.closeAndDelete()
        case UInt32(RPROC_TEE_FN_PERSISTENT_RENAME.rawValue):
            try item(c.handle(0), PersistentObject.self, "TEE_RenamePersistentObject").rename(to: try c.idInput(0))
        case UInt32(RPROC_TEE_FN_OBJENUM_ALLOCATE.rawValue):
            c.setValue(0, try insert(PersistentObjectEnumerator(tee: tee)))
        case UInt32(RPROC_TEE_FN_OBJENUM_FREE.rawValue):
            _ = item(c.handle(0), PersistentObjectEnumerator.self, "TEE_FreePersistentObjectEnumerator")
            items[c.handle(0)] = nil
        case UInt32(RPROC_TEE_FN_OBJENUM_RESET.rawValue): item(c.handle(0), PersistentObjectEnumerator.self, "TEE_ResetPersistentObjectEnumerator").reset()
        case UInt32(RPROC_TEE_FN_OBJENUM_START.rawValue):
            try item(c.handle(0), PersistentObjectEnumerator.self, "TEE_StartPersistentObjectEnumerator").start(storageID: UInt32(truncatingIfNeeded: c.value(0)))
        case UInt32(RPROC_TEE_FN_OBJENUM_NEXT.rawValue):
            let (id, info) = try item(c.handle(0), PersistentObjectEnumerator.self, "TEE_GetNextPersistentObject").next()
            try c.produce(0) { (length) throws(TEEResult) in
                guard length >= id.count else { length = id.count; throw .shortBuffer }
                return id
            }
            c.setInfo(Self.words(info))
        case UInt32(RPROC_TEE_FN_DATA_READ.rawValue):
            let object = item(c.handle(0), PersistentObject.self, "TEE_ReadObjectData")
            c.write(0, try object.read(try c.capacity(0, "TEE_ReadObjectData")))
        case UInt32(RPROC_TEE_FN_DATA_WRITE.rawValue):
            try item(c.handle(0), PersistentObject.self, "TEE_WriteObjectData").write(try c.boundedInput(0))
        case UInt32(RPROC_TEE_FN_DATA_TRUNCATE.rawValue):
            let object = item(c.handle(0), PersistentObject.self, "TEE_TruncateObjectData")
            guard c.value(0) <= UInt64(UInt32.max) else { throw .overflow }
            try object.truncate(to: Int(c.value(0)))
        case UInt32(RPROC_TEE_FN_DATA_SEEK.rawValue):
            let object = item(c.handle(0), PersistentObject.self, "TEE_SeekObjectData")
            let whence: PersistentObject.Whence
            switch c.value(1) {
            case 0: whence = .set
            case 1: whence = .current
            case 2: whence = .end
            default: throw .badParameters
            }
            // The TA's signed 64-bit offset; positions past 32 bits are OVERFLOW in the object.
            let offset = Int64(bitPattern: c.value(0))
            guard offset >= Int64(Int32.min) * 2, offset <= Int64(UInt32.max) else { throw .overflow }
            try object.seek(Int(offset), from: whence)

        case UInt32(RPROC_TEE_FN_OPERATION_ALLOCATE.rawValue):
            guard let mode = OperationMode(rawValue: UInt32(truncatingIfNeeded: c.value(1))) else { throw .notSupported }
            let op = try CryptoOperation(algorithm: Algorithm(rawValue: UInt32(truncatingIfNeeded: c.value(0))), mode: mode,
                                         maxKeySize: Int(truncatingIfNeeded: c.value(2)))
            c.setValue(3, try insert(op))
        case UInt32(RPROC_TEE_FN_OPERATION_FREE.rawValue):
            _ = item(c.handle(0), CryptoOperation.self, "TEE_FreeOperation")
            items[c.handle(0)] = nil
        case UInt32(RPROC_TEE_FN_OPERATION_INFO.rawValue):
            let bytes = item(c.handle(0), CryptoOperation.self, "TEE_GetOperationInfo").reportedInfo.encoded
            c.setInfo((0..<8).map { i in UInt64(bytes[4 * i]) | UInt64(bytes[4 * i + 1]) << 8 | UInt64(bytes[4 * i + 2]) << 16 | UInt64(bytes[4 * i + 3]) << 24 })
        case UInt32(RPROC_TEE_FN_OPERATION_INFO_MULTIPLE.rawValue):
            let op = item(c.handle(0), CryptoOperation.self, "TEE_GetOperationInfoMultiple")
            let capacity = try c.capacity(0, "TEE_GetOperationInfoMultiple")
            c.write(0, try op.operationInfoMultiple(capacity: capacity).encoded)
        case UInt32(RPROC_TEE_FN_OPERATION_RESET.rawValue): item(c.handle(0), CryptoOperation.self, "TEE_ResetOperation").reset()
        case UInt32(RPROC_TEE_FN_OPERATION_SET_KEY.rawValue):
            let op = item(c.handle(0), CryptoOperation.self, "TEE_SetOperationKey")
            try op.setOperationKey(try keyObject(c.handle(1), "TEE_SetOperationKey"))
        case UInt32(RPROC_TEE_FN_OPERATION_SET_KEY2.rawValue):
            let op = item(c.handle(0), CryptoOperation.self, "TEE_SetOperationKey2")
            try op.setOperationKey2(try keyObject(c.handle(1), "TEE_SetOperationKey2"), try keyObject(c.handle(2), "TEE_SetOperationKey2"))
        case UInt32(RPROC_TEE_FN_OPERATION_COPY.rawValue):
            item(c.handle(0), CryptoOperation.self, "TEE_CopyOperation").copy(from: item(c.handle(1), CryptoOperation.self, "TEE_CopyOperation"))
        case UInt32(RPROC_TEE_FN_ALGORITHM_SUPPORTED.rawValue):
            let result = TEE.isAlgorithmSupported(UInt32(truncatingIfNeeded: c.value(0)), element: UInt32(truncatingIfNeeded: c.value(1)))
            guard result == .success else { throw result }

        case UInt32(RPROC_TEE_FN_DIGEST_UPDATE.rawValue): operation(c, "TEE_DigestUpdate").digestUpdate(try c.boundedInput(0))
        case UInt32(RPROC_TEE_FN_DIGEST_FINAL.rawValue):
            let op = operation(c, "TEE_DigestDoFinal"), chunk = try c.boundedInput(0)
            try c.produce(0) { (length) throws(TEEResult) in try op.digestDoFinal(chunk, outputLength: &length) }
        case UInt32(RPROC_TEE_FN_DIGEST_EXTRACT.rawValue):
            let op = operation(c, "TEE_DigestExtract")
            try c.produce(0) { (length) throws(TEEResult) in op.digestExtract(outputLength: &length) }
        case UInt32(RPROC_TEE_FN_CIPHER_INIT.rawValue): try operation(c, "TEE_CipherInit").cipherInit(iv: try c.boundedInput(0))
        case UInt32(RPROC_TEE_FN_CIPHER_UPDATE.rawValue):
            let op = operation(c, "TEE_CipherUpdate"), input = try c.boundedInput(0)
            try c.produce(0) { (length) throws(TEEResult) in try op.cipherUpdate(input, outputLength: &length) }
        case UInt32(RPROC_TEE_FN_CIPHER_FINAL.rawValue):
            let op = operation(c, "TEE_CipherDoFinal"), input = try c.boundedInput(0)
            try c.produce(0) { (length) throws(TEEResult) in try op.cipherDoFinal(input, outputLength: &length) }
        case UInt32(RPROC_TEE_FN_MAC_INIT.rawValue): operation(c, "TEE_MACInit").macInit(iv: try c.boundedInput(0))
        case UInt32(RPROC_TEE_FN_MAC_UPDATE.rawValue): operation(c, "TEE_MACUpdate").macUpdate(try c.boundedInput(0))
        case UInt32(RPROC_TEE_FN_MAC_COMPUTE.rawValue):
            let op = operation(c, "TEE_MACComputeFinal"), input = try c.boundedInput(0)
            try c.produce(0) { (length) throws(TEEResult) in try op.macComputeFinal(input, outputLength: &length) }
        case UInt32(RPROC_TEE_FN_MAC_COMPARE.rawValue):
            try operation(c, "TEE_MACCompareFinal").macCompareFinal(try c.boundedInput(0), expected: try c.boundedInput(1))
        case UInt32(RPROC_TEE_FN_AE_INIT.rawValue):
            // The TA's tag length in bits, bounded before it reaches the cipher.
            guard c.value(0) <= 1024, c.value(1) <= UInt64(Int32.max), c.value(2) <= UInt64(Int32.max) else { throw .notSupported }
            try operation(c, "TEE_AEInit").aeInit(nonce: try c.boundedInput(0), tagBits: Int(c.value(0)), aadLength: Int(c.value(1)), payloadLength: Int(c.value(2)))
        case UInt32(RPROC_TEE_FN_AE_AAD.rawValue): operation(c, "TEE_AEUpdateAAD").aeUpdateAAD(try c.boundedInput(0))
        case UInt32(RPROC_TEE_FN_AE_UPDATE.rawValue):
            let op = operation(c, "TEE_AEUpdate"), input = try c.boundedInput(0)
            try c.produce(0) { (length) throws(TEEResult) in try op.aeUpdate(input, outputLength: &length) }
        case UInt32(RPROC_TEE_FN_AE_ENCRYPT_FINAL.rawValue):
            let op = operation(c, "TEE_AEEncryptFinal"), input = try c.boundedInput(0)
            var length = try c.capacity(0, "TEE_AEEncryptFinal"), tagLength = try c.capacity(1, "TEE_AEEncryptFinal")
            do {
                let (data, tag) = try op.aeEncryptFinal(input, outputLength: &length, tagLength: &tagLength)
                c.write(0, data)
                c.write(1, tag)
            } catch {
                c.setOutLength(0, length)
                c.setOutLength(1, tagLength)
                throw error
            }
        case UInt32(RPROC_TEE_FN_AE_DECRYPT_FINAL.rawValue):
            let op = operation(c, "TEE_AEDecryptFinal"), input = try c.boundedInput(0), tag = try c.boundedInput(1)
            try c.produce(0) { (length) throws(TEEResult) in try op.aeDecryptFinal(input, tag: tag, outputLength: &length) }
        case UInt32(RPROC_TEE_FN_ASYMMETRIC_ENCRYPT.rawValue):
            let op = operation(c, "TEE_AsymmetricEncrypt"), input = try c.boundedInput(0), attrs = try attributes(c, "TEE_AsymmetricEncrypt")
            try c.produce(0) { (length) throws(TEEResult) in try op.asymmetricEncrypt(input, params: attrs, outputLength: &length) }
        case UInt32(RPROC_TEE_FN_ASYMMETRIC_DECRYPT.rawValue):
            let op = operation(c, "TEE_AsymmetricDecrypt"), input = try c.boundedInput(0), attrs = try attributes(c, "TEE_AsymmetricDecrypt")
            try c.produce(0) { (length) throws(TEEResult) in try op.asymmetricDecrypt(input, params: attrs, outputLength: &length) }
        case UInt32(RPROC_TEE_FN_SIGN_DIGEST.rawValue):
            let op = operation(c, "TEE_AsymmetricSignDigest"), input = try c.boundedInput(0), attrs = try attributes(c, "TEE_AsymmetricSignDigest")
            try c.produce(0) { (length) throws(TEEResult) in try op.signDigest(input, params: attrs, outputLength: &length) }
        case UInt32(RPROC_TEE_FN_VERIFY_DIGEST.rawValue):
            let op = operation(c, "TEE_AsymmetricVerifyDigest"), attrs = try attributes(c, "TEE_AsymmetricVerifyDigest")
            try op.verifyDigest(try c.boundedInput(0), signature: try c.boundedInput(1), params: attrs)
        case UInt32(RPROC_TEE_FN_DERIVE_KEY.rawValue):
            let op = operation(c, "TEE_DeriveKey"), attrs = try attributes(c, "TEE_DeriveKey")
            op.deriveKey(attrs, into: item(c.handle(1), TransientObject.self, "TEE_DeriveKey"))
        case UInt32(RPROC_TEE_FN_BIGINT.rawValue): try bigint(&c)
        case UInt32(RPROC_TEE_FN_LOAD_LIBRARY.rawValue):
            guard let raw = c.input(0), raw.count <= 64 else { throw .badParameters }
            let answer = host.request(.loadLibrary(name: String(decoding: raw, as: UTF8.self)))
            guard answer.result == .success else { throw answer.result }
            for name in answer.blobs {
                // The core sent one sealed image per name, in order, before it answered.
                guard let fd = HostDescriptors.receive(on: host.socket) else { exit(0) }
                guard HostSandbox.allowOpen(HostSandbox.brokerFolder + "/" + String(decoding: name, as: UTF8.self), fd: fd) else {
                    close(fd)
                    throw .outOfMemory
                }
            }
        default:
            tee.panic(TEEResult.notImplemented.rawValue, "libutee asked for function \(fn), which this host does not know (a libutee.so of another version?)")
        }
    }

    private func operation(_ c: rproc_tee_call, _ function: String) -> CryptoOperation { item(c.handle(0), CryptoOperation.self, function) }

    // MARK: Properties

    private static func propertySet(_ handle: UInt64) -> PropertySet? {
        switch handle {
        case 0xFFFF_FFFF: .currentTA
        case 0xFFFF_FFFE: .currentClient
        case 0xFFFF_FFFD: .implementation
        default: nil
        }
    }

    private func property(_ c: inout rproc_tee_call) throws(TEEResult) {
        let tee = currentTEE
        let name: String
        let reader: PropertyReader
        if let set = Self.propertySet(c.handle(0)) {
            guard let raw = c.input(0) else { tee.panic(TEEResult.badParameters.rawValue, "TEE_GetPropertyAs*: a NULL name") }
            name = String(decoding: raw, as: UTF8.self)
            reader = tee.properties(set)
        } else {
            // An enumerator: its current property (the name is ignored, as GP says).
            let e = item(c.handle(0), PropertyEnumerator.self, "TEE_GetPropertyAs*")
            guard let (current, value) = e.current else { throw .itemNotFound }
            name = current
            reader = PropertyReader([current: value])
        }
        switch UInt32(truncatingIfNeeded: c.value(0)) {
        case UInt32(RPROC_TEE_PROP_STRING.rawValue):
            let text = Array(try reader.string(name).utf8) + [0]
            try c.produce(0) { (length) throws(TEEResult) in
                guard length >= text.count else { length = text.count; throw .shortBuffer }
                return text
            }
        case UInt32(RPROC_TEE_PROP_BOOL.rawValue): c.setValue(1, try reader.bool(name) ? 1 : 0)
        case UInt32(RPROC_TEE_PROP_U32.rawValue): c.setValue(1, UInt64(try reader.u32(name)))
        case UInt32(RPROC_TEE_PROP_U64.rawValue): c.setValue(1, try reader.u64(name))
        case UInt32(RPROC_TEE_PROP_BINARY.rawValue):
            let bytes = try reader.binary(name)
            try c.produce(0) { (length) throws(TEEResult) in
                guard length >= bytes.count else { length = bytes.count; throw .shortBuffer }
                return bytes
            }
        case UInt32(RPROC_TEE_PROP_UUID.rawValue): c.write(0, Self.cUUID(try reader.uuid(name)))
        case UInt32(RPROC_TEE_PROP_IDENTITY.rawValue):
            let (login, uuid) = try reader.identity(name)
            c.setValue(1, UInt64(login.rawValue))
            c.write(0, Self.cUUID(uuid))
        default: throw .badParameters
        }
    }

    // MARK: Conversions

    /// A TEE_UUID as C lays it out (the first three fields in host byte order).
    static func cUUID(_ u: TEEUUID) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        withUnsafeBytes(of: u.timeLow) { out += $0 }
        withUnsafeBytes(of: u.timeMid) { out += $0 }
        withUnsafeBytes(of: u.timeHiAndVersion) { out += $0 }
        out += u.octets[8..<16]
        return out
    }

    /// A TEE_UUID from C's layout; nil unless exactly 16 bytes.
    static func uuid(_ bytes: [UInt8]?) -> TEEUUID? {
        guard let b = bytes, b.count == 16 else { return nil }
        func u16(_ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
        let low = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        return TEEUUID(timeLow: low, timeMid: u16(4), timeHiAndVersion: u16(6), clockSeqAndNode: (b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    private static func words(_ info: PersistentObjectInfo) -> [UInt64] {
        [UInt64(info.objectType.rawValue), UInt64(info.objectSize), UInt64(info.maxObjectSize), UInt64(info.objectUsage.rawValue),
         UInt64(info.dataSize), UInt64(info.dataPosition), UInt64(info.handleFlagsWord)]
    }

    /// The TA's TEE_Attribute array (GP 1.3 layout: id, then a pointer and a size_t length, or
    /// two 32-bit values), copied.
    private func attributes(_ c: rproc_tee_call, _ function: String) throws(TEEResult) -> [Attribute] {
        let count = Int(c.attr_count)
        guard count > 0 else { return [] }
        // Attacker: the TA's count and each attribute's length.
        guard count <= Self.maxAttributes, let base = c.attrs else {
            currentTEE.panic(TEEResult.badParameters.rawValue, "\(function): \(count) attributes")
        }
        var out: [Attribute] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let at = base + 24 * i
            let id = at.loadUnaligned(as: UInt32.self)
            if id & (1 << 29) != 0 {
                out.append(.value(id, a: at.loadUnaligned(fromByteOffset: 8, as: UInt32.self), b: at.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
            } else {
                let pointer = at.loadUnaligned(fromByteOffset: 8, as: UInt.self)
                let length = at.loadUnaligned(fromByteOffset: 16, as: UInt.self)
                guard length <= UInt(Self.maxInput), pointer != 0 || length == 0 else {
                    currentTEE.panic(TEEResult.badParameters.rawValue, "\(function): attribute 0x\(String(id, radix: 16)) of \(length) bytes")
                }
                let bytes = length == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: pointer), count: Int(length)))
                out.append(.ref(id, bytes))
            }
        }
        return out
    }
}

/// A property enumerator's position (GP: allocated, started on a set, walked with next).
final class PropertyEnumerator {
    var entries: [(name: String, value: PropertyValue)]?
    var index = 0

    var current: (String, PropertyValue)? {
        guard let entries, index < entries.count else { return nil }
        return entries[index]
    }
}

// MARK: The call's slots

extension rproc_tee_call {
    func handle(_ i: Int) -> UInt64 { withUnsafeBytes(of: handle) { $0.load(fromByteOffset: 8 * i, as: UInt64.self) } }
    func value(_ i: Int) -> UInt64 { withUnsafeBytes(of: value) { $0.load(fromByteOffset: 8 * i, as: UInt64.self) } }
    mutating func setValue(_ i: Int, _ v: UInt64) { withUnsafeMutableBytes(of: &value) { $0.storeBytes(of: v, toByteOffset: 8 * i, as: UInt64.self) } }

    mutating func setInfo(_ words: [UInt64]) {
        for (i, w) in words.prefix(8).enumerated() { setValue(i, w) }
    }

    private func inPointer(_ i: Int) -> (UnsafeRawPointer?, Int) {
        i == 0 ? (self.in.0, in_len.0) : (self.in.1, in_len.1)
    }

    /// Input `i` copied; nil for a NULL pointer.
    func input(_ i: Int) -> [UInt8]? {
        let (p, n) = inPointer(i)
        guard let p else { return nil }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: min(n, NativeAPI.maxInput)))
    }

    /// Input `i` copied, refused above `NativeAPI.maxInput` (attacker: the TA's length).
    func boundedInput(_ i: Int) throws(TEEResult) -> [UInt8] {
        let (p, n) = inPointer(i)
        guard n <= NativeAPI.maxInput else { throw .outOfMemory }
        guard let p, n > 0 else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: n))
    }

    /// An object id (at most 64 bytes, GP's TEE_OBJECT_ID_MAX_LEN: BAD_PARAMETERS past it).
    func idInput(_ i: Int) throws(TEEResult) -> [UInt8] {
        guard inPointer(i).1 <= TrustedStorage.maxObjectIDLength else { throw .badParameters }
        return try boundedInput(i)
    }

    private func outSlot(_ i: Int) -> (UnsafeMutableRawPointer?, Int) {
        i == 0 ? (out.0, out_len.0) : (out.1, out_len.1)
    }

    func outContents(_ i: Int) -> [UInt8] {
        let (p, n) = outSlot(i)
        guard let p, n > 0 else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: UnsafeRawPointer(p), count: min(n, NativeAPI.maxInput)))
    }

    /// Output `i`'s capacity (0 for a NULL buffer), bounded.
    func capacity(_ i: Int, _ function: String) throws(TEEResult) -> Int {
        let (p, n) = outSlot(i)
        guard p != nil else { return 0 }
        guard n <= NativeAPI.maxInput else { throw .outOfMemory }
        return n
    }

    mutating func setOutLength(_ i: Int, _ n: Int) {
        if i == 0 { out_len.0 = n } else { out_len.1 = n }
    }

    /// Writes `bytes` (at most the capacity) to output `i` and reports their length.
    mutating func write(_ i: Int, _ bytes: [UInt8]) {
        let (p, capacity) = outSlot(i)
        let n = min(bytes.count, capacity)
        if let p, n > 0 { bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: n) } }
        setOutLength(i, n)
    }

    /// A GP output function with output `i`'s capacity as its length: what it produced is
    /// written there; on failure (SHORT_BUFFER above all) the length it reported goes back.
    mutating func produce(_ i: Int, _ body: (inout Int) throws(TEEResult) -> [UInt8]) throws(TEEResult) {
        let (p, capacity) = outSlot(i)
        var length = p == nil ? 0 : min(capacity, NativeAPI.maxInput)
        let bytes: [UInt8]
        do { bytes = try body(&length) } catch {
            setOutLength(i, length)
            throw error
        }
        guard bytes.count <= capacity, p != nil || bytes.isEmpty else {
            setOutLength(i, bytes.count)
            throw TEEResult.shortBuffer
        }
        write(i, bytes)
    }
}

import TEECore

/// The interface of optee_test's `crypt` TA (`ta/crypt/include/ta_crypt.h`): its UUID and
/// command ids carry over, so xtest's host side drives rproc-tee's port unmodified. Operation
/// and object handles cross as 1-based table indexes in `value.a`/`value.b` (0 = TEE_HANDLE_NULL).
public enum CryptTA {
    public static let uuid: TEEUUID = "cb3e5ba0-adf1-11e0-998b-0002a5d5c51b"

    public enum Command: UInt32, CaseIterable, Sendable {
        /// [in] memref data, [out] memref digest (at least 28 / 32 bytes).
        case sha224 = 1, sha256 = 2
        /// [in] memref data, [out] memref result: AES-256 ECB with the TA's fixed key 00 01 … 1f.
        case aes256ECBEncrypt = 3, aes256ECBDecrypt = 4
        /// [inout] value a = handle out, b = algorithm; [in] value a = mode, b = maxKeySize.
        case allocateOperation = 5
        case freeOperation = 6
        /// [in] value a = operation; [out] memref TEE_OperationInfo (32 bytes).
        case getOperationInfo = 7
        case resetOperation = 8
        /// [in] value a = operation, b = key object (0: clear the key).
        case setOperationKey = 9
        /// [in] value a = operation, b = key 1; [in] value a = key 2.
        case setOperationKey2 = 10
        /// [in] value a = destination, b = source.
        case copyOperation = 11
        case digestUpdate = 12, digestDoFinal = 13
        case cipherInit = 14, cipherUpdate = 15, cipherDoFinal = 16
        case macInit = 17, macUpdate = 18, macFinalCompute = 19, macFinalCompare = 20
        /// [in] value a = object type, b = max object size; [out] value a = handle.
        case allocateTransientObject = 21
        case freeTransientObject = 22, resetTransientObject = 23
        /// [in] value a = object; [in] memref packed attributes.
        case populateTransientObject = 24
        /// [in] value a = destination, b = source.
        case copyObjectAttributes = 25
        /// [in] value a = object, b = key size; [in] memref packed attributes.
        case generateKey = 26
        /// [in] value a = operation; [in] memref packed attributes; [in] memref data; [out]/[in] memref.
        case asymmetricEncrypt = 27, asymmetricDecrypt = 28, asymmetricSignDigest = 29, asymmetricVerifyDigest = 30
        /// [in] value a = operation, b = derived-key object; [in] memref packed attributes.
        case deriveKey = 31
        /// [out] memref: filled with random bytes.
        case randomNumberGenerate = 32
        /// [in] value a = operation, b = tag length in bytes; [in] memref nonce; [in] value a = AAD length, b = payload length.
        case aeInit = 33
        case aeUpdateAAD = 34, aeUpdate = 35, aeEncryptFinal = 36, aeDecryptFinal = 37
        /// [in] value a = object, b = attribute id; [out] memref / [out] value a, b.
        case getObjectBufferAttribute = 38, getObjectValueAttribute = 39
        case setGlobal = 40, getGlobal = 41
        /// [in] memref: entropy for the system pseudo-TA's ADD_RNG_ENTROPY.
        case seedRNGPool = 45
        /// No parameters: the system pseudo-TA's DERIVE_TA_UNIQUE_KEY, checked in the TA (same
        /// input → same key, extra data → another key, the size limits).
        case deriveTAUniqueKey = 77
        /// [in] memref extra data, [out] memref key: passed on as they are (client memory: the
        /// pseudo-TA must refuse to write a key there, SECURITY).
        case deriveTAUniqueKeySHM = 78
        /// [in] value a = algorithm, b = element; [out] value a = TEE_IsAlgorithmSupported's result.
        case isAlgorithmSupported = 79
        /// [in] value a = operation; [out] memref.
        case digestExtract = 80

        // GP's arithmetical API. Handles are `ArithHandle`s; signed values travel as the bit
        // pattern of an Int32. Each comment: the parameters in order.
        /// [in] value a = bits; [out] value a = big integer handle.
        case arithNewVar = 46
        /// [in] value a = bits, b = modulus handle; [out] value a = FMM context handle.
        case arithNewFMMContext = 47
        /// [in] value a = bits; [out] value a = FMM variable handle.
        case arithNewFMMVar = 48
        /// [in] value a = any handle.
        case arithFreeHandle = 49
        /// [in] value a = handle, b = sign; [in] memref big-endian magnitude.
        case arithFromOctetString = 50
        /// [in] value a = handle, b = value.
        case arithFromS32 = 51
        /// [in] value a = handle; [out] value a = sign (1 or −1); [out] memref magnitude.
        case arithGetValue = 52
        /// [in] value a = handle; [out] value a = value (OVERFLOW outside Int32).
        case arithGetValueS32 = 53
        /// [in] value a = handle, b = bit; [out] value a = the bit.
        case arithGetBit = 54
        /// [in] value a = handle; [out] value a = bit count.
        case arithGetBitCount = 55
        /// [in] value a = op, b = bits; [in] value a = destination.
        case arithShiftRight = 56
        /// [in] value a = op1, b = op2; [out] value a = the comparison.
        case arithCmp = 57
        /// [in] value a = op, b = value; [out] value a = the comparison.
        case arithCmpS32 = 58
        /// [in] value a = op1, b = op2; [in] value a = destination.
        case arithAdd = 59, arithSub = 60, arithMul = 61
        /// [in] value a = op, b = destination.
        case arithNeg = 62, arithSqr = 63
        /// [in] value a = op1, b = op2; [in] value a = quotient, b = remainder.
        case arithDiv = 64
        /// [in] value a = op, b = n; [in] value a = destination.
        case arithMod = 65
        /// [in] value a = op1, b = op2; [in] value a = n, b = destination.
        case arithAddMod = 66, arithSubMod = 67, arithMulMod = 68
        /// [in] value a = op, b = n; [in] value a = destination.
        case arithSqrMod = 69, arithInvMod = 70
        /// [in] value a = op1, b = op2; [out] value a = relatively prime (0 or 1).
        case arithIsRelativePrime = 71
        /// [in] value a = op1, b = op2; [in] value a = u, b = v (either may be invalid); [in] value a = gcd.
        case arithComputeEGCD = 72
        /// [in] value a = op, b = confidence level; [out] value a = 0, 1 or −1.
        case arithIsPrime = 73
        /// [in] value a = source, b = n; [in] value a = FMM context, b = FMM destination.
        case arithToFMM = 74
        /// [in] value a = FMM source, b = n; [in] value a = FMM context, b = destination.
        case arithFromFMM = 75
        /// [in] value a = FMM op1, b = FMM op2; [in] value a = n, b = FMM context; [in] value a = FMM destination.
        case arithComputeFMM = 76
        /// [in] value a = op, b = destination.
        case arithAbs = 81
        /// [in] value a = op, b = bit; [in] value a = the bit's value.
        case arithSetBit = 82
        /// [in] value a = source, b = destination.
        case arithAssign = 83
        /// [in] value a = base, b = exponent; [in] value a = n, b = FMM context; [in] value a = destination.
        case arithExpMod = 84
    }

    /// The arithmetic commands' handles: a slot number with its kind in the top bits, as in the
    /// original (`arith_taf.c`).
    public enum ArithHandle {
        public static let bigInt: UInt32 = 1 << 31
        public static let fmmContext: UInt32 = 1 << 30
        public static let fmmVar: UInt32 = 1 << 29
        public static let kindMask: UInt32 = bigInt | fmmContext | fmmVar
        /// TA_CRYPT_ARITH_INVALID_HANDLE: "none" for an optional destination.
        public static let invalid: UInt32 = 0xFFFF_FFFF
    }

    /// The packed attribute list of populate, generate, derive and the asymmetric commands: a
    /// little-endian u32 count, then per attribute {id, a, b} (u32 each) — values for a value
    /// attribute, else (offset from the start of the buffer, length) of its bytes — then the bytes.
    public static func packAttributes(_ attributes: [(id: UInt32, value: (a: UInt32, b: UInt32)?, bytes: [UInt8]?)]) -> [UInt8] {
        func le(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        var head = le(UInt32(attributes.count)), data: [UInt8] = []
        let dataStart = 4 + 12 * attributes.count
        for attribute in attributes {
            if let value = attribute.value {
                head += le(attribute.id) + le(value.a) + le(value.b)
            } else {
                let bytes = attribute.bytes ?? []
                head += le(attribute.id) + le(UInt32(dataStart + data.count)) + le(UInt32(bytes.count))
                data += bytes
                while data.count % 4 != 0 { data.append(0) }
            }
        }
        return head + data
    }
}

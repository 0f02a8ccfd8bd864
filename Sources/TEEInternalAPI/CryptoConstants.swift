import TEECrypto
/// GP algorithm identifiers (`TEE_ALG_*`) that rproc-tee implements.
public struct Algorithm: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let md5 = Algorithm(rawValue: 0x5000_0001)
    public static let sha1 = Algorithm(rawValue: 0x5000_0002)
    public static let sha224 = Algorithm(rawValue: 0x5000_0003)
    public static let sha256 = Algorithm(rawValue: 0x5000_0004)
    public static let sha384 = Algorithm(rawValue: 0x5000_0005)
    public static let sha512 = Algorithm(rawValue: 0x5000_0006)
    public static let sm3 = Algorithm(rawValue: 0x5000_0007)
    public static let sha3_224 = Algorithm(rawValue: 0x5000_0008)
    public static let sha3_256 = Algorithm(rawValue: 0x5000_0009)
    public static let sha3_384 = Algorithm(rawValue: 0x5000_000A)
    public static let sha3_512 = Algorithm(rawValue: 0x5000_000B)
    public static let shake128 = Algorithm(rawValue: 0x5000_0101)
    public static let shake256 = Algorithm(rawValue: 0x5000_0102)
    public static let hmacMD5 = Algorithm(rawValue: 0x3000_0001)
    public static let hmacSHA1 = Algorithm(rawValue: 0x3000_0002)
    public static let hmacSHA224 = Algorithm(rawValue: 0x3000_0003)
    public static let hmacSHA256 = Algorithm(rawValue: 0x3000_0004)
    public static let hmacSHA384 = Algorithm(rawValue: 0x3000_0005)
    public static let hmacSHA512 = Algorithm(rawValue: 0x3000_0006)
    public static let hmacSM3 = Algorithm(rawValue: 0x3000_0007)
    public static let hmacSHA3_224 = Algorithm(rawValue: 0x3000_0008)
    public static let hmacSHA3_256 = Algorithm(rawValue: 0x3000_0009)
    public static let hmacSHA3_384 = Algorithm(rawValue: 0x3000_000A)
    public static let hmacSHA3_512 = Algorithm(rawValue: 0x3000_000B)
    public static let aesCBCMACNoPad = Algorithm(rawValue: 0x3000_0110)
    public static let aesCBCMACPKCS5 = Algorithm(rawValue: 0x3000_0510)
    public static let aesCMAC = Algorithm(rawValue: 0x3000_0610)
    public static let desCBCMACNoPad = Algorithm(rawValue: 0x3000_0111)
    public static let desCBCMACPKCS5 = Algorithm(rawValue: 0x3000_0511)
    public static let des3CBCMACNoPad = Algorithm(rawValue: 0x3000_0113)
    public static let des3CBCMACPKCS5 = Algorithm(rawValue: 0x3000_0513)
    /// OP-TEE's extension (tee_api_defines_extensions.h): GP names no 3DES-CMAC.
    public static let des3CMAC = Algorithm(rawValue: 0xF000_0613)
    public static let aesECBNoPad = Algorithm(rawValue: 0x1000_0010)
    public static let desECBNoPad = Algorithm(rawValue: 0x1000_0011)
    public static let desCBCNoPad = Algorithm(rawValue: 0x1000_0111)
    public static let des3ECBNoPad = Algorithm(rawValue: 0x1000_0013)
    public static let des3CBCNoPad = Algorithm(rawValue: 0x1000_0113)
    public static let aesCTR = Algorithm(rawValue: 0x1000_0210)
    public static let aesCTS = Algorithm(rawValue: 0x1000_0310)
    public static let aesXTS = Algorithm(rawValue: 0x1000_0410)
    public static let aesCBCNoPad = Algorithm(rawValue: 0x1000_0110)
    public static let aesCCM = Algorithm(rawValue: 0x4000_0710)
    public static let aesGCM = Algorithm(rawValue: 0x4000_0810)
    public static let rsaPKCS1v15MD5 = Algorithm(rawValue: 0x7000_1830)
    public static let rsaPKCS1v15SHA1 = Algorithm(rawValue: 0x7000_2830)
    public static let rsaPKCS1v15SHA224 = Algorithm(rawValue: 0x7000_3830)
    public static let rsaPKCS1v15SHA256 = Algorithm(rawValue: 0x7000_4830)
    public static let rsaPKCS1v15SHA384 = Algorithm(rawValue: 0x7000_5830)
    public static let rsaPKCS1v15SHA512 = Algorithm(rawValue: 0x7000_6830)
    /// OP-TEE's TEE_ALG_RSASSA_PKCS1_V1_5 (CFG_CRYPTO_RSASSA_NA1): no DigestInfo, the caller's bytes.
    public static let rsaPKCS1v15Unhashed = Algorithm(rawValue: 0xF000_0830)
    public static let rsaPSSMD5 = Algorithm(rawValue: 0xF011_1930)
    public static let rsaPSSSHA1 = Algorithm(rawValue: 0x7021_2930)
    public static let rsaPSSSHA224 = Algorithm(rawValue: 0x7031_3930)
    public static let rsaPSSSHA256 = Algorithm(rawValue: 0x7041_4930)
    public static let rsaPSSSHA384 = Algorithm(rawValue: 0x7051_5930)
    public static let rsaPSSSHA512 = Algorithm(rawValue: 0x7061_6930)
    public static let rsaNoPad = Algorithm(rawValue: 0x6000_0030)
    public static let dsaSHA1 = Algorithm(rawValue: 0x7000_2131)
    public static let dsaSHA224 = Algorithm(rawValue: 0x7000_3131)
    public static let dsaSHA256 = Algorithm(rawValue: 0x7000_4131)
    public static let rsaesPKCS1v15 = Algorithm(rawValue: 0x6000_0130)
    public static let rsaesOAEPMD5 = Algorithm(rawValue: 0xF011_0230)
    public static let rsaesOAEPSHA1 = Algorithm(rawValue: 0x6021_0230)
    public static let rsaesOAEPSHA224 = Algorithm(rawValue: 0x6031_0230)
    public static let rsaesOAEPSHA256 = Algorithm(rawValue: 0x6041_0230)
    public static let rsaesOAEPSHA384 = Algorithm(rawValue: 0x6051_0230)
    public static let rsaesOAEPSHA512 = Algorithm(rawValue: 0x6061_0230)
    /// TEE_ALG_ECDSA_SHA1 … _SHA512, also named TEE_ALG_ECDSA_P192 … _P521: the curve is fixed
    /// by the algorithm (its maxKeySize must be that curve's size), the digest is the caller's.
    public static let ecdsaP192 = Algorithm(rawValue: 0x7000_1042)
    public static let ecdsaP224 = Algorithm(rawValue: 0x7000_2042)
    public static let ecdsaP256 = Algorithm(rawValue: 0x7000_3042)
    public static let ecdsaP384 = Algorithm(rawValue: 0x7000_4042)
    public static let ecdsaP521 = Algorithm(rawValue: 0x7000_5042)
    /// The curve comes from the key (OP-TEE's and GP 1.2's identifier).
    public static let ecdhDeriveSharedSecret = Algorithm(rawValue: 0x8000_0042)
    public static let dhDeriveSharedSecret = Algorithm(rawValue: 0x8000_0032)
    // OP-TEE's key-derivation extensions (tee_api_defines_extensions.h): HKDF (RFC 5869), the
    // Concat KDF (NIST SP 800-56A), PBKDF2 (RFC 8018), each over a hash in the algorithm's bits.
    public static let hkdfMD5 = Algorithm(rawValue: 0x8000_10C0), hkdfSHA1 = Algorithm(rawValue: 0x8000_20C0)
    public static let hkdfSHA224 = Algorithm(rawValue: 0x8000_30C0), hkdfSHA256 = Algorithm(rawValue: 0x8000_40C0)
    public static let hkdfSHA384 = Algorithm(rawValue: 0x8000_50C0), hkdfSHA512 = Algorithm(rawValue: 0x8000_60C0)
    public static let concatKDFSHA1 = Algorithm(rawValue: 0x8000_20C1), concatKDFSHA224 = Algorithm(rawValue: 0x8000_30C1)
    public static let concatKDFSHA256 = Algorithm(rawValue: 0x8000_40C1), concatKDFSHA384 = Algorithm(rawValue: 0x8000_50C1)
    public static let concatKDFSHA512 = Algorithm(rawValue: 0x8000_60C1)
    public static let pbkdf2HMACSHA1 = Algorithm(rawValue: 0x8000_20C2), pbkdf2HMACSHA224 = Algorithm(rawValue: 0x8000_30C2)
    public static let pbkdf2HMACSHA256 = Algorithm(rawValue: 0x8000_40C2), pbkdf2HMACSHA384 = Algorithm(rawValue: 0x8000_50C2)
    public static let pbkdf2HMACSHA512 = Algorithm(rawValue: 0x8000_60C2)

    /// The kind and hash of one of OP-TEE's key-derivation extensions (bits 12–15: the hash,
    /// 1 MD5 … 6 SHA-512; bits 0–7: 0xC0 HKDF, 0xC1 Concat KDF, 0xC2 PBKDF2).
    var keyDerivationFunction: (kind: KeyDerivationKind, digest: DigestAlgorithm)? {
        guard rawValue & 0xFFFF_0F00 == 0x8000_0000, let kind = KeyDerivationKind(rawValue: rawValue & 0xFF) else { return nil }
        let digests: [UInt32: DigestAlgorithm] = [1: .md5, 2: .sha1, 3: .sha224, 4: .sha256, 5: .sha384, 6: .sha512]
        guard let digest = digests[(rawValue >> 12) & 0xF], kind != .concat || digest != .md5, kind != .pbkdf2 || digest != .md5 else { return nil }
        return (kind, digest)
    }
}

extension Algorithm {
    /// `TEE_ALG_GET_CLASS`: bits 28–31 name the operation class — except for the identifiers
    /// OP-TEE added outside GP's scheme (0xF…), whose class it names case by case.
    public var operationClass: OperationClass? {
        switch rawValue {
        case 0xF000_0613: .mac                      // TEE_ALG_DES3_CMAC
        case 0xF011_1930: .asymmetricSignature      // TEE_ALG_RSASSA_PKCS1_PSS_MGF1_MD5
        case 0xF000_0830: .asymmetricSignature      // TEE_ALG_RSASSA_PKCS1_V1_5 (no DigestInfo)
        case 0xF011_0230: .asymmetricCipher         // TEE_ALG_RSAES_PKCS1_OAEP_MGF1_MD5
        case 0x8000_0046: .asymmetricCipher         // TEE_ALG_SM2_PKE
        case 0x6000_0045: .keyDerivation            // TEE_ALG_SM2_KEP
        default: OperationClass(rawValue: rawValue >> 28)
        }
    }

}

extension Algorithm {
    /// OP-TEE's IDs after GP 1.1's table 6-12, which OP-TEE still accepts
    /// (`__OPTEE_ALG_ECDSA_P192` … `_P521`, `__OPTEE_ALG_ECDH_P192` … `_P521`; optee_test's
    /// crypto_perf TA signs with them): what each is computed as, and the one key size it takes
    /// (OP-TEE's `translate_compat_algo` and `TEE_AllocateOperation`).
    public var opteeCompatibility: (algorithm: Algorithm, keySize: Int)? {
        let bits = [192, 224, 256, 384, 521]
        let curve = Int((rawValue >> 12) & 0xF) - 1
        guard (0..<bits.count).contains(curve) else { return nil }
        switch rawValue & 0xFFFF_0FFF {
        case 0x7000_0041: return ([Algorithm.ecdsaP192, .ecdsaP224, .ecdsaP256, .ecdsaP384, .ecdsaP521][curve], bits[curve])
        case 0x8000_0042: return (.ecdhDeriveSharedSecret, bits[curve])
        default: return nil
        }
    }
}

/// `TEE_OPERATION_*`: what an algorithm does.
public enum OperationClass: UInt32, Sendable {
    case cipher = 1, mac = 3, ae = 4, digest = 5, asymmetricCipher = 6, asymmetricSignature = 7, keyDerivation = 8
}

/// `TEE_OPERATION_STATE_*`.
public enum OperationState: UInt32, Sendable {
    case initial = 0, active = 1, extracting = 2
}

/// `TEE_HANDLE_FLAG_*`, the `handleState` of an operation's info.
public struct HandleFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let persistent = HandleFlags(rawValue: 0x0001_0000)
    public static let initialized = HandleFlags(rawValue: 0x0002_0000)
    public static let keySet = HandleFlags(rawValue: 0x0004_0000)
    public static let expectTwoKeys = HandleFlags(rawValue: 0x0008_0000)
    public static let extracting = HandleFlags(rawValue: 0x0010_0000)
}

/// `TEE_USAGE_*`: what a key object may be used for.
public struct KeyUsage: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let extractable = KeyUsage(rawValue: 0x01)
    public static let encrypt = KeyUsage(rawValue: 0x02)
    public static let decrypt = KeyUsage(rawValue: 0x04)
    public static let mac = KeyUsage(rawValue: 0x08)
    public static let sign = KeyUsage(rawValue: 0x10)
    public static let verify = KeyUsage(rawValue: 0x20)
    public static let derive = KeyUsage(rawValue: 0x40)
    /// What a fresh object allows: everything (GP: usage starts as 0xFFFFFFFF).
    public static let all = KeyUsage(rawValue: 0xFFFF_FFFF)
}

/// `TEE_OperationInfo`, field for field (its C layout: eight 32-bit words in this order).
public struct OperationInfo: Sendable, Hashable {
    public var algorithm: Algorithm
    public var operationClass: OperationClass
    public var mode: OperationMode
    public var digestLength: UInt32
    public var maxKeySize: UInt32
    public var keySize: UInt32
    public var requiredKeyUsage: KeyUsage
    public var handleState: HandleFlags

    /// The 32 bytes of the C struct, little-endian (what a C TA's caller reads back).
    public var encoded: [UInt8] {
        [algorithm.rawValue, operationClass.rawValue, mode.rawValue, digestLength, maxKeySize, keySize, requiredKeyUsage.rawValue, handleState.rawValue]
            .flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    }
}

/// `TEE_OperationInfoMultiple`: the operation and what each of its keys is (none for a digest,
/// two for AES-XTS).
public struct OperationInfoMultiple: Sendable, Hashable {
    public var algorithm: Algorithm
    public var operationClass: OperationClass
    public var mode: OperationMode
    public var digestLength: UInt32
    public var maxKeySize: UInt32
    public var handleState: HandleFlags
    public var operationState: OperationState
    /// Per key: its size and the usage the operation requires of it.
    public var keys: [(keySize: UInt32, requiredKeyUsage: KeyUsage)]

    public static func == (l: Self, r: Self) -> Bool {
        l.algorithm == r.algorithm && l.operationClass == r.operationClass && l.mode == r.mode && l.digestLength == r.digestLength
            && l.maxKeySize == r.maxKeySize && l.handleState == r.handleState && l.operationState == r.operationState
            && l.keys.map(\.keySize) == r.keys.map(\.keySize) && l.keys.map(\.requiredKeyUsage) == r.keys.map(\.requiredKeyUsage)
    }

    public func hash(into h: inout Hasher) {
        h.combine(algorithm)
        h.combine(keys.count)
    }

    /// The C struct's bytes (eight 32-bit words, then two per key), little-endian.
    public var encoded: [UInt8] {
        ([algorithm.rawValue, operationClass.rawValue, mode.rawValue, digestLength, maxKeySize, handleState.rawValue, operationState.rawValue, UInt32(keys.count)]
            + keys.flatMap { [$0.keySize, $0.requiredKeyUsage.rawValue] })
            .flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    }
}

/// `TEE_ObjectInfo` of a transient object (GP 1.1.1's names).
public struct ObjectInfo: Sendable, Hashable {
    public var objectType: ObjectType
    public var objectSize: UInt32
    public var maxObjectSize: UInt32
    public var objectUsage: KeyUsage
    public var handleFlags: HandleFlags

    public init(objectType: ObjectType, objectSize: UInt32, maxObjectSize: UInt32, objectUsage: KeyUsage, handleFlags: HandleFlags) {
        (self.objectType, self.objectSize, self.maxObjectSize, self.objectUsage, self.handleFlags) = (objectType, objectSize, maxObjectSize, objectUsage, handleFlags)
    }
}

/// `TEE_MODE_*`.
public enum OperationMode: UInt32, Sendable {
    case encrypt = 0, decrypt = 1, sign = 2, verify = 3, mac = 4, digest = 5, derive = 6
}

/// `TEE_TYPE_*` object types rproc-tee implements.
public struct ObjectType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let aes = ObjectType(rawValue: 0xA000_0010)
    public static let des = ObjectType(rawValue: 0xA000_0011)
    public static let des3 = ObjectType(rawValue: 0xA000_0013)
    public static let hmacMD5 = ObjectType(rawValue: 0xA000_0001)
    public static let hmacSHA1 = ObjectType(rawValue: 0xA000_0002)
    public static let hmacSHA224 = ObjectType(rawValue: 0xA000_0003)
    public static let hmacSHA256 = ObjectType(rawValue: 0xA000_0004)
    public static let hmacSHA384 = ObjectType(rawValue: 0xA000_0005)
    public static let hmacSHA512 = ObjectType(rawValue: 0xA000_0006)
    public static let hmacSHA3_224 = ObjectType(rawValue: 0xA000_0008)
    public static let hmacSHA3_256 = ObjectType(rawValue: 0xA000_0009)
    public static let hmacSHA3_384 = ObjectType(rawValue: 0xA000_000A)
    public static let hmacSHA3_512 = ObjectType(rawValue: 0xA000_000B)

    /// The secret-key types: one SECRET_VALUE attribute.
    public var isSecret: Bool { [.aes, .des, .des3, .genericSecret].contains(self) || hmacDigest != nil }

    /// The HMAC key types, with the key sizes OP-TEE allows (bits, steps of 8).
    var hmacDigest: (min: Int, max: Int)? {
        switch self {
        case .hmacMD5: (64, 512)
        case .hmacSHA1: (80, 512)
        case .hmacSHA224: (112, 512)
        case .hmacSHA256, .hmacSHA3_224: (192, 1024)
        case .hmacSHA384, .hmacSHA512, .hmacSHA3_256, .hmacSHA3_384, .hmacSHA3_512: (256, 1024)
        default: nil
        }
    }
    public static let genericSecret = ObjectType(rawValue: 0xA000_0000)
    public static let rsaPublicKey = ObjectType(rawValue: 0xA000_0030)
    public static let rsaKeyPair = ObjectType(rawValue: 0xA100_0030)
    public static let ecdsaPublicKey = ObjectType(rawValue: 0xA000_0041)
    public static let ecdsaKeyPair = ObjectType(rawValue: 0xA100_0041)
    public static let ecdhPublicKey = ObjectType(rawValue: 0xA000_0042)
    public static let ecdhKeyPair = ObjectType(rawValue: 0xA100_0042)
    public static let dhKeyPair = ObjectType(rawValue: 0xA100_0032)
    public static let dsaPublicKey = ObjectType(rawValue: 0xA000_0031)
    public static let dsaKeyPair = ObjectType(rawValue: 0xA100_0031)
    /// The input secrets of OP-TEE's key-derivation extensions: one attribute each, 0…4096 bits
    /// in steps of 8 (OP-TEE's sizes).
    public static let hkdfIKM = ObjectType(rawValue: 0xA100_00C0)
    public static let concatKDFZ = ObjectType(rawValue: 0xA100_00C1)
    public static let pbkdf2Password = ObjectType(rawValue: 0xA100_00C2)

    /// For a key-derivation input type, the attribute that holds its secret.
    public var kdfSecretAttribute: UInt32? {
        switch self {
        case .hkdfIKM: AttributeID.hkdfIKM
        case .concatKDFZ: AttributeID.concatKDFZ
        case .pbkdf2Password: AttributeID.pbkdf2Password
        default: nil
        }
    }
}

/// OP-TEE's key-derivation extensions, by their low byte.
public enum KeyDerivationKind: UInt32, Sendable {
    case hkdf = 0xC0, concat = 0xC1, pbkdf2 = 0xC2

    /// The key type a derivation of this kind takes.
    public var inputType: ObjectType {
        switch self {
        case .hkdf: .hkdfIKM
        case .concat: .concatKDFZ
        case .pbkdf2: .pbkdf2Password
        }
    }
}

/// `TEE_ATTR_*` identifiers.
public enum AttributeID {
    public static let secretValue: UInt32 = 0xC000_0000
    public static let rsaModulus: UInt32 = 0xD000_0130
    public static let rsaPublicExponent: UInt32 = 0xD000_0230
    public static let rsaPrivateExponent: UInt32 = 0xC000_0330
    public static let rsaPrime1: UInt32 = 0xC000_0430
    public static let rsaPrime2: UInt32 = 0xC000_0530
    public static let rsaExponent1: UInt32 = 0xC000_0630
    public static let rsaExponent2: UInt32 = 0xC000_0730
    public static let rsaCoefficient: UInt32 = 0xC000_0830
    public static let eccPublicX: UInt32 = 0xD000_0141
    public static let eccPublicY: UInt32 = 0xD000_0241
    public static let eccPrivateValue: UInt32 = 0xC000_0341
    public static let eccCurve: UInt32 = 0xF000_0441
    public static let dsaPrime: UInt32 = 0xD000_1031
    public static let dsaSubprime: UInt32 = 0xD000_1131
    public static let dsaBase: UInt32 = 0xD000_1231
    public static let dsaPublicValue: UInt32 = 0xD000_0131
    public static let dsaPrivateValue: UInt32 = 0xC000_0231
    public static let dhPrime: UInt32 = 0xD000_1032
    public static let dhSubprime: UInt32 = 0xD000_1132
    public static let dhBase: UInt32 = 0xD000_1232
    public static let dhXBits: UInt32 = 0xF000_1332
    public static let dhPublicValue: UInt32 = 0xD000_0132
    // OP-TEE's key-derivation extensions; HKDF's salt and info also under GP 1.3's IDs (OP-TEE
    // takes both), its length also as TEE_ATTR_KDF_KEY_SIZE.
    public static let hkdfIKM: UInt32 = 0xC000_01C0, hkdfSalt: UInt32 = 0xD000_02C0, hkdfInfo: UInt32 = 0xD000_03C0, hkdfOKMLength: UInt32 = 0xF000_04C0
    public static let gpHKDFSalt: UInt32 = 0xD000_0946, gpHKDFInfo: UInt32 = 0xD000_0A46, kdfKeySize: UInt32 = 0xF000_0C46
    public static let concatKDFZ: UInt32 = 0xC000_01C1, concatKDFOtherInfo: UInt32 = 0xD000_02C1, concatKDFDKMLength: UInt32 = 0xF000_03C1
    public static let pbkdf2Password: UInt32 = 0xC000_01C2, pbkdf2Salt: UInt32 = 0xD000_02C2
    public static let pbkdf2IterationCount: UInt32 = 0xF000_03C2, pbkdf2DKMLength: UInt32 = 0xF000_04C2
    public static let dhPrivateValue: UInt32 = 0xC000_0232
    public static let rsaPSSSaltLength: UInt32 = 0xF000_0A30
    public static let rsaOAEPLabel: UInt32 = 0xD000_0930
    /// GP 1.3.1: the MGF1 hash, as a 4-byte little-endian TEE_ALG_* digest id.
    public static let rsaOAEPMGFHash: UInt32 = 0xD000_0931

    /// Bit 29 marks value attributes (a, b) rather than buffers.
    public static func isValue(_ id: UInt32) -> Bool { id & 0x2000_0000 != 0 }
    /// Bit 28 marks public attributes, readable whatever the object's usage.
    static func isPublic(_ id: UInt32) -> Bool { id & 0x1000_0000 != 0 }
}

/// `TEE_ECC_CURVE_*`.
public enum ECCCurveID {
    public static let p192: UInt32 = 1
    public static let p224: UInt32 = 2
    public static let p256: UInt32 = 3
    public static let p384: UInt32 = 4
    public static let p521: UInt32 = 5
}

/// One attribute: a buffer (`TEE_InitRefAttribute`) or two values (`TEE_InitValueAttribute`).
public struct Attribute: Sendable, Hashable {
    public let id: UInt32
    public let buffer: [UInt8]?
    public let value: (a: UInt32, b: UInt32)?

    public static func ref(_ id: UInt32, _ bytes: [UInt8]) -> Attribute { Attribute(id: id, buffer: bytes, value: nil) }
    public static func value(_ id: UInt32, a: UInt32, b: UInt32 = 0) -> Attribute { Attribute(id: id, buffer: nil, value: (a, b)) }

    public static func == (l: Attribute, r: Attribute) -> Bool {
        l.id == r.id && l.buffer == r.buffer && l.value?.a == r.value?.a && l.value?.b == r.value?.b
    }

    public func hash(into h: inout Hasher) {
        h.combine(id)
        h.combine(buffer)
        h.combine(value?.a)
        h.combine(value?.b)
    }
}

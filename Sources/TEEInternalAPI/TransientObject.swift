import TEECrypto

/// A transient key object (`TEE_AllocateTransientObject`): empty until populated from attributes
/// or generated, then usable as an operation's key.
public final class TransientObject: @unchecked Sendable {
    // @unchecked: an object belongs to one TA instance, whose entry points never run concurrently.
    public let type: ObjectType
    public let maxKeySize: Int
    public private(set) var keySize = 0
    public private(set) var isInitialized = false
    /// `objectUsage`: what the key may be used for; starts as everything, only ever narrowed.
    public private(set) var usage: KeyUsage = .all
    var secret: SecureBytes?
    var rsaPrivate: RSAPrivateKey?
    var rsaPublic: RSAPublicKey?
    var ecPrivate: ECPrivateKey?
    var ecPublic: ECPublicKey?
    var dh: DiffieHellmanKey?
    var dsa: DSAKey?
    /// TEE_ATTR_DH_X_BITS, when the key was generated or populated with it.
    var dhXBits: UInt32?

    /// NOT_SUPPORTED for a type or maximum size rproc-tee does not implement.
    public init(type: ObjectType, maxKeySize: Int) throws(TEEResult) {
        guard Self.sizeIsValid(type, maxKeySize) else { throw .notSupported }
        self.type = type
        self.maxKeySize = maxKeySize
    }

    static func sizeIsValid(_ type: ObjectType, _ bits: Int) -> Bool {
        if let range = type.hmacDigest { return (range.min...range.max).contains(bits) && bits % 8 == 0 }
        switch type {
        case .aes: return [128, 192, 256].contains(bits)
        // GP 1.0 counted DES key sizes without the parity bits (56, 112, 168); OP-TEE takes both.
        case .des: return bits == 64 || bits == 56
        case .des3: return [128, 192, 112, 168].contains(bits)
        case .genericSecret: return (8...4096).contains(bits) && bits % 8 == 0
        case .hkdfIKM, .concatKDFZ, .pbkdf2Password: return (0...4096).contains(bits) && bits % 8 == 0
        case .rsaPublicKey, .rsaKeyPair: return (256...4096).contains(bits)   // OP-TEE's range
        case .dhKeyPair: return DiffieHellmanKey.primeBits.contains(bits)
        case .dsaPublicKey, .dsaKeyPair: return (512...3072).contains(bits) && bits % 64 == 0   // OP-TEE's
        case .ecdsaPublicKey, .ecdsaKeyPair, .ecdhPublicKey, .ecdhKeyPair: return ECCurve.allCases.contains { $0.bitCount == bits }
        default: return false
        }
    }

    /// `TEE_GetObjectInfo1` for a transient object: no data stream; INITIALIZED once it holds a key.
    public var info: ObjectInfo {
        ObjectInfo(objectType: type, objectSize: UInt32(keySize), maxObjectSize: UInt32(maxKeySize), objectUsage: usage,
                   handleFlags: isInitialized ? .initialized : [])
    }

    /// `TEE_RestrictObjectUsage1`: the usage becomes its intersection with `mask`.
    public func restrictUsage(_ mask: KeyUsage) {
        usage.formIntersection(mask)
    }

    /// `TEE_CopyObjectAttributes1`: this empty object takes `source`'s key — the same type, or the
    /// public half of a key pair into a public-key object — and its usage is narrowed to the
    /// source's. Misuse panics, as GP mandates: this object already initialized, the source not,
    /// types that do not match, a key larger than this object's maximum.
    public func copyAttributes(from source: TransientObject) {
        guard !isInitialized else { TEE.current.panic(0xBAD0_0013, "TEE_CopyObjectAttributes1 into an initialized object") }
        guard source.isInitialized else { TEE.current.panic(0xBAD0_0014, "TEE_CopyObjectAttributes1 from an uninitialized object") }
        let publicOfPair: [ObjectType: ObjectType] = [.rsaKeyPair: .rsaPublicKey, .ecdsaKeyPair: .ecdsaPublicKey, .ecdhKeyPair: .ecdhPublicKey, .dsaKeyPair: .dsaPublicKey]
        guard source.type == type || publicOfPair[source.type] == type else {
            TEE.current.panic(0xBAD0_0015, "TEE_CopyObjectAttributes1 from type \(String(source.type.rawValue, radix: 16)) into \(String(type.rawValue, radix: 16))")
        }
        guard source.keySize <= maxKeySize else { TEE.current.panic(0xBAD0_0016, "TEE_CopyObjectAttributes1 of a \(source.keySize)-bit key into a \(maxKeySize)-bit object") }
        secret = source.secret
        rsaPublic = source.rsaPublic
        ecPublic = source.ecPublic
        dh = source.dh
        dhXBits = source.dhXBits
        if let key = source.dsa {
            // The public half of a pair: a key without the private value.
            dsa = source.type == type ? key : (try? DSAKey(prime: key.prime, subprime: key.subprime, base: key.base, publicValue: key.publicValue))
        }
        if source.type == type {
            rsaPrivate = source.rsaPrivate
            ecPrivate = source.ecPrivate
        }
        keySize = source.keySize
        usage.formIntersection(source.usage)
        isInitialized = true
    }

    /// `TEE_GetObjectValueAttribute`: the (a, b) of a value attribute — the ECC curve here.
    /// ITEM_NOT_FOUND for one this object lacks.
    public func valueAttribute(_ id: UInt32) throws(TEEResult) -> (a: UInt32, b: UInt32) {
        guard isInitialized, AttributeID.isValue(id) else { throw .itemNotFound }
        switch id {
        case AttributeID.eccCurve where ecPublic != nil: return (Self.curveID(ecPublic!.curve), 0)
        // X_BITS as given, else the private value's own length (OP-TEE always answers it).
        case AttributeID.dhXBits where dh != nil:
            let x = dh!.privateValue.unsafeBytes.drop { $0 == 0 }
            return (dhXBits ?? UInt32(x.first.map { x.count * 8 - $0.leadingZeroBitCount } ?? 0), 0)
        default: throw .itemNotFound
        }
    }

    /// The curve a `TEE_ECC_CURVE_*` names; nil for one rproc-tee lacks (25519, SM2).
    static func curve(_ id: UInt32) -> ECCurve? {
        switch id {
        case ECCCurveID.p192: .p192
        case ECCCurveID.p224: .p224
        case ECCCurveID.p256: .p256
        case ECCCurveID.p384: .p384
        case ECCCurveID.p521: .p521
        default: nil
        }
    }

    static func curveID(_ curve: ECCurve) -> UInt32 {
        switch curve {
        case .p192: ECCCurveID.p192
        case .p224: ECCCurveID.p224
        case .p256: ECCCurveID.p256
        case .p384: ECCCurveID.p384
        case .p521: ECCCurveID.p521
        }
    }

    private func strippingZeros(_ bytes: [UInt8]) -> [UInt8] {
        let trimmed = Array(bytes.drop { $0 == 0 })
        return trimmed.isEmpty ? [0] : trimmed
    }

    /// `TEE_ResetTransientObject`.
    public func reset() {
        secret = nil; rsaPrivate = nil; rsaPublic = nil; ecPrivate = nil; ecPublic = nil; dh = nil; dhXBits = nil; dsa = nil
        keySize = 0
        isInitialized = false
        usage = .all
    }

    /// `TEE_PopulateTransientObject`. BAD_PARAMETERS for an inconsistent or wrongly sized key;
    /// a missing mandatory attribute is a programming error and panics, as GP specifies.
    public func populate(_ attributes: [Attribute]) throws(TEEResult) {
        guard !isInitialized else { TEE.current.panic(0xBAD0_0010, "populating an initialized object") }
        func buffer(_ id: UInt32) -> [UInt8]? { attributes.first { $0.id == id }?.buffer }
        func required(_ id: UInt32) -> [UInt8] {
            guard let b = buffer(id) else { TEE.current.panic(0xBAD0_0011, "mandatory attribute \(String(id, radix: 16)) missing") }
            return b
        }
        do {
            switch type {
            case _ where type.kdfSecretAttribute != nil:
                // A key-derivation input: its one attribute, sized like a secret.
                let value = required(type.kdfSecretAttribute!)
                guard value.count * 8 <= maxKeySize else { TEE.current.panic(TEEResult.badState.rawValue, "a \(value.count * 8)-bit secret in an object of at most \(maxKeySize) bits") }
                secret = SecureBytes(value)
                keySize = value.count * 8
            case _ where type.isSecret:
                let value = required(AttributeID.secretValue)
                // A DES key always carries its parity bits; an object sized the GP 1.0 way
                // (without them) reports its key size without them too, as OP-TEE does.
                let legacyDES = (type == .des && maxKeySize == 56) || (type == .des3 && [112, 168].contains(maxKeySize))
                let bits = legacyDES ? value.count * 7 : value.count * 8
                // GP: an attribute larger than the object's maximum is a panic (OP-TEE: BAD_STATE
                // from the core, which TEE_PopulateTransientObject turns into one); xtest 4010.
                guard bits <= maxKeySize else { TEE.current.panic(TEEResult.badState.rawValue, "a \(bits)-bit key in an object of at most \(maxKeySize) bits") }
                guard Self.sizeIsValid(type, bits) else { throw TEEResult.badParameters }
                if type == .des3, value.count != 16, value.count != 24 { throw TEEResult.badParameters }
                secret = SecureBytes(value)
                keySize = bits
            case .rsaPublicKey:
                let key = try RSAPublicKey(modulus: required(AttributeID.rsaModulus), publicExponent: required(AttributeID.rsaPublicExponent), minimumBits: 256)
                guard key.bitCount <= maxKeySize else { throw TEEResult.badParameters }
                rsaPublic = key
                keySize = key.bitCount
            case .rsaKeyPair:
                let key = try RSAPrivateKey(modulus: required(AttributeID.rsaModulus), publicExponent: required(AttributeID.rsaPublicExponent),
                                            privateExponent: SecureBytes(required(AttributeID.rsaPrivateExponent)),
                                            prime1: buffer(AttributeID.rsaPrime1).map(SecureBytes.init), prime2: buffer(AttributeID.rsaPrime2).map(SecureBytes.init),
                                            minimumBits: 256)
                guard key.bitCount <= maxKeySize else { throw TEEResult.badParameters }
                rsaPrivate = key
                rsaPublic = key.publicKey
                keySize = key.bitCount
            case .dsaPublicKey, .dsaKeyPair:
                let key = try DSAKey(prime: required(AttributeID.dsaPrime), subprime: required(AttributeID.dsaSubprime), base: required(AttributeID.dsaBase),
                                     publicValue: required(AttributeID.dsaPublicValue),
                                     privateValue: type == .dsaKeyPair ? SecureBytes(required(AttributeID.dsaPrivateValue)) : nil)
                guard key.bitCount <= maxKeySize else { TEE.current.panic(TEEResult.badState.rawValue, "a \(key.bitCount)-bit DSA key in an object of at most \(maxKeySize) bits") }
                dsa = key
                keySize = key.bitCount
            case .dhKeyPair:
                let key = try DiffieHellmanKey(prime: required(AttributeID.dhPrime), base: required(AttributeID.dhBase), subprime: buffer(AttributeID.dhSubprime),
                                               privateValue: SecureBytes(required(AttributeID.dhPrivateValue)), publicValue: required(AttributeID.dhPublicValue))
                guard key.bitCount <= maxKeySize else { TEE.current.panic(TEEResult.badState.rawValue, "a \(key.bitCount)-bit DH key in an object of at most \(maxKeySize) bits") }
                dh = key
                dhXBits = attributes.first { $0.id == AttributeID.dhXBits }?.value?.a
                keySize = key.bitCount
            case .ecdsaPublicKey, .ecdsaKeyPair, .ecdhPublicKey, .ecdhKeyPair:
                guard let curveAttr = attributes.first(where: { $0.id == AttributeID.eccCurve })?.value else {
                    TEE.current.panic(0xBAD0_0011, "TEE_ATTR_ECC_CURVE missing")
                }
                guard let curve = Self.curve(curveAttr.a) else { throw TEEResult.notSupported }
                guard curve.bitCount <= maxKeySize else { TEE.current.panic(TEEResult.badState.rawValue, "a \(curve.rawValue) key in an object of at most \(maxKeySize) bits") }
                if type == .ecdsaKeyPair {
                    // A signing key pair's public point must be its private value's.
                    let key = try ECPrivateKey(curve: curve, privateValue: SecureBytes(required(AttributeID.eccPrivateValue)),
                                               x: required(AttributeID.eccPublicX), y: required(AttributeID.eccPublicY))
                    ecPrivate = key
                    ecPublic = key.publicKey
                } else if type == .ecdhKeyPair {
                    // ECDH uses only the private value. OP-TEE never checks the stated point
                    // against it (xtest 4009 populates the peer's point); here it must at least
                    // lie on the curve, and it is what the object's X and Y attributes read back.
                    ecPrivate = try ECPrivateKey(curve: curve, privateValue: SecureBytes(required(AttributeID.eccPrivateValue)))
                    ecPublic = try ECPublicKey(curve: curve, x: required(AttributeID.eccPublicX), y: required(AttributeID.eccPublicY))
                } else {
                    ecPublic = try ECPublicKey(curve: curve, x: required(AttributeID.eccPublicX), y: required(AttributeID.eccPublicY))
                }
                keySize = curve.bitCount
            default:
                throw TEEResult.notSupported
            }
        } catch let error as TEEResult {
            reset()
            throw error
        } catch {
            reset()
            throw .badParameters
        }
        isInitialized = true
    }

    /// `TEE_GenerateKey`.
    /// `TEE_GenerateKey` with its parameters: the ECC curve, or a DH group (TEE_ATTR_DH_PRIME,
    /// _BASE, optional _SUBPRIME and _X_BITS), which a DH key cannot do without.
    public func generateKey(size bits: Int, attributes: [Attribute]) throws(TEEResult) {
        func required(_ id: UInt32, _ what: String) -> [UInt8] {
            guard let b = attributes.first(where: { $0.id == id })?.buffer else {
                TEE.current.panic(TEEResult.badParameters.rawValue, "TEE_GenerateKey: a \(what) key needs its domain (TEE_ATTR_\(what)_PRIME, _BASE\(what == "DSA" ? ", _SUBPRIME" : ""))")
            }
            return b
        }
        switch type {
        case .dsaKeyPair:
            try generating(bits) {
                let key = try DSAKey(generatingIn: required(AttributeID.dsaPrime, "DSA"), subprime: required(AttributeID.dsaSubprime, "DSA"),
                                     base: required(AttributeID.dsaBase, "DSA"))
                guard key.bitCount == bits else { throw TEEResult.badParameters }
                dsa = key
            }
        case .dhKeyPair:
            // X_BITS 0 says nothing (xtest passes it so).
            let xBits = attributes.first { $0.id == AttributeID.dhXBits }?.value.flatMap { $0.a == 0 ? nil : $0.a }
            try generating(bits) {
                let key = try DiffieHellmanKey(generatingIn: required(AttributeID.dhPrime, "DH"), base: required(AttributeID.dhBase, "DH"),
                                               subprime: attributes.first { $0.id == AttributeID.dhSubprime }?.buffer, privateBits: xBits.map { Int($0) })
                // OP-TEE's rule: the key size is 8 × the prime's length in bytes.
                guard key.byteRoundedBitCount == bits else { throw TEEResult.badParameters }
                dh = key
                dhXBits = xBits
            }
        default:
            try generateKey(size: bits, curve: attributes.first { $0.id == AttributeID.eccCurve }?.value?.a)
        }
    }

    /// The checks and book-keeping every generation shares: an empty object, a size it takes;
    /// a library failure is BAD_PARAMETERS.
    private func generating(_ bits: Int, _ make: () throws -> Void) throws(TEEResult) {
        guard !isInitialized else { TEE.current.panic(0xBAD0_0012, "generating into an initialized object") }
        guard bits <= maxKeySize, Self.sizeIsValid(type, bits) else { throw .badParameters }
        do {
            try make()
        } catch let error as TEEResult {
            throw error
        } catch {
            throw .badParameters
        }
        keySize = bits
        isInitialized = true
    }

    public func generateKey(size bits: Int, curve: UInt32? = nil) throws(TEEResult) {
        guard !isInitialized else { TEE.current.panic(0xBAD0_0012, "generating into an initialized object") }
        guard bits <= maxKeySize, Self.sizeIsValid(type, bits) else { throw .badParameters }
        do {
            switch type {
            case _ where type.isSecret:
                // DES sizes without parity (56, 112, 168) still make whole-byte keys with it.
                let bytes = (type == .des || type == .des3) && bits % 56 == 0 ? bits / 7 : bits / 8
                secret = try RandomGenerator.shared.secureBytes(count: bytes)
            case .rsaKeyPair:
                let key = try RSAPrivateKey(generatingAnySize: bits)
                rsaPrivate = key
                rsaPublic = key.publicKey
            case .ecdsaKeyPair, .ecdhKeyPair:
                // GP: TEE_ATTR_ECC_CURVE, when given, must name the curve of that size.
                guard let sized = ECCurve.allCases.first(where: { $0.bitCount == bits }) else { throw TEEResult.badParameters }
                if let curve, Self.curve(curve) != sized { throw TEEResult.badParameters }
                let key = try ECPrivateKey(generating: sized)
                ecPrivate = key
                ecPublic = key.publicKey
            default:
                throw TEEResult.notSupported
            }
        } catch let error as TEEResult {
            throw error
        } catch {
            throw .notSupported
        }
        keySize = bits
        isInitialized = true
    }

    /// What TEE_DeriveKey leaves in its output object: a GENERIC_SECRET holding `value`.
    func setDerivedSecret(_ value: SecureBytes) {
        secret = value
        keySize = value.count * 8
        isInitialized = true
    }

    /// `TEE_GetObjectBufferAttribute`: the attribute's bytes, or SHORT_BUFFER with
    /// `length` set to the size needed. ITEM_NOT_FOUND for an attribute this object lacks.
    public func bufferAttribute(_ id: UInt32, length: inout Int) throws(TEEResult) -> [UInt8] {
        guard isInitialized else { throw .itemNotFound }
        let bytes: [UInt8]
        switch id {
        case AttributeID.secretValue where secret != nil && type.kdfSecretAttribute == nil: bytes = secret!.unsafeBytes
        case type.kdfSecretAttribute where secret != nil: bytes = secret!.unsafeBytes
        case AttributeID.rsaModulus where rsaPublic != nil: bytes = rsaPublic!.modulus
        case AttributeID.rsaPublicExponent where rsaPublic != nil: bytes = rsaPublic!.publicExponent
        case AttributeID.rsaPrivateExponent where rsaPrivate != nil: bytes = rsaPrivate!.privateComponents.privateExponent.unsafeBytes
        case AttributeID.rsaPrime1 where rsaPrivate != nil: bytes = rsaPrivate!.privateComponents.prime1.unsafeBytes
        case AttributeID.rsaPrime2 where rsaPrivate != nil: bytes = rsaPrivate!.privateComponents.prime2.unsafeBytes
        case AttributeID.rsaExponent1 where rsaPrivate != nil: bytes = strippingZeros(rsaPrivate!.privateComponents.exponent1.unsafeBytes)
        case AttributeID.rsaExponent2 where rsaPrivate != nil: bytes = strippingZeros(rsaPrivate!.privateComponents.exponent2.unsafeBytes)
        case AttributeID.rsaCoefficient where rsaPrivate != nil: bytes = strippingZeros(rsaPrivate!.privateComponents.coefficient.unsafeBytes)
        case AttributeID.eccPublicX where ecPublic != nil: bytes = ecPublic!.coordinates.x
        case AttributeID.eccPublicY where ecPublic != nil: bytes = ecPublic!.coordinates.y
        case AttributeID.eccPrivateValue where ecPrivate != nil: bytes = ecPrivate!.privateValue.unsafeBytes
        case AttributeID.dsaPrime where dsa != nil: bytes = dsa!.prime
        case AttributeID.dsaSubprime where dsa != nil: bytes = dsa!.subprime
        case AttributeID.dsaBase where dsa != nil: bytes = dsa!.base
        case AttributeID.dsaPublicValue where dsa != nil: bytes = dsa!.publicValue
        case AttributeID.dsaPrivateValue where dsa?.privateValue != nil: bytes = strippingZeros(dsa!.privateValue!.unsafeBytes)
        case AttributeID.dhPrime where dh != nil: bytes = dh!.prime
        case AttributeID.dhBase where dh != nil: bytes = dh!.base
        case AttributeID.dhSubprime where dh?.subprime != nil: bytes = dh!.subprime!
        case AttributeID.dhPublicValue where dh != nil: bytes = dh!.publicValue
        case AttributeID.dhPrivateValue where dh != nil: bytes = strippingZeros(dh!.privateValue.unsafeBytes)
        default: throw .itemNotFound
        }
        guard bytes.count <= length else {
            length = bytes.count
            throw .shortBuffer
        }
        length = bytes.count
        return bytes
    }
}

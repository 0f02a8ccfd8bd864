import TEECrypto

/// GP's arithmetical API (TEE Internal Core API §8, `TEE_BigInt*`): a signed integer variable
/// of a fixed capacity, set by the functions that name it as their destination.
///
/// As in GP (and OP-TEE), a function that returns a `TEEResult` reports a value that does not
/// fit (OVERFLOW) or a buffer too small (SHORT_BUFFER); a function that returns nothing panics
/// the TA when its result does not fit the destination, on a division by zero, a modulus below
/// 2 or an inverse that does not exist — GP leaves those undefined and a panic is what a C TA
/// on OP-TEE gets (code 0xB16127). Destinations may be operands too (`a.add(a, b)`).
public final class TEEBigInt: CustomStringConvertible {
    /// `gpd.tee.arith.maxBigIntSize`: the largest capacity in bits. Every value the API keeps
    /// is at most this large, which bounds each operation's time and memory (a 4096-bit modular
    /// exponentiation is the slowest, ≈ 0.1 s).
    public static let maxBits = 4096
    /// OP-TEE's panic code for the arithmetical API ("BIGINT").
    public static let panicCode: UInt32 = 0xB16127

    /// The capacity in bits, a multiple of 32 (GP sizes a TEE_BigInt in 32-bit words).
    public let capacityBits: Int
    public private(set) var value: BigInteger = .zero

    /// `TEE_BigIntInit` for a variable of `bits` bits (0 holds only zero). Panics above `maxBits`.
    public init(bits: Int) {
        guard bits >= 0, bits <= Self.maxBits else { TEE.current.panic(Self.panicCode, "TEE_BigIntInit: \(bits) bits (at most \(Self.maxBits))") }
        capacityBits = (bits + 31) / 32 * 32
    }

    public var description: String { value.description }

    private func fits(_ v: BigInteger) -> Bool { v.bitCount <= capacityBits }

    /// Stores a result; a value that does not fit is OVERFLOW.
    private func store(_ v: BigInteger) throws(TEEResult) {
        guard fits(v) else { throw .overflow }
        value = v
    }

    /// Stores the result of a function that returns nothing: anything but a value that fits
    /// panics the TA.
    private func set(_ what: String, _ compute: () throws(CryptoError) -> BigInteger) {
        let v: BigInteger
        do { v = try compute() } catch { TEE.current.panic(Self.panicCode, "\(what): \(error.reason)") }
        guard fits(v) else { TEE.current.panic(Self.panicCode, "\(what): a \(v.bitCount)-bit result in a \(capacityBits)-bit destination") }
        value = v
    }

    private static func check(_ what: String, modulus n: TEEBigInt) {
        guard n.value.compare(2) >= 0 else { TEE.current.panic(panicCode, "\(what): modulus \(n.value) is below 2") }
    }

    private static func unexpected(_ what: String, _ error: CryptoError) -> Never {
        TEE.current.panic(panicCode, "\(what): \(error.reason)")
    }

    // MARK: Conversion

    /// `TEE_BigIntConvertFromOctetString`: the big-endian magnitude `bytes` with the sign of
    /// `sign` (negative for a negative value). OVERFLOW if it does not fit.
    public func setFromOctetString(_ bytes: [UInt8], sign: Int32) throws(TEEResult) {
        let v: BigInteger
        do { v = try BigInteger(magnitude: bytes, negative: sign < 0) } catch { throw .overflow }
        try store(v)
    }

    /// `TEE_BigIntConvertToOctetString`: the magnitude, big-endian, without leading zeros.
    public var octetString: [UInt8] { value.magnitude }

    /// `TEE_BigIntConvertFromS32`.
    public func setFromS32(_ v: Int32) {
        set("TEE_BigIntConvertFromS32") { () throws(CryptoError) in try BigInteger(v) }
    }

    /// `TEE_BigIntConvertToS32`: OVERFLOW if the value is outside Int32.
    public func s32() throws(TEEResult) -> Int32 {
        guard let v = value.int32Value else { throw .overflow }
        return v
    }

    // MARK: Logical operations

    /// `TEE_BigIntCmp`: negative, zero or positive as self is below, equal to or above `other`.
    public func compare(_ other: TEEBigInt) -> Int32 { Int32(value.compare(other.value)) }
    /// `TEE_BigIntCmpS32`.
    public func compare(_ v: Int32) -> Int32 { Int32(value.compare(v)) }

    public var isNegative: Bool { value.isNegative }

    /// `TEE_BigIntShiftRight`: dest = op >> bits (the magnitude shifted, the sign kept).
    public func shiftRight(_ op: TEEBigInt, _ bits: Int) {
        set("TEE_BigIntShiftRight") { () throws(CryptoError) in try op.value.shiftedRight(bits) }
    }

    /// `TEE_BigIntGetBit`: bit `index` of the magnitude.
    public func bit(_ index: Int) -> Bool { value.bit(index) }

    /// `TEE_BigIntGetBitCount`: the bits of the magnitude (0 for zero).
    public var bitCount: Int { value.bitCount }

    /// `TEE_BigIntSetBit`: OVERFLOW for a bit past the capacity.
    public func setBit(_ index: Int, _ on: Bool) throws(TEEResult) {
        guard index >= 0, index < capacityBits else { throw .overflow }
        let v: BigInteger
        do { v = try value.settingBit(index, to: on) } catch { Self.unexpected("TEE_BigIntSetBit", error) }
        try store(v)
    }

    /// `TEE_BigIntAssign`: OVERFLOW if `src` does not fit.
    public func assign(_ src: TEEBigInt) throws(TEEResult) { try store(src.value) }

    /// `TEE_BigIntAbs`: OVERFLOW if |src| does not fit.
    public func setAbsolute(_ src: TEEBigInt) throws(TEEResult) {
        let v: BigInteger
        do { v = try src.value.absolute() } catch { Self.unexpected("TEE_BigIntAbs", error) }
        try store(v)
    }

    // MARK: Basic arithmetic

    /// `TEE_BigIntAdd`: dest = a + b.
    public func add(_ a: TEEBigInt, _ b: TEEBigInt) { set("TEE_BigIntAdd") { () throws(CryptoError) in try a.value + b.value } }
    /// `TEE_BigIntSub`: dest = a − b.
    public func subtract(_ a: TEEBigInt, _ b: TEEBigInt) { set("TEE_BigIntSub") { () throws(CryptoError) in try a.value - b.value } }
    /// `TEE_BigIntNeg`: dest = −a.
    public func negate(_ a: TEEBigInt) { set("TEE_BigIntNeg") { () throws(CryptoError) in try a.value.negated() } }
    /// `TEE_BigIntMul`: dest = a · b.
    public func multiply(_ a: TEEBigInt, _ b: TEEBigInt) { set("TEE_BigIntMul") { () throws(CryptoError) in try a.value * b.value } }
    /// `TEE_BigIntSquare`: dest = a².
    public func square(_ a: TEEBigInt) { set("TEE_BigIntSquare") { () throws(CryptoError) in try a.value * a.value } }

    /// `TEE_BigIntDiv`: q = a / b rounded towards zero, r = a − q·b (of a's sign); either
    /// destination may be left out. Panics when b is zero.
    public static func divide(quotient q: TEEBigInt?, remainder r: TEEBigInt?, _ a: TEEBigInt, _ b: TEEBigInt) {
        let result: (quotient: BigInteger, remainder: BigInteger)
        do { result = try BigInteger.divide(a.value, by: b.value) } catch { unexpected("TEE_BigIntDiv", error) }
        q?.set("TEE_BigIntDiv") { result.quotient }
        r?.set("TEE_BigIntDiv") { result.remainder }
    }

    // MARK: Modular arithmetic

    /// `TEE_BigIntMod`: dest = a mod n, in [0, n − 1]; n ≥ 2.
    public func mod(_ a: TEEBigInt, _ n: TEEBigInt) {
        Self.check("TEE_BigIntMod", modulus: n)
        set("TEE_BigIntMod") { () throws(CryptoError) in try a.value.modulo(n.value) }
    }

    /// `TEE_BigIntAddMod`: dest = (a + b) mod n.
    public func addMod(_ a: TEEBigInt, _ b: TEEBigInt, _ n: TEEBigInt) {
        Self.check("TEE_BigIntAddMod", modulus: n)
        set("TEE_BigIntAddMod") { () throws(CryptoError) in try (a.value + b.value).modulo(n.value) }
    }

    /// `TEE_BigIntSubMod`: dest = (a − b) mod n.
    public func subtractMod(_ a: TEEBigInt, _ b: TEEBigInt, _ n: TEEBigInt) {
        Self.check("TEE_BigIntSubMod", modulus: n)
        set("TEE_BigIntSubMod") { () throws(CryptoError) in try (a.value - b.value).modulo(n.value) }
    }

    /// `TEE_BigIntMulMod`: dest = a · b mod n.
    public func multiplyMod(_ a: TEEBigInt, _ b: TEEBigInt, _ n: TEEBigInt) {
        Self.check("TEE_BigIntMulMod", modulus: n)
        set("TEE_BigIntMulMod") { () throws(CryptoError) in try (a.value * b.value).modulo(n.value) }
    }

    /// `TEE_BigIntSquareMod`: dest = a² mod n.
    public func squareMod(_ a: TEEBigInt, _ n: TEEBigInt) { multiplyMod(a, a, n) }

    /// `TEE_BigIntInvMod`: dest = a⁻¹ mod n. Panics for a zero a, n < 2, or no inverse.
    public func inverseMod(_ a: TEEBigInt, _ n: TEEBigInt) {
        Self.check("TEE_BigIntInvMod", modulus: n)
        guard !a.value.isZero else { TEE.current.panic(Self.panicCode, "TEE_BigIntInvMod: zero has no inverse") }
        set("TEE_BigIntInvMod") { () throws(CryptoError) in try a.value.inverse(modulo: n.value) }
    }

    /// `TEE_BigIntExpMod`: dest = a^e mod n for e ≥ 0; NOT_SUPPORTED for an even n (as OP-TEE,
    /// whose implementation is Montgomery's). The FMM context is accepted and not needed.
    public func expMod(_ a: TEEBigInt, _ e: TEEBigInt, _ n: TEEBigInt, context: TEEBigIntFMMContext? = nil) throws(TEEResult) {
        guard n.value.compare(2) > 0 else { TEE.current.panic(Self.panicCode, "TEE_BigIntExpMod: modulus \(n.value) is not above 2") }
        guard n.value.isOdd else { throw .notSupported }
        guard !e.value.isNegative else { TEE.current.panic(Self.panicCode, "TEE_BigIntExpMod: a negative exponent") }
        set("TEE_BigIntExpMod") { () throws(CryptoError) in try a.value.power(e.value, modulo: n.value) }
    }

    // MARK: Other arithmetic

    /// `TEE_BigIntRelativePrime`: gcd(a, b) = 1.
    public static func relativelyPrime(_ a: TEEBigInt, _ b: TEEBigInt) -> Bool {
        do { return try BigInteger.gcd(a.value, b.value).compare(1) == 0 } catch { unexpected("TEE_BigIntRelativePrime", error) }
    }

    /// `TEE_BigIntComputeExtendedGcd`: gcd = gcd(|a|, |b|) and, where given, u and v with
    /// a·u + b·v = gcd.
    public static func extendedGCD(gcd: TEEBigInt, u: TEEBigInt?, v: TEEBigInt?, _ a: TEEBigInt, _ b: TEEBigInt) {
        let result: (gcd: BigInteger, u: BigInteger, v: BigInteger)
        do { result = try BigInteger.extendedGCD(a.value, b.value) } catch { unexpected("TEE_BigIntComputeExtendedGcd", error) }
        gcd.set("TEE_BigIntComputeExtendedGcd") { result.gcd }
        u?.set("TEE_BigIntComputeExtendedGcd") { result.u }
        v?.set("TEE_BigIntComputeExtendedGcd") { result.v }
    }

    /// Miller–Rabin rounds for a confidence level: GP asks for an error probability of at most
    /// 2^−level and at least 2^−80; each round gives 2 bits. Attacker: whoever chooses the level
    /// (a client, through the crypt TA): capped at 128 rounds (2^−256), which bounds the time.
    package static func primalityRounds(_ level: UInt32) -> Int { min(max((Int(min(level, 1 << 16)) + 1) / 2, 40), 128) }

    /// `TEE_BigIntIsProbablePrime`: 0 composite, −1 probably prime (never 1: no primality
    /// proof is attempted). Zero, ±1 are composite here, as in OP-TEE; a negative value is
    /// tested by its magnitude.
    public func isProbablePrime(confidenceLevel: UInt32) -> Int32 {
        do { return try value.isProbablePrime(rounds: Self.primalityRounds(confidenceLevel)) ? -1 : 0 } catch {
            Self.unexpected("TEE_BigIntIsProbablePrime", error)
        }
    }

    // MARK: Fast modular multiplication

    /// `TEE_BigIntConvertToFMM`: dest = src mod n in the FMM representation (here the plain
    /// residue: GP leaves the representation to the implementation).
    public static func convertToFMM(_ dest: TEEBigIntFMM, _ src: TEEBigInt, _ n: TEEBigInt, _ context: TEEBigIntFMMContext) {
        dest.residue.mod(src, n)
    }

    /// `TEE_BigIntConvertFromFMM`: dest = the value of src.
    public func setFromFMM(_ src: TEEBigIntFMM, _ n: TEEBigInt, _ context: TEEBigIntFMMContext) {
        set("TEE_BigIntConvertFromFMM") { src.residue.value }
    }

    /// `TEE_BigIntComputeFMM`: dest = a · b mod n.
    public static func computeFMM(_ dest: TEEBigIntFMM, _ a: TEEBigIntFMM, _ b: TEEBigIntFMM, _ n: TEEBigInt, _ context: TEEBigIntFMMContext) {
        dest.residue.multiplyMod(a.residue, b.residue, n)
    }
}

/// `TEE_BigIntFMM`: a value in the fast-modular-multiplication representation of a modulus of
/// at most `bits` bits.
public final class TEEBigIntFMM {
    let residue: TEEBigInt
    /// `TEE_BigIntInitFMM`.
    public init(bits: Int) { residue = TEEBigInt(bits: bits) }
}

/// `TEE_BigIntFMMContext`: what FMM needs of a modulus (nothing here beyond the modulus).
public final class TEEBigIntFMMContext {
    public let modulusBits: Int
    /// `TEE_BigIntInitFMMContext`.
    public init(bits: Int, modulus: TEEBigInt) {
        guard bits >= 0, bits <= TEEBigInt.maxBits else { TEE.current.panic(TEEBigInt.panicCode, "TEE_BigIntInitFMMContext: \(bits) bits (at most \(TEEBigInt.maxBits))") }
        modulusBits = bits
    }
}

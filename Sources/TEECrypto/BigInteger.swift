internal import CMbedTLS

/// A signed integer of any size on mbedTLS's bignum (`mbedtls_mpi`): what GP's arithmetical API
/// (`TEE_BigInt*`, TEEInternalAPI's `TEEBigInt`) computes with. Values are immutable: every
/// operation returns a new one. Zero is always positive (an operation that yields −0 is
/// normalized), so a sign and a magnitude describe a value exactly once.
///
/// Sizes are the caller's to bound (TEEBigInt holds at most `TEEBigInt.maxBits`); mbedTLS's
/// own limit is 10,000 limbs. An allocation mbedTLS cannot make throws `libraryFailure`.
public final class BigInteger: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: the mpi is written only while the object is being built (before any other
    // code can see it) and only read afterwards.
    let mpi: UnsafeMutablePointer<mbedtls_mpi>

    private init() {
        mpi = .allocate(capacity: 1)
        mbedtls_mpi_init(mpi)
    }

    deinit {
        mbedtls_mpi_free(mpi)   // zeroizes the limbs before it frees them
        mpi.deallocate()
    }

    /// Runs `body` on a fresh value and normalizes its sign.
    private static func make(_ what: String, _ body: (UnsafeMutablePointer<mbedtls_mpi>) -> Int32) throws(CryptoError) -> BigInteger {
        let r = BigInteger()
        let ret = body(r.mpi)
        guard ret == 0 else { throw error(what, ret) }
        r.normalize()
        return r
    }

    private func normalize() {
        if mbedtls_mpi_cmp_int(mpi, 0) == 0 { mpi.pointee.s = 1 }
    }

    static func error(_ what: String, _ ret: Int32) -> CryptoError {
        switch ret {
        case MBEDTLS_ERR_MPI_DIVISION_BY_ZERO: CryptoError(.invalidArgument, "\(what): division by zero", mbedTLSError: ret)
        case MBEDTLS_ERR_MPI_NEGATIVE_VALUE: CryptoError(.invalidArgument, "\(what): a negative value where none is allowed", mbedTLSError: ret)
        case MBEDTLS_ERR_MPI_NOT_ACCEPTABLE: CryptoError(.invalidArgument, "\(what): not invertible", mbedTLSError: ret)
        case MBEDTLS_ERR_MPI_BAD_INPUT_DATA: CryptoError(.invalidArgument, "\(what): an input mbedTLS does not accept", mbedTLSError: ret)
        default: CryptoError.mbedTLS(.libraryFailure, what, ret)
        }
    }

    public static let zero: BigInteger = try! BigInteger(0)

    public convenience init(_ value: Int32) throws(CryptoError) {
        self.init()
        let ret = mbedtls_mpi_lset(mpi, mbedtls_mpi_sint(value))
        guard ret == 0 else { throw Self.error("from a 32-bit value", ret) }
    }

    /// The value `sign × magnitude`, the magnitude big-endian (leading zeros allowed).
    public convenience init(magnitude: [UInt8], negative: Bool) throws(CryptoError) {
        self.init()
        let ret = mbedtls_mpi_read_binary(mpi, magnitude, magnitude.count)
        guard ret == 0 else { throw Self.error("from an octet string", ret) }
        if negative { mpi.pointee.s = -1 }
        normalize()
    }

    /// The magnitude, big-endian, without leading zeros (empty for zero).
    public var magnitude: [UInt8] {
        let n = mbedtls_mpi_size(mpi)
        guard n > 0 else { return [] }
        return mpiBytes(mpi, width: n)
    }

    public var isNegative: Bool { mpi.pointee.s < 0 }
    public var isZero: Bool { mbedtls_mpi_cmp_int(mpi, 0) == 0 }
    public var isOdd: Bool { mbedtls_mpi_get_bit(mpi, 0) == 1 }

    /// The number of bits of the magnitude (0 for zero).
    public var bitCount: Int { mbedtls_mpi_bitlen(mpi) }

    /// Bit `index` of the magnitude.
    public func bit(_ index: Int) -> Bool { index >= 0 && mbedtls_mpi_get_bit(mpi, index) == 1 }

    /// The value as an Int32, nil if it does not fit.
    public var int32Value: Int32? {
        guard bitCount <= 32 else { return nil }
        var word: UInt64 = 0
        for b in magnitude { word = word << 8 | UInt64(b) }
        let signed = isNegative ? -Int64(word) : Int64(word)
        return Int32(exactly: signed)
    }

    /// −1, 0 or 1 as self is below, equal to or above `other`.
    public func compare(_ other: BigInteger) -> Int { Int(mbedtls_mpi_cmp_mpi(mpi, other.mpi)) }
    public func compare(_ value: Int32) -> Int { Int(mbedtls_mpi_cmp_int(mpi, mbedtls_mpi_sint(value))) }

    public var description: String { (isNegative ? "-0x" : "0x") + (magnitude.isEmpty ? "0" : magnitude.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()) }

    // MARK: Operations

    public func negated() throws(CryptoError) -> BigInteger {
        try Self.make("negation") { r in
            let ret = mbedtls_mpi_copy(r, mpi)
            r.pointee.s = -mpi.pointee.s
            return ret
        }
    }

    public func absolute() throws(CryptoError) -> BigInteger {
        try Self.make("absolute value") { r in
            let ret = mbedtls_mpi_copy(r, mpi)
            r.pointee.s = 1
            return ret
        }
    }

    /// The same value with bit `index` of the magnitude set to `value`.
    public func settingBit(_ index: Int, to value: Bool) throws(CryptoError) -> BigInteger {
        try Self.make("set bit") { r in
            var ret = mbedtls_mpi_copy(r, mpi)
            if ret == 0 { ret = mbedtls_mpi_set_bit(r, index, value ? 1 : 0) }
            return ret
        }
    }

    /// The magnitude shifted right by `bits`, the sign kept (−5 >> 1 is −2, as in OP-TEE).
    public func shiftedRight(_ bits: Int) throws(CryptoError) -> BigInteger {
        try Self.make("shift right") { r in
            var ret = mbedtls_mpi_copy(r, mpi)
            if ret == 0 { ret = mbedtls_mpi_shift_r(r, bits) }
            return ret
        }
    }

    public static func + (a: BigInteger, b: BigInteger) throws(CryptoError) -> BigInteger {
        try make("addition") { mbedtls_mpi_add_mpi($0, a.mpi, b.mpi) }
    }

    public static func - (a: BigInteger, b: BigInteger) throws(CryptoError) -> BigInteger {
        try make("subtraction") { mbedtls_mpi_sub_mpi($0, a.mpi, b.mpi) }
    }

    public static func * (a: BigInteger, b: BigInteger) throws(CryptoError) -> BigInteger {
        try make("multiplication") { mbedtls_mpi_mul_mpi($0, a.mpi, b.mpi) }
    }

    /// Truncated division: `a = q·b + r`, q rounded towards zero, r of a's sign and |r| < |b|.
    /// Division by zero throws `invalidArgument`.
    public static func divide(_ a: BigInteger, by b: BigInteger) throws(CryptoError) -> (quotient: BigInteger, remainder: BigInteger) {
        let q = BigInteger(), r = BigInteger()
        let ret = mbedtls_mpi_div_mpi(q.mpi, r.mpi, a.mpi, b.mpi)
        guard ret == 0 else { throw error("division", ret) }
        q.normalize()
        r.normalize()
        return (q, r)
    }

    /// `a mod n` in [0, n) for n > 0 (`invalidArgument` otherwise).
    public func modulo(_ n: BigInteger) throws(CryptoError) -> BigInteger {
        try Self.make("modulo") { mbedtls_mpi_mod_mpi($0, mpi, n.mpi) }
    }

    /// The inverse of self modulo n (n > 1): `invalidArgument` if there is none.
    public func inverse(modulo n: BigInteger) throws(CryptoError) -> BigInteger {
        try Self.make("modular inverse") { mbedtls_mpi_inv_mod($0, mpi, n.mpi) }
    }

    /// self^e mod n in [0, n) for an odd n > 1 and e ≥ 0 (mbedTLS's sliding window;
    /// `invalidArgument` for an even or too small modulus or a negative exponent). The base is
    /// reduced into [0, n) first: for a negative base and an odd exponent whose power is a
    /// multiple of n, mbedTLS 2.28 answers n itself instead of 0 (its sign compensation adds n
    /// to −0) — found by FuzzArithmetic.
    public func power(_ e: BigInteger, modulo n: BigInteger) throws(CryptoError) -> BigInteger {
        let base = isNegative ? try modulo(n) : self
        return try Self.make("modular exponentiation") { mbedtls_mpi_exp_mod($0, base.mpi, e.mpi, n.mpi, nil) }
    }

    /// The greatest common divisor of |a| and |b| (gcd(0, 0) = 0).
    public static func gcd(_ a: BigInteger, _ b: BigInteger) throws(CryptoError) -> BigInteger {
        // mbedtls_mpi_gcd answers gcd(0, b) = 0 in 2.28 (it shifts zeros away first): handled
        // here, as gcd(0, b) = |b|.
        if a.isZero { return try b.absolute() }
        if b.isZero { return try a.absolute() }
        return try make("gcd") { mbedtls_mpi_gcd($0, a.mpi, b.mpi) }
    }

    /// The gcd g of |a| and |b| with u, v such that a·u + b·v = g (extended Euclid on the
    /// magnitudes, the signs of u and v then follow a's and b's).
    public static func extendedGCD(_ a: BigInteger, _ b: BigInteger) throws(CryptoError) -> (gcd: BigInteger, u: BigInteger, v: BigInteger) {
        let one = try BigInteger(1)
        // Invariants: r0 = |a|·s0 + |b|·t0, r1 = |a|·s1 + |b|·t1.
        var (r0, r1) = (try a.absolute(), try b.absolute())
        var (s0, s1) = (one, BigInteger.zero)
        var (t0, t1) = (BigInteger.zero, one)
        while !r1.isZero {
            let (q, r) = try divide(r0, by: r1)
            (r0, r1) = (r1, r)
            (s0, s1) = (s1, try s0 - q * s1)
            (t0, t1) = (t1, try t0 - q * t1)
        }
        return (r0, a.isNegative ? try s0.negated() : s0, b.isNegative ? try t0.negated() : t0)
    }

    /// Miller–Rabin with `rounds` random bases (mbedTLS's `mpi_is_prime_ext`, bases from the
    /// process's DRBG): false means composite for certain, true prime with error below 4^−rounds.
    public func isProbablePrime(rounds: Int) throws(CryptoError) -> Bool {
        let g = RandomGenerator.shared
        let ret = mbedtls_mpi_is_prime_ext(mpi, Int32(rounds), g.callback, g.context)
        if ret == 0 { return true }
        if ret == MBEDTLS_ERR_MPI_NOT_ACCEPTABLE { return false }
        throw Self.error("primality test", ret)
    }
}

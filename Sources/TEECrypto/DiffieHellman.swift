internal import CMbedTLS

/// Finite-field Diffie–Hellman (PKCS #3, GP's TEE_TYPE_DH_KEYPAIR): a group (prime p, base g,
/// optionally the subgroup order q), a private value x and the public value y = g^x mod p, all
/// big-endian. The arithmetic is mbedTLS's bignum modular exponentiation.
public struct DiffieHellmanKey: Sendable {
    public let prime: [UInt8]
    public let base: [UInt8]
    public let subprime: [UInt8]?
    public let publicValue: [UInt8]
    public let privateValue: SecureBytes

    /// The prime's size in bits: GP's key size.
    public var bitCount: Int { Self.bits(prime) }

    /// Sizes GP and OP-TEE take for the prime.
    public static let primeBits = 256...2048

    /// A key from its parts. `.invalidKey` unless p is odd and 32…256 bytes long, 1 < g < p − 1,
    /// 0 < x (< q when q is given, < p otherwise) and 1 < y < p − 1.
    public init(prime: [UInt8], base: [UInt8], subprime: [UInt8]? = nil, privateValue: SecureBytes, publicValue: [UInt8]) throws {
        let p = Self.stripped(prime), g = Self.stripped(base)
        try Self.checkGroup(p, g)
        let x = privateValue.unsafeBytes
        guard !Self.stripped(x).isEmpty, Self.compare(x, subprime.map(Self.stripped) ?? p) < 0 else {
            throw CryptoError(.invalidKey, "a DH private value must lie in [1, \(subprime == nil ? "p" : "q") − 1]")
        }
        // The stated public value is not checked against x (OP-TEE does not, and xtest 4008's
        // vector would fail it: derivation uses x only); it must lie in (1, p − 1).
        var pMinusOne = p
        pMinusOne[pMinusOne.count - 1] &-= 1
        guard Self.compare(publicValue, [1]) > 0, Self.compare(publicValue, pMinusOne) < 0 else {
            throw CryptoError(.invalidKey, "a DH public value must lie in (1, p − 1)")
        }
        self.prime = p
        self.base = g
        self.subprime = subprime.map(Self.stripped)
        self.privateValue = privateValue
        self.publicValue = Self.stripped(publicValue)
    }

    /// A fresh key in the group: x of exactly `privateBits` bits when given (GP's
    /// TEE_ATTR_DH_X_BITS), else random below q (when given) or p − 1.
    public init(generatingIn prime: [UInt8], base: [UInt8], subprime: [UInt8]? = nil, privateBits: Int? = nil, random: RandomGenerator = .shared) throws {
        let p = Self.stripped(prime), g = Self.stripped(base)
        try Self.checkGroup(p, g)
        let limit = subprime.map(Self.stripped) ?? p
        if let privateBits, privateBits < 2 || privateBits >= Self.bits(limit) {
            throw CryptoError(.invalidArgument, "a DH private value of \(privateBits) bits in a \(Self.bits(limit))-bit group")
        }
        var x: [UInt8]
        repeat {
            let bits = privateBits ?? Self.bits(limit)
            x = try random.bytes(count: (bits + 7) / 8)
            let excess = x.count * 8 - bits
            x[0] &= UInt8(0xFF >> excess)
            if privateBits != nil { x[0] |= UInt8(0x80 >> excess) }   // exactly that many bits
        } while Self.stripped(x).count < 1 || Self.compare(x, limit) >= 0 || Self.stripped(x) == [1]
        self.prime = p
        self.base = g
        self.subprime = subprime.map(Self.stripped)
        self.publicValue = try Self.power(g, x, p)
        self.privateValue = SecureBytes(consuming: &x)
    }

    /// The shared secret peer^x mod p, without leading zeros (as OP-TEE returns it).
    /// `.invalidKey` for a peer value outside (1, p − 1) — the small-subgroup values 0, 1, p − 1.
    public func sharedSecret(with peer: [UInt8]) throws -> SecureBytes {
        let y = Self.stripped(peer)
        var pMinusOne = prime
        pMinusOne[pMinusOne.count - 1] &-= 1   // p is odd: no borrow
        guard Self.compare(y, [1]) > 0, Self.compare(y, pMinusOne) < 0 else {
            throw CryptoError(.invalidKey, "a DH peer value must lie in (1, p − 1)")
        }
        var z = try Self.power(y, privateValue.unsafeBytes, prime)
        return SecureBytes(consuming: &z)
    }

    // MARK: Arithmetic

    static func stripped(_ bytes: [UInt8]) -> [UInt8] { Array(bytes.drop { $0 == 0 }) }

    static func bits(_ bytes: [UInt8]) -> Int {
        let s = stripped(bytes)
        guard let first = s.first else { return 0 }
        return s.count * 8 - first.leadingZeroBitCount
    }

    /// Compares two big-endian integers.
    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let x = stripped(a), y = stripped(b)
        if x.count != y.count { return x.count < y.count ? -1 : 1 }
        for (l, r) in zip(x, y) where l != r { return l < r ? -1 : 1 }
        return 0
    }

    /// The prime's size as OP-TEE counts a DH key's: 8 × its length in bytes (a 32-byte prime
    /// whose top bits are 0 is a 256-bit key; xtest's `--asym-perf` makes such primes).
    public var byteRoundedBitCount: Int { (bitCount + 7) / 8 * 8 }

    static func checkGroup(_ p: [UInt8], _ g: [UInt8]) throws {
        guard primeBits.contains((bits(p) + 7) / 8 * 8), (p.last ?? 0) & 1 == 1 else {
            throw CryptoError(.invalidKey, "a DH prime must be odd and of \(primeBits.lowerBound / 8) to \(primeBits.upperBound / 8) bytes, not \(bits(p)) bits")
        }
        var pMinusOne = p
        pMinusOne[pMinusOne.count - 1] &-= 1
        guard compare(g, [1]) > 0, compare(g, pMinusOne) < 0 else { throw CryptoError(.invalidKey, "a DH base must lie in (1, p − 1)") }
    }

    /// base^exponent mod modulus, big-endian, without leading zeros.
    static func power(_ base: [UInt8], _ exponent: [UInt8], _ modulus: [UInt8]) throws -> [UInt8] {
        var b = mbedtls_mpi(), e = mbedtls_mpi(), m = mbedtls_mpi(), r = mbedtls_mpi()
        mbedtls_mpi_init(&b); mbedtls_mpi_init(&e); mbedtls_mpi_init(&m); mbedtls_mpi_init(&r)
        defer { mbedtls_mpi_free(&b); mbedtls_mpi_free(&e); mbedtls_mpi_free(&m); mbedtls_mpi_free(&r) }
        var ret = mbedtls_mpi_read_binary(&b, base, base.count)
        if ret == 0 { ret = mbedtls_mpi_read_binary(&e, exponent, exponent.count) }
        if ret == 0 { ret = mbedtls_mpi_read_binary(&m, modulus, modulus.count) }
        if ret == 0 { ret = mbedtls_mpi_exp_mod(&r, &b, &e, &m, nil) }
        guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "DH modular exponentiation", ret) }
        let out = mpiBytes(&r, width: mbedtls_mpi_size(&r))
        return stripped(out).isEmpty ? [0] : stripped(out)
    }
}

import Foundation
import OPTEETestTAInterface
import OPTEETestTAs
import Testing
import TEECrypto
import TEEEmbedded
import TEEInternalAPI

/// The crypt TA's arithmetic commands as xtest's 4100 series drives them (`cmd_*` helpers):
/// handles in values, signed values as Int32 bit patterns, magnitudes as octet strings.
struct ArithClient {
    let crypt: CryptClient

    func call(_ command: CryptTA.Command, _ op: TEEOperation) throws(TEEClientError) { try crypt.call(command, op) }

    func newVar(_ bits: UInt32) throws(TEEClientError) -> UInt32 {
        let op = TEEOperation(.valueInput(bits), .valueOutput)
        try call(.arithNewVar, op)
        return op.value(1)!.a
    }

    func free(_ h: UInt32) throws(TEEClientError) { try call(.arithFreeHandle, TEEOperation(.valueInput(h))) }

    func set(_ h: UInt32, magnitude: [UInt8], negative: Bool = false) throws(TEEClientError) {
        try call(.arithFromOctetString, TEEOperation(.valueInput(h, UInt32(bitPattern: negative ? -1 : 1)), .tempInput(magnitude)))
    }

    func set(_ h: UInt32, hex: String) throws(TEEClientError) {
        let negative = hex.hasPrefix("-")
        var digits = String(hex.drop { $0 == "-" })
        if digits.count % 2 == 1 { digits = "0" + digits }
        try set(h, magnitude: [UInt8](hex: digits), negative: negative)
    }

    func set(_ h: UInt32, _ v: Int32) throws(TEEClientError) { try call(.arithFromS32, TEEOperation(.valueInput(h, UInt32(bitPattern: v)))) }

    /// (sign, magnitude) with GP's size probing: a first call with no room, then the size asked.
    func get(_ h: UInt32) throws(TEEClientError) -> (sign: Int32, magnitude: [UInt8]) {
        let probe = TEEOperation(.valueInput(h), .valueOutput, .tempOutput(capacity: 0))
        do { try call(.arithGetValue, probe) } catch where error.result == .shortBuffer {
            let op = TEEOperation(.valueInput(h), .valueOutput, .tempOutput(capacity: probe.size(2)!))
            try call(.arithGetValue, op)
            return (Int32(bitPattern: op.value(1)!.a), op.output(2)!)
        }
        return (Int32(bitPattern: probe.value(1)!.a), [])
    }

    func s32(_ h: UInt32) throws(TEEClientError) -> Int32 {
        let op = TEEOperation(.valueInput(h), .valueOutput)
        try call(.arithGetValueS32, op)
        return Int32(bitPattern: op.value(1)!.a)
    }

    /// The value as an Int64 (the caller knows it fits).
    func int64(_ h: UInt32) throws(TEEClientError) -> Int64 {
        let (sign, magnitude) = try get(h)
        let m = magnitude.reduce(Int64(0)) { $0 << 8 | Int64($1) }
        return sign < 0 ? -m : m
    }

    func set(_ h: UInt32, int64 v: Int64) throws(TEEClientError) {
        var m = v.magnitude, bytes: [UInt8] = []
        while m > 0 { bytes.insert(UInt8(truncatingIfNeeded: m), at: 0); m >>= 8 }
        try set(h, magnitude: bytes, negative: v < 0)
    }

    func out(_ command: CryptTA.Command, _ a: UInt32, _ b: UInt32) throws(TEEClientError) -> UInt32 {
        let op = TEEOperation(.valueInput(a, b), .valueOutput)
        try call(command, op)
        return op.value(1)!.a
    }

    func binary(_ command: CryptTA.Command, _ a: UInt32, _ b: UInt32, into dest: UInt32) throws(TEEClientError) {
        try call(command, TEEOperation(.valueInput(a, b), .valueInput(dest)))
    }

    func modular(_ command: CryptTA.Command, _ a: UInt32, _ b: UInt32, _ n: UInt32, into dest: UInt32) throws(TEEClientError) {
        try call(command, TEEOperation(.valueInput(a, b), .valueInput(n, dest)))
    }

    func cmp(_ a: UInt32, _ b: UInt32) throws(TEEClientError) -> Int32 { Int32(bitPattern: try out(.arithCmp, a, b)) }
}

@Suite struct ArithmeticTests {
    static func client() throws -> ArithClient { ArithClient(crypt: try CryptClient.open(CryptTATests.world())) }

    /// RFC 3526 §3, the 2048-bit MODP group's prime (a safe prime: (p − 1) / 2 is prime too), as
    /// mbedTLS 2.28's `MBEDTLS_DHM_RFC3526_MODP_2048_P` spells it.
    static let modp2048 = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
        + "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
        + "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
        + "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
        + "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
        + "15728E5A8AACAA68FFFFFFFFFFFFFFFF"

    /// Known answers: 4^13 mod 497 = 445 (the worked example of modular exponentiation in
    /// Schneier's Applied Cryptography and Wikipedia's article); primes and composites of the
    /// literature — 2^127 − 1 (Lucas, 1876), RFC 3526's 2048-bit prime and its (p − 1)/2, F5 =
    /// 2^32 + 1 = 641 · 6,700,417 (Euler), the Carmichael numbers 561 and 41,041 (which fool
    /// Fermat's test but not Miller–Rabin).
    @Test func knownAnswers() throws {
        let a = try Self.client()
        let x = try a.newVar(2048), e = try a.newVar(2048), n = try a.newVar(2048), r = try a.newVar(2048)
        try a.set(x, 4); try a.set(e, 13); try a.set(n, 497)
        try a.call(.arithExpMod, TEEOperation(.valueInput(x, e), .valueInput(n, CryptTA.ArithHandle.invalid), .valueInput(r)))
        #expect(try a.int64(r) == 445)
        // Negative bases: (−2)^3 mod 7 = 6, and (−291)^3 mod 97 = 0 — mbedTLS's own sign
        // compensation answered 97 (n itself) for that one (FuzzArithmetic found it).
        for (base, exponent, modulus, expected) in [(Int32(-2), Int32(3), Int32(7), Int64(6)), (-291, 3, 97, 0), (-291, 2, 97, 0), (-5, 0, 97, 1)] {
            try a.set(x, base); try a.set(e, exponent); try a.set(n, modulus)
            try a.call(.arithExpMod, TEEOperation(.valueInput(x, e), .valueInput(n, CryptTA.ArithHandle.invalid), .valueInput(r)))
            #expect(try a.int64(r) == expected, "(\(base))^\(exponent) mod \(modulus)")
        }

        func isPrime(_ hex: String) throws -> Int32 {
            try a.set(x, hex: hex)
            return Int32(bitPattern: try a.out(.arithIsPrime, x, 80))
        }
        #expect(try isPrime("7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF") != 0, "2^127 − 1")
        #expect(try isPrime(Self.modp2048) != 0, "RFC 3526's 2048-bit prime")
        // (p − 1) / 2 through the TA's own shift: p >> 1 (p is odd).
        try a.set(n, hex: Self.modp2048)
        try a.call(.arithShiftRight, TEEOperation(.valueInput(n, 1), .valueInput(x)))
        #expect(Int32(bitPattern: try a.out(.arithIsPrime, x, 80)) != 0, "(p − 1) / 2 of a safe prime")
        for composite in ["100000001", "231", "A051", "0", "1", "FA0"] {
            #expect(try isPrime(composite) == 0, "\(composite) is composite (or a unit)")
        }
        for prime in ["2", "3", "11", "FA1"] { #expect(try isPrime(prime) == -1, "\(prime): probably prime (GP's −1)") }

        // The RFC 3526 generator 2 has an inverse modulo p with 2 · inv ≡ 1.
        try a.set(x, 2)
        try a.binary(.arithInvMod, x, n, into: r)
        try a.modular(.arithMulMod, x, r, n, into: e)
        #expect(try a.s32(e) == 1)
    }

    /// Against Swift's own integer arithmetic as the oracle, on random values (of both signs,
    /// up to 2^62 in magnitude, products of 31-bit values): every operation GP defines on them,
    /// including truncated division, GP's non-negative mod, the modular operations, shifts of the
    /// magnitude, bits, comparisons and Int32 conversion.
    @Test func agreesWithSwiftIntegers() throws {
        let a = try Self.client()
        let x = try a.newVar(256), y = try a.newVar(256), n = try a.newVar(256), r = try a.newVar(256), q = try a.newVar(256)
        var rng = SystemRandomNumberGenerator()
        func random(_ bits: Int) -> Int64 {
            let m = Int64.random(in: 0..<(Int64(1) << bits), using: &rng)
            return Bool.random(using: &rng) ? -m : m
        }
        func mod(_ v: Int64, _ m: Int64) -> Int64 { (v % m + m) % m }
        for round in 0..<300 {
            let u = random(Int.random(in: 1...62, using: &rng)), v = random(Int.random(in: 1...62, using: &rng))
            try a.set(x, int64: u); try a.set(y, int64: v)
            #expect(try a.int64(x) == u, "octet-string round trip of \(u)")
            #expect(try a.cmp(x, y) == (u < v ? -1 : u == v ? 0 : 1))
            try a.binary(.arithAdd, x, y, into: r); #expect(try a.int64(r) == u + v)
            try a.binary(.arithSub, x, y, into: r); #expect(try a.int64(r) == u - v)
            try a.call(.arithNeg, TEEOperation(.valueInput(x, r))); #expect(try a.int64(r) == -u)
            try a.call(.arithAbs, TEEOperation(.valueInput(x, r))); #expect(try a.int64(r) == abs(u))
            let small = random(31), other = random(31)
            try a.set(q, int64: small); try a.set(r, int64: other)
            try a.binary(.arithMul, q, r, into: n); #expect(try a.int64(n) == small * other)
            try a.call(.arithSqr, TEEOperation(.valueInput(q, n))); #expect(try a.int64(n) == small * small)
            if v != 0 {
                try a.call(.arithDiv, TEEOperation(.valueInput(x, y), .valueInput(q, r)))
                #expect(try a.int64(q) == u / v && a.int64(r) == u % v, "\(u) / \(v): truncated")
            }
            let m = Int64.random(in: 2..<(Int64(1) << 31), using: &rng)
            try a.set(n, int64: m)
            try a.binary(.arithMod, x, n, into: r); #expect(try a.int64(r) == mod(u, m), "\(u) mod \(m)")
            let um = mod(u, m), vm = mod(v, m)
            try a.set(x, int64: um); try a.set(y, int64: vm)
            try a.modular(.arithAddMod, x, y, n, into: r); #expect(try a.int64(r) == (um + vm) % m)
            try a.modular(.arithSubMod, x, y, n, into: r); #expect(try a.int64(r) == mod(um - vm, m))
            try a.modular(.arithMulMod, x, y, n, into: r); #expect(try a.int64(r) == um * vm % m)
            try a.binary(.arithSqrMod, x, n, into: r); #expect(try a.int64(r) == um * um % m)
            // Shifts move the magnitude and keep the sign (OP-TEE's rule: −5 >> 1 = −2).
            let k = UInt32.random(in: 0...70, using: &rng)
            try a.set(x, int64: u)
            try a.call(.arithShiftRight, TEEOperation(.valueInput(x, k), .valueInput(r)))
            let shifted = k >= 64 ? 0 : Int64(u.magnitude >> UInt64(k))
            #expect(try a.int64(r) == (u < 0 ? -shifted : shifted), "\(u) >> \(k)")
            #expect(try a.out(.arithGetBitCount, x, 0) == UInt32(64 - u.magnitude.leadingZeroBitCount))
            let bit = UInt32.random(in: 0...65, using: &rng)
            #expect(try a.out(.arithGetBit, x, bit) == (bit < 64 && u.magnitude >> UInt64(bit) & 1 == 1 ? 1 : 0))
            if let i32 = Int32(exactly: u) {
                #expect(try a.s32(x) == i32)
            } else {
                #expect(throws: TEEClientError(.overflow, origin: .trustedApp)) { try a.s32(x) }
            }
            _ = round
        }
    }

    /// gcd and the extended gcd (a·u + b·v = gcd, as xtest 4114 checks it), relative primality,
    /// inverses (a · a⁻¹ ≡ 1), and the FMM path (to FMM, multiply, back) against MulMod.
    @Test func gcdInversesAndFMM() throws {
        let a = try Self.client()
        let vars = try (0..<8).map { _ in try a.newVar(2048) }
        let (x, y, u, v, g, t1, t2, n) = (vars[0], vars[1], vars[2], vars[3], vars[4], vars[5], vars[6], vars[7])
        var rng = SystemRandomNumberGenerator()
        for (hx, hy) in [("F", "A"), ("C", "13"), ("400", "800"), ("-261", "2B5"), ("AB59CDFD83CE2B24", "-4961BF04008953A7F9567AAFBA94D4AF55F473F14FD68AA022982F0FE"), ("0", "7B"), (Self.modp2048, "2")] {
            try a.set(x, hex: hx); try a.set(y, hex: hy)
            try a.call(.arithComputeEGCD, TEEOperation(.valueInput(x, y), .valueInput(u, v), .valueInput(g)))
            try a.binary(.arithMul, u, x, into: t1)
            try a.binary(.arithMul, v, y, into: t2)
            try a.binary(.arithAdd, t1, t2, into: t1)
            #expect(try a.cmp(t1, g) == 0, "a·u + b·v = gcd for \(hx), \(hy)")
            #expect(try a.get(g).sign == 1, "a gcd is not negative")
            // Without u and v: the same gcd.
            try a.call(.arithComputeEGCD, TEEOperation(.valueInput(x, y), .valueInput(CryptTA.ArithHandle.invalid, CryptTA.ArithHandle.invalid), .valueInput(t2)))
            #expect(try a.cmp(t2, g) == 0)
            #expect(try a.out(.arithIsRelativePrime, x, y) == (try a.s32(g) == 1 ? 1 : 0))
        }
        try a.set(x, hex: "C"); try a.set(y, hex: "13")
        try a.call(.arithComputeEGCD, TEEOperation(.valueInput(x, y), .valueInput(u, v), .valueInput(g)))
        #expect(try a.s32(g) == 1)

        try a.set(n, hex: Self.modp2048)
        let fmm = try (0..<3).map { _ -> UInt32 in
            let op = TEEOperation(.valueInput(2048), .valueOutput)
            try a.call(.arithNewFMMVar, op)
            return op.value(1)!.a
        }
        let context = TEEOperation(.valueInput(2048, n), .valueOutput)
        try a.call(.arithNewFMMContext, context)
        let ctx = context.value(1)!.a
        for _ in 0..<5 {
            let bytes = (0..<200).map { _ in UInt8.random(in: 0...255, using: &rng) }
            try a.set(x, magnitude: bytes)
            try a.set(y, magnitude: Array(bytes.reversed()))
            try a.binary(.arithInvMod, x, n, into: t1)
            try a.modular(.arithMulMod, x, t1, n, into: t2)
            #expect(try a.s32(t2) == 1, "x · x⁻¹ ≡ 1 (mod p)")
            try a.call(.arithToFMM, TEEOperation(.valueInput(x, n), .valueInput(ctx, fmm[0])))
            try a.call(.arithToFMM, TEEOperation(.valueInput(y, n), .valueInput(ctx, fmm[1])))
            try a.call(.arithComputeFMM, TEEOperation(.valueInput(fmm[0], fmm[1]), .valueInput(n, ctx), .valueInput(fmm[2])))
            try a.call(.arithFromFMM, TEEOperation(.valueInput(fmm[2], n), .valueInput(ctx, t1)))
            try a.modular(.arithMulMod, x, y, n, into: t2)
            #expect(try a.cmp(t1, t2) == 0, "FMM multiplication = MulMod")
        }
        for h in vars + fmm + [ctx] { try a.free(h) }
    }

    /// The results GP defines for what does not fit or is not allowed, each a specific code.
    @Test func refusals() throws {
        let a = try Self.client()
        let small = try a.newVar(64), big = try a.newVar(2048), zero = try a.newVar(0)
        let taError = { (code: TEEResult) in TEEClientError(code, origin: .trustedApp) }
        // Nine bytes do not fit 64 bits — unless the first is a leading zero.
        #expect(throws: taError(.overflow)) { try a.set(small, magnitude: [1] + [UInt8](repeating: 0, count: 8)) }
        try a.set(small, magnitude: [0] + [UInt8](repeating: 0xFF, count: 8))
        #expect(try a.get(small).magnitude == [UInt8](repeating: 0xFF, count: 8))
        // A zero-bit variable holds zero and nothing else.
        try a.set(zero, 0)
        #expect(throws: taError(.overflow)) { try a.set(zero, magnitude: [1]) }
        #expect(try a.get(zero) == (1, []))
        // Int32 limits: −2^31 converts, 2^31 does not.
        try a.set(big, hex: "-80000000"); #expect(try a.s32(big) == Int32.min)
        try a.set(big, hex: "80000000"); #expect(throws: taError(.overflow)) { try a.s32(big) }
        // SHORT_BUFFER reports the size needed.
        try a.set(big, hex: Self.modp2048)
        let short = TEEOperation(.valueInput(big), .valueOutput, .tempOutput(capacity: 255))
        #expect(throws: taError(.shortBuffer)) { try a.call(.arithGetValue, short) }
        #expect(short.size(2) == 256)
        // Assign and Abs into a smaller variable, a bit past the capacity.
        #expect(throws: taError(.overflow)) { try a.call(.arithAssign, TEEOperation(.valueInput(big, small))) }
        try a.set(big, hex: "-" + Self.modp2048)
        #expect(throws: taError(.overflow)) { try a.call(.arithAbs, TEEOperation(.valueInput(big, small))) }
        #expect(throws: taError(.overflow)) { try a.call(.arithSetBit, TEEOperation(.valueInput(small, 64), .valueInput(1))) }
        try a.call(.arithSetBit, TEEOperation(.valueInput(small, 63), .valueInput(1)))
        #expect(try a.out(.arithGetBit, small, 63) == 1)
        // ExpMod with an even modulus: NOT_SUPPORTED.
        let n = try a.newVar(64), r = try a.newVar(64)
        try a.set(n, 100)
        #expect(throws: taError(.notSupported)) {
            try a.call(.arithExpMod, TEEOperation(.valueInput(small, small), .valueInput(n, CryptTA.ArithHandle.invalid), .valueInput(r)))
        }
        // Handles: wrong kind, freed, never made; wrong parameter types.
        #expect(throws: taError(.badParameters)) { try a.set(small & ~CryptTA.ArithHandle.kindMask | CryptTA.ArithHandle.fmmVar, 1) }
        try a.free(r)
        #expect(throws: taError(.badParameters)) { try a.set(r, 1) }
        #expect(throws: taError(.badParameters)) { try a.free(r) }
        #expect(throws: taError(.badParameters)) { try a.set(CryptTA.ArithHandle.bigInt | 999, 1) }
        #expect(throws: taError(.badParameters)) { try a.call(.arithAdd, TEEOperation(.valueInput(small, small))) }
        #expect(throws: taError(.badParameters)) { try a.call(.arithNewVar, TEEOperation(.valueOutput, .valueOutput)) }
    }

    @Test func primalityRoundsAreBounded() {
        #expect(TEEBigInt.primalityRounds(0) == 40)
        #expect(TEEBigInt.primalityRounds(80) == 40)
        #expect(TEEBigInt.primalityRounds(101) == 51)
        #expect(TEEBigInt.primalityRounds(.max) == 128)
    }
}

/// What GP leaves undefined and OP-TEE panics on (code 0xB16127): each ends the embedded
/// process naming the function; exit tests run each in a child process.
@Suite struct ArithmeticPanicTests {
    @Test(arguments: [
        (0, "TEE_BigIntDiv: division: division by zero"),
        (1, "TEE_BigIntAdd: a 65-bit result in a 64-bit destination"),
        (2, "TEE_BigIntInit: 4097 bits"),
        (3, "TEE_BigIntInvMod: modular inverse: not invertible"),
        (4, "TEE_BigIntMod: modulus 0x01 is below 2"),
    ])
    func undefinedOperationsPanic(index: Int, expected: String) async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [index] in
            let a = try ArithmeticTests.client()
            let x = try a.newVar(64), y = try a.newVar(64), r = try a.newVar(64)
            switch index {
            case 0: try a.set(x, 7); try a.set(y, 0); try a.call(.arithDiv, TEEOperation(.valueInput(x, y), .valueInput(r, r)))
            case 1: try a.set(x, magnitude: [UInt8](repeating: 0xFF, count: 8)); try a.binary(.arithAdd, x, x, into: r)
            case 2: _ = try a.newVar(4097)
            case 3: try a.set(x, 6); try a.set(y, 9); try a.binary(.arithInvMod, x, y, into: r)
            default: try a.set(x, 6); try a.set(y, 1); try a.binary(.arithMod, x, y, into: r)
            }
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains(expected), "\(expected): \(stderr)")
        #expect(stderr.contains("B16127") || stderr.contains("b16127"), "OP-TEE's BIGINT panic code: \(stderr)")
    }
}

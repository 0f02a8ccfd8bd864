#if canImport(Glibc)
import Glibc
#endif
internal import COpenSSL

/// DSA (FIPS 186-4), which mbedTLS 2.28 lacks: served by OpenSSL's libcrypto. A key is its
/// domain (p, q, g), public value y and, for a key pair, private value x — big-endian, as GP's
/// TEE_ATTR_DSA_* attributes carry them. Signatures are r‖s, each as long as q.
public struct DSAKey: @unchecked Sendable {
    // @unchecked: the EVP_PKEY is immutable once built and OpenSSL shares it across threads.
    private let key: PKeyBox
    public let prime: [UInt8], subprime: [UInt8], base: [UInt8], publicValue: [UInt8]
    public let privateValue: SecureBytes?

    /// The prime's size in bits: GP's key size. `subprimeBytes`: each half of a signature.
    public var bitCount: Int { Self.bits(prime) }
    public var subprimeBytes: Int { Self.stripped(subprime).count }

    /// A public key or key pair from its parts. `.invalidKey` for parts OpenSSL refuses, a
    /// prime outside 512…3072 bits, or (for a pair) y ≠ g^x mod p.
    public init(prime: [UInt8], subprime: [UInt8], base: [UInt8], publicValue: [UInt8], privateValue: SecureBytes? = nil) throws {
        let p = Self.stripped(prime), q = Self.stripped(subprime), g = Self.stripped(base), y = Self.stripped(publicValue)
        guard (512...3072).contains(Self.bits(p)), (160...256).contains(Self.bits(q)) else {
            throw CryptoError(.invalidKey, "DSA takes a 512…3072-bit p and a 160…256-bit q, not \(Self.bits(p)) and \(Self.bits(q))")
        }
        if let privateValue {
            guard DiffieHellmanKey.compare(try DiffieHellmanKey.power(g, privateValue.unsafeBytes, p), y) == 0 else {
                throw CryptoError(.invalidKey, "the DSA public value is not g^x mod p")
            }
        }
        key = try PKeyBox(dsa: p, q, g, y, privateValue?.unsafeBytes)
        (self.prime, self.subprime, self.base, self.publicValue, self.privateValue) = (p, q, g, y, privateValue)
    }

    /// A fresh key pair in the domain (p, q, g): x uniformly in [1, q − 1] by rejection sampling
    /// (FIPS 186-4 B.1.2) from TEECrypto's DRBG, y = g^x mod p. (OpenSSL's own key generation
    /// accepts only FIPS's (L, N) pairs; GP's DSA-SHA1 takes p of 512…1024 bits in steps of 64.)
    public init(generatingIn prime: [UInt8], subprime: [UInt8], base: [UInt8], random: RandomGenerator = .shared) throws {
        let q = Self.stripped(subprime)
        guard !q.isEmpty else { throw CryptoError(.invalidKey, "an empty DSA subprime") }
        var x: [UInt8]
        repeat {
            x = try random.bytes(count: q.count)
            x[0] &= UInt8(0xFF >> q[0].leadingZeroBitCount)
        } while Self.stripped(x).isEmpty || DiffieHellmanKey.compare(x, q) >= 0
        let y = try DiffieHellmanKey.power(Self.stripped(base), x, Self.stripped(prime))
        try self.init(prime: prime, subprime: subprime, base: base, publicValue: y, privateValue: SecureBytes(consuming: &x))
    }

    /// Signs the caller's digest (a longer one is truncated to q's size, as DSA specifies).
    public func signature(forDigestBytes digest: [UInt8]) throws -> [UInt8] {
        guard privateValue != nil else { throw CryptoError(.invalidKey, "a DSA public key cannot sign") }
        let der = try key.sign(digest)
        let (r, s) = try Self.decodeSignature(der)
        guard let pr = leftPadded(r, to: subprimeBytes), let ps = leftPadded(s, to: subprimeBytes) else {
            throw CryptoError(.libraryFailure, "a DSA signature wider than q")
        }
        return pr + ps
    }

    /// Verifies r‖s over the caller's digest. `.signatureMismatch` for anything but a valid one.
    public func verify(signature: [UInt8], forDigestBytes digest: [UInt8]) throws {
        let n = subprimeBytes
        guard signature.count == 2 * n else { throw CryptoError(.malformedSignature, "a DSA signature is \(2 * n) bytes here, not \(signature.count)") }
        let der = Self.encodeSignature(Array(signature[..<n]), Array(signature[n...]))
        guard try key.verify(der, digest) else { throw CryptoError(.signatureMismatch, "DSA signature does not verify") }
    }

    // MARK: Encoding

    static func stripped(_ b: [UInt8]) -> [UInt8] { Array(b.drop { $0 == 0 }) }
    static func bits(_ b: [UInt8]) -> Int { DiffieHellmanKey.bits(b) }

    /// SEQUENCE { INTEGER r, INTEGER s } (what OpenSSL's DSA speaks).
    static func encodeSignature(_ r: [UInt8], _ s: [UInt8]) -> [UInt8] {
        func integer(_ v: [UInt8]) -> [UInt8] {
            var body = stripped(v)
            if body.isEmpty || body[0] & 0x80 != 0 { body.insert(0, at: 0) }
            return [0x02] + length(body.count) + body
        }
        func length(_ n: Int) -> [UInt8] { n < 0x80 ? [UInt8(n)] : n < 0x100 ? [0x81, UInt8(n)] : [0x82, UInt8(n >> 8), UInt8(n & 0xFF)] }
        let body = integer(r) + integer(s)
        return [0x30] + length(body.count) + body
    }

    static func decodeSignature(_ der: [UInt8]) throws -> ([UInt8], [UInt8]) {
        // Our own library's output; still read with bounds checks.
        var reader = DERReader(der)
        var seq = DERReader(try reader.readElement(tag: 0x30, what: "DSA signature"))
        let r = try seq.readPositiveInteger(what: "r"), s = try seq.readPositiveInteger(what: "s")
        return (r, s)
    }
}

/// One OpenSSL key (EVP_PKEY), freed with its box.
final class PKeyBox: @unchecked Sendable {
    // @unchecked: immutable after init; OpenSSL's EVP_PKEY is safe to share for sign/verify.
    let pkey: OpaquePointer

    private init(pkey: OpaquePointer) { self.pkey = pkey }

    /// A DSA key (or domain only, when y is nil) from big-endian parts.
    convenience init(dsa p: [UInt8], _ q: [UInt8], _ g: [UInt8], _ y: [UInt8]?, _ x: [UInt8]?) throws {
        guard let bld = OSSL_PARAM_BLD_new() else { throw CryptoError(.libraryFailure, "OSSL_PARAM_BLD_new: out of memory") }
        defer { OSSL_PARAM_BLD_free(bld) }
        var numbers: [OpaquePointer] = []
        // The builder and the parameters it makes keep the key names' pointers (not copies):
        // the names live until the key is built.
        var names: [UnsafeMutablePointer<CChar>] = []
        defer {
            for n in numbers { BN_clear_free(n) }
            for n in names { free(n) }
        }
        func push(_ name: String, _ bytes: [UInt8]) throws {
            guard let bn = BN_bin2bn(bytes, Int32(bytes.count), nil), let key = strdup(name) else { throw CryptoError(.libraryFailure, "BN_bin2bn") }
            numbers.append(bn)
            names.append(key)
            guard OSSL_PARAM_BLD_push_BN(bld, key, bn) == 1 else { throw CryptoError(.libraryFailure, "OSSL_PARAM_BLD_push_BN") }
        }
        try push(OSSL_PKEY_PARAM_FFC_P, p)
        try push(OSSL_PKEY_PARAM_FFC_Q, q)
        try push(OSSL_PKEY_PARAM_FFC_G, g)
        if let y { try push(OSSL_PKEY_PARAM_PUB_KEY, y) }
        if let x { try push(OSSL_PKEY_PARAM_PRIV_KEY, x) }
        guard let params = OSSL_PARAM_BLD_to_param(bld) else { throw CryptoError(.libraryFailure, "OSSL_PARAM_BLD_to_param") }
        defer { OSSL_PARAM_free(params) }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "DSA", nil) else { throw CryptoError(.unsupportedAlgorithm, "OpenSSL has no DSA") }
        defer { EVP_PKEY_CTX_free(ctx) }
        // EVP_PKEY_KEYPAIR (0x87), EVP_PKEY_PUBLIC_KEY (0x86), EVP_PKEY_KEY_PARAMETERS (0x84).
        let selection: Int32 = x != nil ? 0x87 : y != nil ? 0x86 : 0x84
        var pkey: OpaquePointer?
        guard EVP_PKEY_fromdata_init(ctx) == 1, EVP_PKEY_fromdata(ctx, &pkey, selection, params) == 1, let pkey else {
            throw CryptoError(.invalidKey, "OpenSSL refused the DSA key")
        }
        self.init(pkey: pkey)
    }

    deinit { EVP_PKEY_free(pkey) }

    func sign(_ digest: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { throw CryptoError(.libraryFailure, "EVP_PKEY_CTX_new_from_pkey") }
        defer { EVP_PKEY_CTX_free(ctx) }
        var length = 0
        guard EVP_PKEY_sign_init(ctx) == 1, EVP_PKEY_sign(ctx, nil, &length, digest, digest.count) == 1 else { throw CryptoError(.libraryFailure, "DSA signing set-up") }
        var out = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_sign(ctx, &out, &length, digest, digest.count) == 1 else { throw CryptoError(.libraryFailure, "DSA signing") }
        return Array(out.prefix(length))
    }

    func verify(_ signature: [UInt8], _ digest: [UInt8]) throws -> Bool {
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { throw CryptoError(.libraryFailure, "EVP_PKEY_CTX_new_from_pkey") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_verify_init(ctx) == 1 else { throw CryptoError(.libraryFailure, "DSA verification set-up: \(openSSLErrorText())") }
        let ok = EVP_PKEY_verify(ctx, signature, signature.count, digest, digest.count) == 1
        if !ok { ERR_clear_error() }
        return ok
    }
}

/// The oldest error OpenSSL queued on this thread (the queue is emptied).
func openSSLErrorText() -> String {
    let code = ERR_get_error()
    defer { ERR_clear_error() }
    guard code != 0 else { return "no OpenSSL error" }
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(code, &buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

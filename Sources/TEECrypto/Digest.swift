internal import CMbedTLS
internal import COpenSSL

/// The fixed-length hash functions TEECrypto offers: what GP's `TEE_ALG_*` digests name (MD5 and
/// SHA-1 included, for the protocols that still define them — never for image signatures, whose
/// format names its own functions).
public enum DigestAlgorithm: String, Sendable, Hashable, CaseIterable {
    case md5 = "MD5"
    case sha1 = "SHA-1"
    case sha224 = "SHA-224"
    case sha256 = "SHA-256"
    case sha384 = "SHA-384"
    case sha512 = "SHA-512"
    case sha3_224 = "SHA3-224"
    case sha3_256 = "SHA3-256"
    case sha3_384 = "SHA3-384"
    case sha3_512 = "SHA3-512"

    /// Output length in bytes.
    public var byteCount: Int {
        switch self {
        case .md5: 16
        case .sha1: 20
        case .sha224, .sha3_224: 28
        case .sha256, .sha3_256: 32
        case .sha384, .sha3_384: 48
        case .sha512, .sha3_512: 64
        }
    }

    /// The libraries that implement it: Debian's mbedTLS 2.28 has no SHA-3.
    public var backends: [CryptoBackend] { mbedTLSType == nil ? [.openSSL] : [.mbedTLS, .openSSL] }

    /// The backend that computes it unless a caller names one: the faster where both have it.
    /// `rproc-tee-bench crypto` measures both (64 MiB, the 2-core x86-64 VM, 2026-12-01):
    /// OpenSSL is faster for every one — SHA-224/256 4.4× (SHA-NI), SHA-384/512 2.1×, SHA-1
    /// 1.9×, MD5 1.1× — so it serves them all; mbedTLS stays the differential reference.
    public var servingBackend: CryptoBackend { .openSSL }

    /// mbedTLS's identifier; nil for what mbedTLS 2.28 lacks.
    var mbedTLSType: mbedtls_md_type_t? {
        switch self {
        case .md5: MBEDTLS_MD_MD5
        case .sha1: MBEDTLS_MD_SHA1
        case .sha224: MBEDTLS_MD_SHA224
        case .sha256: MBEDTLS_MD_SHA256
        case .sha384: MBEDTLS_MD_SHA384
        case .sha512: MBEDTLS_MD_SHA512
        case .sha3_224, .sha3_256, .sha3_384, .sha3_512: nil
        }
    }

    /// mbedTLS's identifier for the functions that sign or pad with it (RSA, ECDSA, HKDF);
    /// `.unsupportedAlgorithm` for one mbedTLS cannot use there.
    func requireMbedTLS(for purpose: String) throws -> mbedtls_md_type_t {
        guard let type = mbedTLSType else {
            throw CryptoError(.unsupportedAlgorithm, "\(rawValue) is not available for \(purpose) (mbedTLS 2.28 has no SHA-3)")
        }
        return type
    }

    var mdInfo: OpaquePointer? { mbedTLSType.flatMap { mbedtls_md_info_from_type($0) } }

    var openSSLName: String { rawValue }
}

/// The SHAKE extendable-output functions (FIPS 202): as many output bytes as asked for.
public enum ExtendableOutputAlgorithm: String, Sendable, Hashable, CaseIterable {
    case shake128 = "SHAKE-128"
    case shake256 = "SHAKE-256"

    var openSSLName: String { self == .shake128 ? "SHAKE128" : "SHAKE256" }
}

/// The library behind a TEECrypto function. mbedTLS is the first backend; OpenSSL's libcrypto
/// serves what mbedTLS lacks and, where both implement a function, whichever is faster here
/// (differential tests run both on the same inputs).
public enum CryptoBackend: String, Sendable, Hashable, CaseIterable {
    case mbedTLS
    case openSSL = "OpenSSL"
}

/// A digest value that knows its algorithm, so a SHA-384 digest cannot be handed to an
/// operation that expects SHA-256 and a truncated digest cannot exist.
public struct Digest: Sendable, Hashable, CustomStringConvertible {
    public let algorithm: DigestAlgorithm
    public let bytes: [UInt8]

    /// Wraps a digest computed elsewhere. Throws `.invalidDigest` unless the length matches.
    public init(algorithm: DigestAlgorithm, bytes: [UInt8]) throws {
        guard bytes.count == algorithm.byteCount else {
            throw CryptoError(.invalidDigest, "a \(algorithm.rawValue) digest is \(algorithm.byteCount) bytes, not \(bytes.count)")
        }
        self.algorithm = algorithm
        self.bytes = bytes
    }

    init(unchecked algorithm: DigestAlgorithm, _ bytes: [UInt8]) {
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// Compares in constant time.
    public static func == (lhs: Digest, rhs: Digest) -> Bool {
        lhs.algorithm == rhs.algorithm && constantTimeEquals(lhs.bytes, rhs.bytes)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(algorithm)
        hasher.combine(bytes)
    }

    public var description: String { "\(algorithm.rawValue):\(hexString(bytes))" }

    /// One-shot hash of a buffer.
    public static func hash(_ algorithm: DigestAlgorithm, _ data: some Collection<UInt8>, backend: CryptoBackend? = nil) -> Digest {
        withContiguousBytes(data) { hash(algorithm, buffer: $0, backend: backend) }
    }

    /// One-shot hash of raw memory (the hot path for large images: no copy).
    public static func hash(_ algorithm: DigestAlgorithm, buffer: UnsafeRawBufferPointer, backend: CryptoBackend? = nil) -> Digest {
        var hasher = DigestHasher(algorithm, backend: backend)
        hasher.update(buffer: buffer)
        return hasher.finalize()
    }
}

/// A streaming digest: update as often as needed, finalize exactly once.
///
/// Non-copyable, so a half-fed state cannot be duplicated by accident (`copy()` does it on
/// purpose, for TEE_CopyOperation), and `finalize()` consumes it.
public struct DigestHasher: ~Copyable {
    public let algorithm: DigestAlgorithm
    public let backend: CryptoBackend
    private let context: HashContext

    /// `backend` nil: the algorithm's serving backend. A backend that lacks the algorithm is a
    /// programming error (see `DigestAlgorithm.backends`).
    public init(_ algorithm: DigestAlgorithm, backend: CryptoBackend? = nil) {
        let chosen = backend ?? algorithm.servingBackend
        self.algorithm = algorithm
        self.backend = chosen
        switch chosen {
        case .mbedTLS:
            guard let type = algorithm.mbedTLSType else { preconditionFailure("mbedTLS 2.28 has no \(algorithm.rawValue)") }
            context = HashContext(mbedTLS: type)
        case .openSSL:
            context = HashContext(openSSL: OpenSSLDigests.shared.md(algorithm.openSSLName))
        }
    }

    private init(algorithm: DigestAlgorithm, backend: CryptoBackend, context: HashContext) {
        self.algorithm = algorithm
        self.backend = backend
        self.context = context
    }

    public mutating func update(_ data: some Collection<UInt8>) {
        withContiguousBytes(data) { context.update($0) }
    }

    public mutating func update(buffer: UnsafeRawBufferPointer) {
        context.update(buffer)
    }

    /// An independent computation in the same state.
    public func copy() -> DigestHasher {
        DigestHasher(algorithm: algorithm, backend: backend, context: context.copy())
    }

    public consuming func finalize() -> Digest {
        Digest(unchecked: algorithm, context.finish(count: algorithm.byteCount))
    }
}

/// A streaming SHAKE computation: absorb with `update`, then read any number of output bytes.
public struct ExtendableOutputHasher: ~Copyable {
    public let algorithm: ExtendableOutputAlgorithm
    private let context: HashContext

    public init(_ algorithm: ExtendableOutputAlgorithm) {
        self.algorithm = algorithm
        context = HashContext(openSSL: OpenSSLDigests.shared.md(algorithm.openSSLName))
    }

    private init(algorithm: ExtendableOutputAlgorithm, context: HashContext) {
        self.algorithm = algorithm
        self.context = context
    }

    public mutating func update(_ data: some Collection<UInt8>) {
        withContiguousBytes(data) { context.update($0) }
    }

    public func copy() -> ExtendableOutputHasher {
        ExtendableOutputHasher(algorithm: algorithm, context: context.copy())
    }

    /// The first `count` output bytes of what was absorbed so far; the state is unchanged, so a
    /// longer read later starts with the same bytes (OpenSSL 3.0 cannot squeeze in steps).
    public func output(count: Int) -> [UInt8] {
        context.copy().finish(count: count, extendable: true)
    }
}

/// The message-digest objects OpenSSL looks up by name, fetched once per process.
final class OpenSSLDigests: @unchecked Sendable {
    // @unchecked: written only in init; OpenSSL's EVP_MD objects are immutable and shareable.
    static let shared = OpenSSLDigests()
    private let table: [String: OpaquePointer]

    private init() {
        var table: [String: OpaquePointer] = [:]
        for name in DigestAlgorithm.allCases.map(\.openSSLName) + ExtendableOutputAlgorithm.allCases.map(\.openSSLName) {
            // Debian's libcrypto has every one of these in its default provider (tests check).
            if let md = EVP_MD_fetch(nil, name, nil) { table[name] = md }
        }
        self.table = table
    }

    func md(_ name: String) -> OpaquePointer {
        guard let md = table[name] else { preconditionFailure("OpenSSL has no \(name) digest") }
        return md
    }
}

/// One running hash in one library. A class so an operation can hold it and copy it.
final class HashContext {
    private enum Engine {
        case mbedTLS(UnsafeMutablePointer<mbedtls_md_context_t>)
        case openSSL(OpaquePointer)
    }
    private let engine: Engine

    init(mbedTLS type: mbedtls_md_type_t) {
        let ctx = UnsafeMutablePointer<mbedtls_md_context_t>.allocate(capacity: 1)
        mbedtls_md_init(ctx)
        // Fails only on allocation or an algorithm missing from the library (tests check all).
        let ret = mbedtls_md_setup(ctx, mbedtls_md_info_from_type(type), 0)
        precondition(ret == 0 && mbedtls_md_starts(ctx) == 0, "mbedtls_md_setup: \(mbedTLSErrorText(ret))")
        engine = .mbedTLS(ctx)
    }

    init(openSSL md: OpaquePointer) {
        guard let ctx = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        precondition(EVP_DigestInit_ex(ctx, md, nil) == 1, "EVP_DigestInit_ex failed")
        engine = .openSSL(ctx)
    }

    private init(engine: Engine) { self.engine = engine }

    deinit {
        switch engine {
        case .mbedTLS(let ctx):
            mbedtls_md_free(ctx)   // zeroizes the state
            ctx.deallocate()
        case .openSSL(let ctx):
            EVP_MD_CTX_free(ctx)   // cleanses the state
        }
    }

    func update(_ buffer: UnsafeRawBufferPointer) {
        guard buffer.count > 0 else { return }
        switch engine {
        case .mbedTLS(let ctx):
            precondition(mbedtls_md_update(ctx, bytePointer(buffer), buffer.count) == 0, "mbedtls_md_update failed")
        case .openSSL(let ctx):
            precondition(EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count) == 1, "EVP_DigestUpdate failed")
        }
    }

    func copy() -> HashContext {
        switch engine {
        case .mbedTLS(let ctx):
            let clone = UnsafeMutablePointer<mbedtls_md_context_t>.allocate(capacity: 1)
            mbedtls_md_init(clone)
            precondition(mbedtls_md_setup(clone, mbedtls_md_info(ctx), 0) == 0 && mbedtls_md_clone(clone, ctx) == 0, "mbedtls_md_clone failed")
            return HashContext(engine: .mbedTLS(clone))
        case .openSSL(let ctx):
            guard let clone = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
            precondition(EVP_MD_CTX_copy_ex(clone, ctx) == 1, "EVP_MD_CTX_copy_ex failed")
            return HashContext(engine: .openSSL(clone))
        }
    }

    /// The output; the context is spent afterwards.
    func finish(count: Int, extendable: Bool = false) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(count, 1))
        switch engine {
        case .mbedTLS(let ctx):
            // mbedtls_md_finish writes exactly the digest's length (count is that length).
            precondition(mbedtls_md_finish(ctx, &out) == 0, "mbedtls_md_finish failed")
        case .openSSL(let ctx):
            if extendable {
                precondition(EVP_DigestFinalXOF(ctx, &out, count) == 1, "EVP_DigestFinalXOF failed")
            } else {
                var length: UInt32 = 0
                precondition(EVP_DigestFinal_ex(ctx, &out, &length) == 1 && Int(length) == count, "EVP_DigestFinal_ex failed")
            }
        }
        return count == 0 ? [] : out
    }
}

/// The md_info a context was set up with (mbedTLS 2.28 keeps it in a public field).
private func mbedtls_md_info(_ ctx: UnsafeMutablePointer<mbedtls_md_context_t>) -> OpaquePointer? {
    ctx.pointee.md_info
}

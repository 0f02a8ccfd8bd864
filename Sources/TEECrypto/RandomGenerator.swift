internal import CMbedTLS
internal import CMbedTLSShims

/// A CTR-DRBG (NIST SP 800-90A, AES-256) seeded from the operating system's entropy source.
///
/// mbedTLS is built with threading support, so one generator may be shared between threads:
/// `mbedtls_ctr_drbg_random` takes the context's own mutex. `shared` is the process-wide
/// generator that signing and key generation use by default.
public final class RandomGenerator: @unchecked Sendable {
    // SAFETY: both contexts live on the heap for the generator's whole life, because the DRBG
    // keeps a pointer to the entropy context; mbedTLS locks the DRBG itself on every call.
    let entropy: UnsafeMutablePointer<mbedtls_entropy_context>
    let drbg: UnsafeMutablePointer<mbedtls_ctr_drbg_context>

    /// Seeds a new generator. `personalization` separates generators in one process.
    public init(personalization: [UInt8] = Array("rproc-tee".utf8)) throws {
        entropy = .allocate(capacity: 1)
        drbg = .allocate(capacity: 1)
        mbedtls_entropy_init(entropy)
        mbedtls_ctr_drbg_init(drbg)
        let ret = personalization.withUnsafeBufferPointer {
            mbedtls_ctr_drbg_seed(drbg, mbedtls_entropy_func, entropy, $0.baseAddress, $0.count)
        }
        guard ret == 0 else {
            mbedtls_ctr_drbg_free(drbg)
            mbedtls_entropy_free(entropy)
            drbg.deallocate()
            entropy.deallocate()
            throw CryptoError.mbedTLS(.randomFailure, "seeding CTR-DRBG from the OS entropy source", ret)
        }
        mbedtls_ctr_drbg_set_prediction_resistance(drbg, MBEDTLS_CTR_DRBG_PR_OFF)
    }

    deinit {
        mbedtls_ctr_drbg_free(drbg)
        mbedtls_entropy_free(entropy)
        drbg.deallocate()
        entropy.deallocate()
    }

    /// The process-wide generator. Seeding can fail only if the OS has no entropy source,
    /// in which case nothing in a TEE can work: that traps.
    public static let shared: RandomGenerator = {
        do { return try RandomGenerator() } catch { fatalError("cannot seed the random generator: \(error)") }
    }()

    /// Fills `buffer` with random bytes.
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            let chunk = min(Int(MBEDTLS_CTR_DRBG_MAX_REQUEST), buffer.count - offset)
            let ret = mbedtls_ctr_drbg_random(drbg, buffer.baseAddress! + offset, chunk)
            guard ret == 0 else { throw CryptoError.mbedTLS(.randomFailure, "CTR-DRBG", ret) }
            offset += chunk
        }
    }

    /// Mixes `input` into the generator (OP-TEE's PTA_SYSTEM_ADD_RNG_ENTROPY): a reseed from the
    /// OS entropy source with the input's SHA-256 as additional data. Anyone may call it: what
    /// they add can only add to the state, never replace the OS entropy.
    public func addEntropy(_ input: UnsafeRawBufferPointer) throws {
        let digest = Digest.hash(.sha256, buffer: input)
        let ret = digest.bytes.withUnsafeBufferPointer { rproc_ctr_drbg_reseed_locked(drbg, $0.baseAddress, $0.count) }
        guard ret == 0 else { throw CryptoError.mbedTLS(.randomFailure, "CTR-DRBG reseed", ret) }
    }

    public func bytes(count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { try fill($0) }
        return out
    }

    /// Random bytes straight into zeroizing memory (for keys).
    public func secureBytes(count: Int) throws -> SecureBytes {
        var out = SecureBytes(count: count)
        try out.withUnsafeMutableBytes { try fill($0) }
        return out
    }

    /// The callback mbedTLS wants for its `f_rng` / `p_rng` pair.
    var callback: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32) {
        mbedtls_ctr_drbg_random
    }
    var context: UnsafeMutableRawPointer { UnsafeMutableRawPointer(drbg) }
}

internal import CMbedTLS
internal import COpenSSL

/// HMAC over a SHA-2 function (RFC 2104), one-shot or streaming — or over SHA-1, for the
/// protocols that define it (HOTP/TOTP, GP's TEE_ALG_HMAC_SHA1).
///
/// Verification compares the full tag in constant time; a tag of any other length is
/// refused rather than compared as a prefix.
public struct HMAC: ~Copyable {
    /// The SHA-2 function; nil for HMAC-SHA1.
    public let algorithm: DigestAlgorithm?
    /// Bytes in a tag.
    public let tagLength: Int
    // SAFETY: owned; set up in init, freed (mbedtls zeroizes the key pads) in deinit.
    private let ctx: UnsafeMutablePointer<mbedtls_md_context_t>

    public init(_ algorithm: DigestAlgorithm, key: SecureBytes) throws {
        try self.init(info: mbedtls_md_info_from_type(try algorithm.requireMbedTLS(for: "HMAC")), algorithm: algorithm, tagLength: algorithm.byteCount, key: key)
    }

    /// HMAC-SHA1 (RFC 2104 with SHA-1; a 20-byte tag).
    public init(sha1Key key: SecureBytes) throws {
        try self.init(info: mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), algorithm: nil, tagLength: 20, key: key)
    }

    private init(info: OpaquePointer?, algorithm: DigestAlgorithm?, tagLength: Int, key: SecureBytes) throws {
        self.algorithm = algorithm
        self.tagLength = tagLength
        ctx = .allocate(capacity: 1)
        mbedtls_md_init(ctx)
        var ret = mbedtls_md_setup(ctx, info, 1)
        if ret == 0 {
            ret = key.withUnsafeBytes { mbedtls_md_hmac_starts(ctx, bytePointer($0), $0.count) }
        }
        guard ret == 0 else {
            mbedtls_md_free(ctx)
            ctx.deallocate()
            throw CryptoError.mbedTLS(.libraryFailure, "HMAC set-up", ret)
        }
    }

    public mutating func update(_ data: some Collection<UInt8>) {
        let ret = withContiguousBytes(data) { mbedtls_md_hmac_update(ctx, bytePointer($0), $0.count) }
        precondition(ret == 0, "mbedtls HMAC update failed: \(mbedTLSErrorText(ret))")
    }

    /// The tag. Consumes the computation.
    public consuming func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: tagLength)
        let ret = out.withUnsafeMutableBufferPointer { mbedtls_md_hmac_finish(ctx, $0.baseAddress) }
        precondition(ret == 0, "mbedtls HMAC finish failed: \(mbedTLSErrorText(ret))")
        return out
    }

    /// Checks a tag in constant time. Throws `.authenticationFailure` on mismatch and
    /// `.invalidLength` for a tag that is not the full length.
    public consuming func verify(tag: some Collection<UInt8>) throws {
        let name = "HMAC-\(algorithm?.rawValue ?? "SHA1")", expectedLength = tagLength
        guard tag.count == expectedLength else {
            throw CryptoError(.invalidLength, "an \(name) tag is \(expectedLength) bytes, not \(tag.count)")
        }
        guard constantTimeEquals(finalize(), tag) else {
            throw CryptoError(.authenticationFailure, "\(name) tag mismatch")
        }
    }

    public static func authenticationCode(_ algorithm: DigestAlgorithm, key: SecureBytes, data: some Collection<UInt8>) throws -> [UInt8] {
        var mac = try HMAC(algorithm, key: key)
        mac.update(data)
        return mac.finalize()
    }

    deinit {
        mbedtls_md_free(ctx)
        ctx.deallocate()
    }
}

/// HKDF (RFC 5869): extract-and-expand key derivation.
public enum HKDF {
    /// Derives `outputLength` bytes (at most 255 × the digest length).
    public static func deriveKey(_ algorithm: DigestAlgorithm = .sha256, inputKeyMaterial: SecureBytes, salt: some Collection<UInt8>, info: some Collection<UInt8>, outputLength: Int) throws -> SecureBytes {
        guard outputLength > 0, outputLength <= 255 * algorithm.byteCount else {
            throw CryptoError(.invalidLength, "HKDF-\(algorithm.rawValue) output must be 1...\(255 * algorithm.byteCount) bytes, not \(outputLength)")
        }
        let md = try algorithm.requireMbedTLS(for: "HKDF")
        var out = SecureBytes(count: outputLength)
        let ret: Int32 = inputKeyMaterial.withUnsafeBytes { ikm in
            withContiguousBytes(salt) { s in
                withContiguousBytes(info) { i in
                    out.withUnsafeMutableBytes { o in
                        mbedtls_hkdf(mbedtls_md_info_from_type(md), bytePointer(s), s.count, bytePointer(ikm), ikm.count,
                                     bytePointer(i), i.count, o.baseAddress?.assumingMemoryBound(to: UInt8.self), o.count)
                    }
                }
            }
        }
        guard ret == 0 else { throw CryptoError.mbedTLS(.libraryFailure, "HKDF", ret) }
        return out
    }
}

/// PBKDF2 (PKCS #5 v2.0, RFC 8018) with HMAC over `algorithm`, by OpenSSL's PKCS5_PBKDF2_HMAC.
public enum PBKDF2 {
    /// Iterations a derivation may ask for: 4 × the largest count RFC 6070 tests (about a
    /// minute of one core), so a caller's count bounds its time.
    public static let maxIterations = 4 * 16_777_216

    /// Derives `outputLength` bytes (1 … 4096).
    public static func deriveKey(_ algorithm: DigestAlgorithm, password: SecureBytes, salt: [UInt8], iterations: Int, outputLength: Int) throws -> SecureBytes {
        guard (1...4096).contains(outputLength) else { throw CryptoError(.invalidLength, "PBKDF2 output must be 1...4096 bytes, not \(outputLength)") }
        guard (1...maxIterations).contains(iterations) else { throw CryptoError(.invalidLength, "PBKDF2 takes 1...\(maxIterations) iterations, not \(iterations)") }
        var out = SecureBytes(count: outputLength)
        let md = OpenSSLDigests.shared.md(algorithm.openSSLName)
        let ok: Int32 = password.withUnsafeBytes { p in
            salt.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBytes { o in
                    PKCS5_PBKDF2_HMAC(p.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(p.count), s.baseAddress, Int32(s.count),
                                      Int32(iterations), md, Int32(o.count), o.baseAddress?.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        guard ok == 1 else { throw CryptoError(.libraryFailure, "PBKDF2 (OpenSSL)") }
        return out
    }
}

/// The single-step ("Concat") KDF of NIST SP 800-56A with a hash (JWA's ECDH-ES key derivation,
/// RFC 7518 §4.6.2): Hash(counter₃₂ ‖ Z ‖ OtherInfo) for counter = 1, 2, …, concatenated and cut.
public enum ConcatKDF {
    /// Derives `outputLength` bytes (1 … 4096).
    public static func deriveKey(_ algorithm: DigestAlgorithm, sharedSecret: SecureBytes, otherInfo: [UInt8], outputLength: Int) throws -> SecureBytes {
        guard (1...4096).contains(outputLength) else { throw CryptoError(.invalidLength, "Concat KDF output must be 1...4096 bytes, not \(outputLength)") }
        var out = SecureBytes(count: outputLength)
        var done = 0, counter: UInt32 = 1
        out.withUnsafeMutableBytes { o in
            while done < outputLength {
                var hasher = DigestHasher(algorithm)
                let c = [UInt8(counter >> 24), UInt8(truncatingIfNeeded: counter >> 16), UInt8(truncatingIfNeeded: counter >> 8), UInt8(truncatingIfNeeded: counter)]
                c.withUnsafeBytes { hasher.update(buffer: $0) }
                sharedSecret.withUnsafeBytes { hasher.update(buffer: $0) }
                otherInfo.withUnsafeBytes { hasher.update(buffer: $0) }
                let block = hasher.finalize().bytes
                let n = min(block.count, outputLength - done)
                for i in 0..<n { o[done + i] = block[i] }
                done += n
                counter += 1
            }
        }
        return out
    }
}

internal import CMbedTLS
internal import CMbedTLSShims
import Glibc

/// Owns one `mbedtls_pk_context` (an RSA or EC key, public or private) and serializes every use
/// of it: mbedTLS caches values inside key contexts (RSA blinding values, the Montgomery
/// constant, EC comb tables), so even a "read-only" operation writes to the context.
final class PKContext: @unchecked Sendable {
    // SAFETY: allocated and initialized here, used only inside `withContext` under `mutex`,
    // freed in deinit (mbedtls_pk_free zeroizes key material).
    private let pk: UnsafeMutablePointer<mbedtls_pk_context>
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        pk = .allocate(capacity: 1)
        mbedtls_pk_init(pk)
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        mbedtls_pk_free(pk)
        pk.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withContext<R>(_ body: (UnsafeMutablePointer<mbedtls_pk_context>) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(pk)
    }

    /// The RSA context inside; only valid for an RSA key, inside `withContext`.
    static func rsa(_ pk: UnsafeMutablePointer<mbedtls_pk_context>) -> UnsafeMutablePointer<mbedtls_rsa_context> {
        rproc_pk_rsa(pk)!
    }

    /// The EC key pair inside; only valid for an EC key, inside `withContext`.
    static func ec(_ pk: UnsafeMutablePointer<mbedtls_pk_context>) -> UnsafeMutablePointer<mbedtls_ecp_keypair> {
        rproc_pk_ec(pk)!
    }

    var isRSA: Bool { withContext { mbedtls_pk_get_type($0) == MBEDTLS_PK_RSA } }
    var isEC: Bool { withContext { mbedtls_pk_get_type($0) == MBEDTLS_PK_ECKEY } }

    // MARK: Parsing

    /// Parses a private key in PEM or DER: PKCS#1, SEC1, PKCS#8, encrypted PKCS#8 and
    /// legacy encrypted PEM. The key's type is checked by the caller.
    static func parsePrivateKey(_ data: some Collection<UInt8>, password: SecureBytes?) throws -> PKContext {
        let ctx = PKContext()
        let input = keyInput(data)
        let ret: Int32 = ctx.withContext { pk in
            input.withUnsafeBytes { key in
                let pwd = password ?? SecureBytes(count: 0)
                return pwd.withUnsafeBytes { p in
                    mbedtls_pk_parse_key(pk, bytePointer(key), key.count, p.count > 0 ? bytePointer(p) : nil, p.count)
                }
            }
        }
        guard ret == 0 else { throw parseError(ret, what: "private key") }
        return ctx
    }

    /// Parses a public key in PEM or DER: SubjectPublicKeyInfo, or PKCS#1 RSAPublicKey.
    static func parsePublicKey(_ data: some Collection<UInt8>) throws -> PKContext {
        let ctx = PKContext()
        let input = keyInput(data)
        let ret: Int32 = ctx.withContext { pk in
            input.withUnsafeBytes { mbedtls_pk_parse_public_key(pk, bytePointer($0), $0.count) }
        }
        guard ret == 0 else { throw parseError(ret, what: "public key") }
        return ctx
    }

    /// PEM must reach mbedTLS with a terminating NUL counted in its length; DER must not.
    private static func keyInput(_ data: some Collection<UInt8>) -> SecureBytes {
        let bytes = Array(data)
        let isPEM = bytes.count >= 10 && bytes.firstRange(of: Array("-----BEGIN".utf8)) != nil
        var copy = isPEM ? bytes + [0] : bytes
        return SecureBytes(consuming: &copy)
    }

    private static func parseError(_ ret: Int32, what: String) -> CryptoError {
        switch ret {
        case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
            .mbedTLS(.passwordRequired, "the \(what) is encrypted and no password was given", ret)
        case MBEDTLS_ERR_PK_PASSWORD_MISMATCH:
            .mbedTLS(.wrongPassword, "the password does not decrypt the \(what)", ret)
        case MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE, MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE + MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE:
            // mbedTLS 2.28's PBES2 decrypts DES and 3DES only; OpenSSL 3 encrypts PKCS#8 with AES by default.
            .mbedTLS(.unsupportedKey, "the \(what) is encrypted with a PKCS#8 scheme mbedTLS 2.28 cannot decrypt (it takes PBES2 with DES-EDE3-CBC, or legacy PEM encryption); re-encrypt it as legacy PEM with `openssl pkey -in KEY -traditional -aes128 -out NEW` (OpenSSL 3 needs -traditional, or it writes AES PKCS#8 again) or as `openssl pkcs8 -topk8 -v2 des3 -in KEY -out NEW`", ret)
        case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG, MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE, MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE:
            .mbedTLS(.unsupportedKey, "unsupported \(what) algorithm or curve", ret)
        default:
            .mbedTLS(.malformedKey, "cannot parse the \(what)", ret)
        }
    }

    // MARK: Writing

    /// DER SubjectPublicKeyInfo.
    func publicKeyDER() -> [UInt8] {
        withContext { pk in
            var buffer = [UInt8](repeating: 0, count: 4096)
            let written = buffer.withUnsafeMutableBufferPointer { mbedtls_pk_write_pubkey_der(pk, $0.baseAddress, $0.count) }
            // 4096 bytes hold the SPKI of any key mbedTLS accepts (RSA ≤ 8192 bits).
            precondition(written > 0, "mbedtls_pk_write_pubkey_der: \(mbedTLSErrorText(written))")
            return Array(buffer.suffix(Int(written)))
        }
    }

    /// PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    func publicKeyPEM() -> String {
        withContext { pk in
            var buffer = [UInt8](repeating: 0, count: 8192)
            let ret = buffer.withUnsafeMutableBufferPointer { mbedtls_pk_write_pubkey_pem(pk, $0.baseAddress, $0.count) }
            precondition(ret == 0, "mbedtls_pk_write_pubkey_pem: \(mbedTLSErrorText(ret))")
            return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// DER PKCS#1 RSAPrivateKey or SEC1 ECPrivateKey.
    func privateKeyDER() -> SecureBytes {
        withContext { pk in
            var buffer = SecureBytes(count: 16384)
            let written = buffer.withUnsafeMutableBytes { mbedtls_pk_write_key_der(pk, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), $0.count) }
            precondition(written > 0, "mbedtls_pk_write_key_der: \(mbedTLSErrorText(written))")
            return buffer.withUnsafeBytes { SecureBytes($0.suffix(Int(written))) }
        }
    }

    /// PEM `RSA PRIVATE KEY` or `EC PRIVATE KEY`, unencrypted.
    func privateKeyPEM() -> SecureBytes {
        withContext { pk in
            var buffer = SecureBytes(count: 32768)
            let ret = buffer.withUnsafeMutableBytes { mbedtls_pk_write_key_pem(pk, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), $0.count) }
            precondition(ret == 0, "mbedtls_pk_write_key_pem: \(mbedTLSErrorText(ret))")
            return buffer.withUnsafeBytes { SecureBytes($0.prefix { $0 != 0 }) }
        }
    }
}

/// mbedTLS writes big integers at a fixed width; callers want the minimal big-endian form.
func strippingLeadingZeros(_ bytes: [UInt8]) -> [UInt8] {
    let trimmed = bytes.drop { $0 == 0 }
    return trimmed.isEmpty ? [0] : Array(trimmed)
}

/// Writes an MPI as `width` big-endian bytes.
func mpiBytes(_ mpi: UnsafePointer<mbedtls_mpi>, width: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: width)
    let ret = out.withUnsafeMutableBufferPointer { mbedtls_mpi_write_binary(mpi, $0.baseAddress, width) }
    precondition(ret == 0, "mbedtls_mpi_write_binary: \(mbedTLSErrorText(ret))")
    return out
}

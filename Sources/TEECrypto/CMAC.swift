internal import CMbedTLS

/// AES-CMAC (NIST SP 800-38B, RFC 4493), streaming: a 16-byte tag over any length of data.
public final class AESCMAC {
    // SAFETY: owned; set up in init, freed (mbedtls zeroizes the key schedule and state) in deinit.
    private let ctx: UnsafeMutablePointer<mbedtls_cipher_context_t>
    private var finished = false

    public static let tagLength = 16

    /// Key of 16, 24 or 32 bytes.
    public init(key: SecureBytes) throws {
        let type: mbedtls_cipher_type_t
        switch key.count {
        case 16: type = MBEDTLS_CIPHER_AES_128_ECB
        case 24: type = MBEDTLS_CIPHER_AES_192_ECB
        case 32: type = MBEDTLS_CIPHER_AES_256_ECB
        default: throw CryptoError(.invalidLength, "an AES-CMAC key is 16, 24 or 32 bytes, not \(key.count)")
        }
        ctx = .allocate(capacity: 1)
        mbedtls_cipher_init(ctx)
        var ret = mbedtls_cipher_setup(ctx, mbedtls_cipher_info_from_type(type))
        if ret == 0 { ret = key.withUnsafeBytes { mbedtls_cipher_cmac_starts(ctx, bytePointer($0), $0.count * 8) } }
        guard ret == 0 else {
            mbedtls_cipher_free(ctx)
            ctx.deallocate()
            throw CryptoError.mbedTLS(.libraryFailure, "AES-CMAC set-up", ret)
        }
    }

    deinit {
        mbedtls_cipher_free(ctx)
        ctx.deallocate()
    }

    public func update(_ data: [UInt8]) {
        precondition(!finished, "AES-CMAC updated after finalize")
        guard !data.isEmpty else { return }
        let ret = data.withUnsafeBufferPointer { mbedtls_cipher_cmac_update(ctx, $0.baseAddress, $0.count) }
        precondition(ret == 0, "mbedtls_cipher_cmac_update: \(mbedTLSErrorText(ret))")
    }

    public func finalize() -> [UInt8] {
        precondition(!finished, "AES-CMAC finalized twice")
        finished = true
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        let ret = tag.withUnsafeMutableBufferPointer { mbedtls_cipher_cmac_finish(ctx, $0.baseAddress) }
        precondition(ret == 0, "mbedtls_cipher_cmac_finish: \(mbedTLSErrorText(ret))")
        return tag
    }

    public static func authenticationCode(key: SecureBytes, data: [UInt8]) throws -> [UInt8] {
        let mac = try AESCMAC(key: key)
        mac.update(data)
        return mac.finalize()
    }
}

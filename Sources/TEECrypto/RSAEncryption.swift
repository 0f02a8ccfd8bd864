internal import CMbedTLS

/// RSA encryption schemes (RFC 8017 §7): RSAES-PKCS1-v1_5, and RSAES-OAEP with MGF1 over the
/// same SHA-2 function and an empty label.
public enum RSAEncryptionPadding: Sendable, Hashable {
    case pkcs1v15
    /// OAEP with MGF1 over the same hash and an empty label.
    case oaep(DigestAlgorithm)
    /// OAEP with a label (GP's TEE_ATTR_RSA_OAEP_LABEL).
    case oaepLabelled(DigestAlgorithm, label: [UInt8])

    var label: [UInt8] { if case .oaepLabelled(_, let label) = self { label } else { [] } }
}

extension RSAEncryptionPadding {
    /// OAEP's hash as mbedTLS names it; nil for PKCS#1 v1.5.
    func mbedTLSHash() throws -> mbedtls_md_type_t? {
        switch self {
        case .pkcs1v15: return nil
        case .oaep(let hash), .oaepLabelled(let hash, _): return try hash.requireMbedTLS(for: "RSA-OAEP")
        }
    }
}

extension RSAPublicKey {
    /// Encrypts `message` (at most the modulus length minus the padding's overhead).
    public func encrypt(_ message: [UInt8], padding: RSAEncryptionPadding, random: RandomGenerator = .shared) throws -> [UInt8] {
        let oaepHash = try padding.mbedTLSHash()
        return try context.withContext { pk in
            let rsa = PKContext.rsa(pk)
            var out = [UInt8](repeating: 0, count: mbedtls_rsa_get_len(rsa))
            if let oaepHash { mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, Int32(oaepHash.rawValue)) }
            defer { mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, Int32(MBEDTLS_MD_NONE.rawValue)) }
            let label = padding.label
            let ret = oaepHash == nil
                ? mbedtls_rsa_pkcs1_encrypt(rsa, random.callback, random.context, MBEDTLS_RSA_PUBLIC, message.count, message, &out)
                : mbedtls_rsa_rsaes_oaep_encrypt(rsa, random.callback, random.context, MBEDTLS_RSA_PUBLIC, label, label.count, message.count, message, &out)
            guard ret == 0 else {
                throw CryptoError.mbedTLS(ret == MBEDTLS_ERR_RSA_BAD_INPUT_DATA ? .invalidArgument : .libraryFailure, "RSA encryption (a message too long for the key?)", ret)
            }
            return out
        }
    }
}

extension RSAPrivateKey {
    /// Decrypts `ciphertext` (exactly the modulus length). A padding that does not check out is
    /// `.decryptionFailed`, with no hint of where it failed.
    public func decrypt(_ ciphertext: [UInt8], padding: RSAEncryptionPadding, random: RandomGenerator = .shared) throws -> SecureBytes {
        let oaepHash = try padding.mbedTLSHash()
        return try context.withContext { pk in
            let rsa = PKContext.rsa(pk)
            let length = mbedtls_rsa_get_len(rsa)
            guard ciphertext.count == length else { throw CryptoError(.invalidLength, "an RSA-\(length * 8) ciphertext is \(length) bytes, not \(ciphertext.count)") }
            var out = SecureBytes(count: length)
            var produced = 0
            if let oaepHash { mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, Int32(oaepHash.rawValue)) }
            defer { mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, Int32(MBEDTLS_MD_NONE.rawValue)) }
            let label = padding.label
            let ret = out.withUnsafeMutableBytes { o in
                oaepHash == nil
                    ? mbedtls_rsa_pkcs1_decrypt(rsa, random.callback, random.context, MBEDTLS_RSA_PRIVATE, &produced, ciphertext, o.baseAddress!.assumingMemoryBound(to: UInt8.self), length)
                    : mbedtls_rsa_rsaes_oaep_decrypt(rsa, random.callback, random.context, MBEDTLS_RSA_PRIVATE, label, label.count, &produced, ciphertext, o.baseAddress!.assumingMemoryBound(to: UInt8.self), length)
            }
            guard ret == 0 else { throw CryptoError.mbedTLS(.decryptionFailed, "RSA decryption failed", ret) }
            return SecureBytes(out.unsafeBytes.prefix(produced))
        }
    }
}

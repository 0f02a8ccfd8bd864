import TEECore

/// The interface of optee_test's crypto performance TA (`ta/crypto_perf/include/ta_crypto_perf.h`),
/// which `xtest --aes-perf`, `xtest --hash-perf` (`--sha-perf`) and `xtest --asym-perf` drive: its
/// UUID, command IDs and the codes its commands take carry over, so xtest's host side runs
/// unmodified against rproc-tee's port.
public enum CryptoPerfTA {
    public static let uuid: TEEUUID = "02a42f43-d8b7-4a57-aa4d-87bd9b5587cb"

    public enum Command: UInt32, CaseIterable, Sendable {
        /// [in] value a = decrypt (0: encrypt), b = key size (bits); [in] value a = `CipherMode`.
        case cipherPrepareKey = 0
        /// [inout] memref input, [inout] memref output (may be the same memory), [in] value a =
        /// times over the whole input, b = the size of each update (0: the whole input at once).
        case cipherProcess = 1
        /// `cipherProcess` on secure data path buffers: NOT_SUPPORTED here (no SDP memory), as
        /// the original built without CFG_SECURE_DATA_PATH.
        case cipherProcessSDP = 2
        /// [in] value a = `HashAlgorithm`.
        case hashPrepareOperation = 3
        /// [in] memref input, [out] memref digest, [in] value a = times, b = offset into the input.
        case hashProcess = 4
        /// [in] value a = `AsymmetricAlgorithm`, b = key size; [in] value a = `AsymmetricMode`.
        case asymmetricPrepareObject = 5
        /// [in] value a = `AsymmetricAlgorithm`; [in] memref message; [inout] memref its digest.
        case asymmetricPrepareHash = 6
        /// [in] value a = key size, b = `AsymmetricMode`; [in] value a = `AsymmetricAlgorithm`,
        /// b = `RSAMode` (RSA); [in] memref packed key-generation attributes.
        case asymmetricPrepareKeyPair = 7
        /// [in] memref plaintext or digest, [out] memref ciphertext or signature, [in] value a =
        /// `AsymmetricMode` (decrypt or verify: what the measured calls will take), [in] memref
        /// packed attributes.
        case asymmetricPrepareEncryptOrSign = 8
        /// [inout] memref packed attributes, kept for the measured calls.
        case asymmetricPrepareAttributes = 9
        /// [in] value a = key size, b = times.
        case asymmetricProcessGenerateKeyPair = 10
        /// [in] value a = times, b = `AsymmetricMode`; [in] memref input; [out] memref output
        /// (verify: the signature).
        case asymmetricProcess = 11
        case asymmetricFreeAttributes = 12
    }

    /// `TA_AES_*` and `TA_SM4_*`.
    public enum CipherMode: UInt32, CaseIterable, Sendable {
        case aesECB = 0, aesCBC, aesCTR, aesXTS, aesGCM, sm4ECB, sm4CBC, sm4CTR, sm4XTS
    }

    /// `TA_SHA_*`, `TA_SM3` and `TA_HMAC_*`.
    public enum HashAlgorithm: UInt32, CaseIterable, Sendable {
        case sha1 = 0, sha224, sha256, sha384, sha512, sm3
        case hmacSHA1, hmacSHA224, hmacSHA256, hmacSHA384, hmacSHA512, hmacSM3
    }

    /// `enum asym_algorithm`.
    public enum AsymmetricAlgorithm: UInt32, CaseIterable, Sendable {
        case dh = 1, rsa, ecdsa, ecdh, x25519, sm2
    }

    /// `enum asym_cipher_mode`: the first four are also GP's operation modes.
    public enum AsymmetricMode: UInt32, CaseIterable, Sendable {
        case encrypt = 0, decrypt, sign, verify, generateKeyPair
    }

    /// `enum rsa_mode`.
    public enum RSAMode: UInt32, CaseIterable, Sendable {
        case noPad = 0, pkcs1v15, oaepSHA1, oaepSHA224, oaepSHA256, oaepSHA384, oaepSHA512
        case signPKCS1v15SHA1, signPKCS1v15SHA224, signPKCS1v15SHA256, signPKCS1v15SHA384, signPKCS1v15SHA512
        case pssSHA1, pssSHA224, pssSHA256, pssSHA384, pssSHA512
    }

    /// The original's fixed keys: a cipher key 00 01 … 1f, XTS's second key 20 21 … 3f, and an
    /// HMAC key 00 01 … 3f (as many bytes of each as the key size takes).
    public static let cipherKey: [UInt8] = (0x00...0x1F).map { UInt8($0) }
    public static let cipherKey2: [UInt8] = (0x20...0x3F).map { UInt8($0) }
    public static let macKey: [UInt8] = (0x00...0x3F).map { UInt8($0) }
    /// The IV of every mode that takes one (GCM's nonce too): A0 A1 … AF.
    public static let iv: [UInt8] = (0xA0...0xAF).map { UInt8($0) }
    /// GCM's tag length, bits.
    public static let gcmTagBits = 128
}

import TEECore

/// The interfaces of OP-TEE's example TAs (linaro-swg/optee_examples, `*/ta/include/*_ta.h`):
/// UUIDs and command ids carry over so the examples' unmodified host programs run against
/// rproc-tee. hello_world's is `HelloWorldTA` (TA/HelloWorldTAInterface).
public enum RandomExampleTA {
    public static let uuid: TEEUUID = "b6c53aba-9669-4668-a7f2-205629d00f86"
    public enum Command: UInt32 {
        /// [out] memref: filled with random bytes, all of its size.
        case generate = 0
    }
}

public enum SecureStorageExampleTA {
    public static let uuid: TEEUUID = "f4e750bb-1437-4fbf-8785-8d3580c34994"
    public enum Command: UInt32 {
        /// [in] memref object id, [out] memref data (SHORT_BUFFER with the object's size when it
        /// does not fit; ITEM_NOT_FOUND when there is no such object).
        case readRaw = 0
        /// [in] memref object id, [in] memref data: creates or replaces the object.
        case writeRaw = 1
        /// [in] memref object id: deletes the object.
        case delete = 2
    }
}

public enum AESExampleTA {
    public static let uuid: TEEUUID = "5dbac793-f574-4871-8ad3-04331ec17f24"
    public enum Command: UInt32 {
        /// [in] value a = algorithm (`Algorithm`), [in] value a = key size in bytes (16 or 32),
        /// [in] value a = mode (1 encode, 0 decode): a fresh operation with an all-zero key.
        case prepare = 0
        /// [in] memref the key (of the prepared size).
        case setKey = 1
        /// [in] memref the IV: (re)starts the cipher.
        case setIV = 2
        /// [in] memref data, [out] memref result (at least as large).
        case cipher = 3
        /// [in] memref data, [out] memref result, [in] value a = encrypt (non-zero) or decrypt,
        /// [inout] memref tag: authenticated encryption with a fixed 12-byte nonce.
        case authenticatedCipher = 4
    }
    /// TA_AES_ALGO_*: ECB and CCM answer NOT_SUPPORTED here (no such cipher in rproc-tee's
    /// Internal API yet).
    public enum Algorithm: UInt32 { case ecb = 0, cbc = 1, ctr = 2, ccm = 3, gcm = 4 }
}

public enum ECDSAExampleTA {
    public static let uuid: TEEUUID = "1945e8e7-0278-4bfb-bb99-af1080b2a934"
    public enum Command: UInt32 {
        /// [in] memref message, [out] memref digest, [in] value a = TEE_ALG_ECDSA_* (selects the hash).
        case computeDigest = 0
        /// Generates a key pair on the selected algorithm's curve.
        case generateKey = 1
        /// [in] memref digest, [out] memref signature: signs, verifies with the public key.
        case signVerifyDigest = 2
    }
    /// The example's TEE_ALG_ECDSA_SHA* ids (OP-TEE's TEE_ALG_ECDSA_P192 … P521): each selects
    /// its hash and curve (SHA-1/P-192, SHA-224/P-224, SHA-256/P-256, SHA-384/P-384, SHA-512/P-521).
    public static let sha1: UInt32 = 0x7000_1042
    public static let sha224: UInt32 = 0x7000_2042
    public static let sha256: UInt32 = 0x7000_3042
    public static let sha384: UInt32 = 0x7000_4042
    public static let sha512: UInt32 = 0x7000_5042
}

public enum SignVerifyExampleTA {
    public static let uuid: TEEUUID = "f066f150-42af-404f-ae32-c8e6cd117e70"
    public enum Command: UInt32 {
        /// [in] memref message, [out] memref signature, [in] value a = TA_ALG_*, [in] value a =
        /// key size in bits: generates an RSA key pair, hashes, signs, verifies, returns the signature.
        case signVerify = 0
    }
    /// TA_ALG_PKCS1_PSS_MGF1_SHA1…SHA512 are 0–4, TA_ALG_PKCS1_V1_5_SHA1…SHA512 5–9.
    public static let pssSHA256: UInt32 = 2
    public static let pkcs1v15SHA256: UInt32 = 7
}

public enum HOTPExampleTA {
    public static let uuid: TEEUUID = "484d4143-2d53-4841-3120-4a6f636b6542"
    public enum Command: UInt32 {
        /// [in] memref the shared key K (10 to 64 bytes).
        case registerSharedKey = 0
        /// [out] value a = the next 6-digit HOTP value (RFC 4226); the counter moves on.
        case getHOTP = 1
    }
}

public enum ACipherExampleTA {
    public static let uuid: TEEUUID = "a734eed9-d6a1-4244-aa50-7c99719e7b7b"
    public enum Command: UInt32 {
        /// [in] value a = key size in bits: generates the session's RSA key pair.
        case generateKey = 0
        /// [in] memref input, [out] memref output, [in] value a = encrypt (non-zero) or decrypt
        /// (0), [in] value a = TA_ALG_*: SHORT_BUFFER with the size when the output does not fit.
        case encryptDecrypt = 1
    }
    /// TA_ALG_PKCS1_V1_5 and TA_ALG_OAEP_MGF1_SHA1/224/256/384/512 (GP's TEE_ALG_RSAES_* ids).
    public static let pkcs1v15: UInt32 = 0x6000_0130
    public static let oaepSHA1: UInt32 = 0x6021_0230
    public static let oaepSHA224: UInt32 = 0x6031_0230
    public static let oaepSHA256: UInt32 = 0x6041_0230
    public static let oaepSHA384: UInt32 = 0x6051_0230
    public static let oaepSHA512: UInt32 = 0x6061_0230
}

public enum ECDHExampleTA {
    public static let uuid: TEEUUID = "50c82425-94da-4072-a3e0-58ef063767c0"
    public enum Command: UInt32 {
        /// [in] value a = TA_ECDH_ECC_CURVE_*, [out] memref (fourth parameter) the shared
        /// secret: two fresh key pairs derive it both ways and must agree; SHORT_BUFFER with
        /// the size when it does not fit.
        case deriveSelfTest = 0
    }
    /// TA_ECDH_ECC_CURVE_NIST_* (P-192, P-224, P-256, P-384).
    public enum Curve: UInt32 { case p192 = 0, p224 = 1, p256 = 2, p384 = 3 }
}

public enum SHAExampleTA {
    public static let uuid: TEEUUID = "1dc6a16b-2fba-4aa1-9519-ea8a6c8c16e5"
    public enum Command: UInt32 {
        /// [in] value a = TEE_ALG_* (a MAC), [in] value a = key size in bytes, [in] value a =
        /// `ObjectType`: allocates the operation and a zero key of that size.
        case prepare = 0
        /// [in] memref key (exactly the prepared size).
        case setKey = 1
        /// [in] memref IV (TEE_MACInit; HMAC and CMAC ignore it).
        case setIV = 2
        /// [in] memref message, [out] memref MAC: MACUpdate(message) then MACComputeFinal(message),
        /// as the original does — the MAC is over the message twice.
        case computeMAC = 3
        /// [in] memref message, [in] memref MAC: the same, then MACCompareFinal (MAC_INVALID).
        case compareMAC = 4
        /// [in] memref message, [out] memref digest, [in] value a = TEE_ALG_*.
        case computeDigest = 5
    }
    /// TA_SHA_OBJ_TYPE_*: HMAC-SHA224 answers NOT_SUPPORTED here.
    public enum ObjectType: UInt32 { case hmacSHA256 = 0, hmacSHA1 = 1, hmacSHA224 = 2, hmacSHA384 = 3, hmacSHA512 = 4, aes = 5 }
}

public enum PluginsExampleTA {
    public static let uuid: TEEUUID = "2a287631-de1b-4fdd-a55c-b9312e40769a"
    public enum Command: UInt32 {
        /// No parameters: sends "Hello, plugin! value = 0x<n>" (n counting the instance's pings
        /// from 0) to the syslog plugin at priority LOG_INFO; the plugin's result comes back.
        case ping = 0
    }
    /// The example's tee-supplicant plugin (`plugins/syslog`) and its one command.
    public static let syslogPlugin: TEEUUID = "96bcf744-4f72-4866-bf1d-8634fd9c65e5"
    public static let toSyslog: UInt32 = 0
    /// syslog.h's LOG_INFO, the priority the TA logs at (the plugin's sub-command).
    public static let logInfo: UInt32 = 6
}

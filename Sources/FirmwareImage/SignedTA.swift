import TEECrypto

/// OP-TEE's signed TA file (`<uuid>.ta`): a signed header (`struct shdr`) and the TA's ELF.
///
/// ```
/// shdr        u32 magic "HSTO" (0x4f545348), u32 img_type, u32 img_size, u32 algo,
///             u16 hash_size, u16 sig_size              (little-endian, 20 bytes)
/// hash        hash_size bytes: SHA-256 of shdr ‖ [bootstrap header] ‖ ELF
/// signature   sig_size bytes: RSASSA over the hash (algo: PKCS#1 v1.5 or PSS, SHA-256)
/// bootstrap   img_type 1 and 2: the TA's UUID (16 octets, RFC 4122 order), u32 TA version
/// encryption  img_type 2 only: u32 enc_algo (TEE_ALG_AES_GCM), u32 flags (bit 0: the key type),
///             u16 iv_size, u16 tag_size, the IV, the tag
/// ELF         img_size bytes, the rest of the file exactly (img_type 2: AES-256-GCM of it under
///             the TA encryption key, no AAD)
/// ```
/// The hash covers the header without hash and signature, the bootstrap and encryption headers
/// and the ELF — the plaintext ELF for an encrypted TA (sign-then-encrypt), so one is verified
/// after `decrypted(with:)`. The reader checks the layout only; `SignedTA.verify` checks hash
/// and signature. The layout facts are OP-TEE's interface (its `signed_hdr.h`,
/// `sign_encrypt.py` and `ree_fs_ta.c`); the code is ours.
public struct SignedTA: Sendable {
    /// What a signed header wraps (OP-TEE's `enum shdr_img_type`).
    public enum ImageType: UInt32, Sendable {
        /// A TA whose UUID is its file name (OP-TEE's first format): no bootstrap header.
        case legacy = 0
        /// A TA with its UUID and version in a bootstrap header (what `sign_encrypt.py` writes).
        case bootstrap = 1
        /// A bootstrap TA whose ELF is AES-GCM encrypted (OP-TEE's `CFG_ENCRYPT_TA`).
        case encrypted = 2
        /// A subkey in a chain before the TA: refused here.
        case subkey = 3
    }

    /// The signature algorithm, as GP names it (`TEE_ALG_*`).
    public enum Algorithm: UInt32, Sendable, CaseIterable {
        case rsaPKCS1v15SHA256 = 0x7000_4830
        case rsaPSSSHA256 = 0x7041_4930

        public var name: String {
            switch self {
            case .rsaPKCS1v15SHA256: "TEE_ALG_RSASSA_PKCS1_V1_5_SHA256"
            case .rsaPSSSHA256: "TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256"
            }
        }

        var padding: RSASignaturePadding {
            switch self {
            case .rsaPKCS1v15SHA256: .pkcs1v15
            // OP-TEE signs and verifies with a salt as long as the digest.
            case .rsaPSSSHA256: .pss(saltLength: .digestLength)
            }
        }
    }

    /// An encrypted TA's `struct shdr_encrypted_ta`.
    public struct Encryption: Sendable, Equatable {
        /// Which key decrypts it (OP-TEE's `SHDR_ENC_KEY_*`): the platform provides one for each
        /// (`tee_otp_get_ta_enc_key`); rproc-tee's daemon has one TA encryption key for both.
        public enum KeyType: UInt32, Sendable, CaseIterable {
            case deviceSpecific = 0
            case classWide = 1

            public var name: String { self == .deviceSpecific ? "SHDR_ENC_KEY_DEV_SPECIFIC" : "SHDR_ENC_KEY_CLASS_WIDE" }
        }

        public let keyType: KeyType
        public let iv: [UInt8]
        public let tag: [UInt8]

        /// TEE_ALG_AES_GCM, the one algorithm OP-TEE's TA store takes.
        public static let aesGCM: UInt32 = 0x4000_0810
        /// What `sign_encrypt.py` writes and the one size accepted here: a 12-byte nonce, a 16-byte tag.
        public static let ivSize = 12
        public static let tagSize = 16
        /// The TA encryption key: AES-256.
        public static let keySize = 32

        var header: [UInt8] {
            SignedTA.le32(Self.aesGCM) + SignedTA.le32(keyType.rawValue)
                + [UInt8(Self.ivSize), 0, UInt8(Self.tagSize), 0] + iv + tag
        }
    }

    public static let magic: UInt32 = 0x4f54_5348
    public static let headerSize = 20
    public static let bootstrapSize = 20
    /// The largest TA file read (OP-TEE's TAs are kilobytes to a few MiB; the `large` TA of its
    /// test suite is 1 MiB of data).
    public static let maxFileSize = 64 << 20
    /// The largest signature: an RSA-8192 key's.
    public static let maxSignatureSize = 1024

    public let imageType: ImageType
    public let algorithm: Algorithm
    /// The hash the file claims (checked against the bytes by `verify`).
    public let claimedHash: [UInt8]
    public let signature: [UInt8]
    /// The bootstrap header's UUID octets (RFC 4122 order) and TA version; nil for `.legacy`.
    public let uuid: [UInt8]?
    public let version: UInt32?
    /// The ELF, as signed — for an encrypted TA its ciphertext until `decrypted(with:)`.
    public private(set) var elf: [UInt8]
    /// An encrypted TA's encryption header (nil: the ELF is in the clear).
    public let encryption: Encryption?
    /// Whether `elf` is in the clear (always, but for an encrypted TA not yet decrypted).
    public private(set) var isPlaintext: Bool
    /// What the hash covers besides the ELF: the signed header, the bootstrap header and the
    /// encryption header.
    let signedPrefix: [UInt8]

    /// Reads the layout. Attacker: whoever wrote the file (a TA folder is the normal world's):
    /// every length is bounded before it is used, the ELF must fill the rest of the file exactly.
    public init(bytes: [UInt8]) throws(ImageError) {
        do { try self.init(reading: bytes) } catch let error as ImageError { throw error } catch {
            throw ImageError(.truncated, "\(error)")
        }
    }

    private init(reading bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxFileSize else {
            throw ImageError(.badLength, "a TA file of \(bytes.count) bytes is above \(Self.maxFileSize)")
        }
        var r = ByteReader(bytes)
        guard try r.u32("magic") == Self.magic else { throw ImageError(.badMagic, "not an OP-TEE signed TA (magic)", offset: 0) }
        let rawType = try r.u32("img_type")
        guard let type = ImageType(rawValue: rawType) else {
            throw ImageError(.unsupportedImageType, "image type \(rawType)", offset: 4)
        }
        guard type != .subkey else {
            throw ImageError(.unsupportedImageType, "a subkey chain is read by SignedTAChain", offset: 4)
        }
        let imageSize = try r.u32("img_size")
        let rawAlgorithm = try r.u32("algo")
        guard let algorithm = Algorithm(rawValue: rawAlgorithm) else {
            throw ImageError(.unknownSignatureType, "signature algorithm 0x\(String(rawAlgorithm, radix: 16))", offset: 12)
        }
        let hashSize = Int(try r.u16("hash_size"))
        let signatureSize = Int(try r.u16("sig_size"))
        // Attacker-controlled sizes: the hash is SHA-256's, the signature at most RSA-8192's.
        guard hashSize == 32 else { throw ImageError(.unsupportedHashType, "a \(hashSize)-byte hash (SHA-256's is 32)", offset: 16) }
        guard (1...Self.maxSignatureSize).contains(signatureSize) else {
            throw ImageError(.badLength, "a \(signatureSize)-byte signature", offset: 18)
        }
        claimedHash = try r.take(hashSize, "hash")
        signature = try r.take(signatureSize, "signature")
        var prefix = Array(bytes[0..<Self.headerSize])
        if type == .bootstrap || type == .encrypted {
            let id = try r.take(16, "TA UUID")
            let version = try r.u32("TA version")
            prefix += id
            prefix += (0..<4).map { UInt8(truncatingIfNeeded: version >> (8 * UInt32($0))) }
            uuid = id
            self.version = version
        } else {
            uuid = nil
            version = nil
        }
        if type == .encrypted {
            // Attacker-controlled: every field. One algorithm, one key-type bit, sign_encrypt.py's
            // sizes; anything else is refused before a key is used.
            let at = bytes.count - r.remaining
            let algorithm = try r.u32("enc_algo")
            guard algorithm == Encryption.aesGCM else {
                throw ImageError(.unsupportedImageType, "encryption algorithm 0x\(String(algorithm, radix: 16)) (TEE_ALG_AES_GCM is 0x40000810)", offset: at)
            }
            let flags = try r.u32("flags")
            guard let keyType = Encryption.KeyType(rawValue: flags) else {
                throw ImageError(.badManifest, "encryption flags 0x\(String(flags, radix: 16)) (bit 0, the key type, is the only one)", offset: at + 4)
            }
            let ivSize = Int(try r.u16("iv_size")), tagSize = Int(try r.u16("tag_size"))
            guard ivSize == Encryption.ivSize, tagSize == Encryption.tagSize else {
                throw ImageError(.badLength, "a \(ivSize)-byte IV and \(tagSize)-byte tag (a \(Encryption.ivSize)-byte IV and a \(Encryption.tagSize)-byte tag are taken)", offset: at + 8)
            }
            let encryption = Encryption(keyType: keyType, iv: try r.take(ivSize, "IV"), tag: try r.take(tagSize, "tag"))
            prefix += encryption.header
            self.encryption = encryption
        } else {
            encryption = nil
        }
        isPlaintext = type != .encrypted
        // Attacker-controlled: img_size. The ELF is the rest of the file, to the byte.
        guard Int(imageSize) == r.remaining else {
            throw ImageError(.badImageSize, "the header announces a \(imageSize)-byte ELF; \(r.remaining) bytes follow", offset: 8)
        }
        elf = try r.take(r.remaining, "ELF")
        imageType = type
        self.algorithm = algorithm
        signedPrefix = prefix
    }

    /// An encrypted TA with its ELF decrypted by `key` (AES-256-GCM: a wrong key or a changed
    /// byte fails the tag); `self` for a TA in the clear. The plaintext exists only in memory.
    public func decrypted(with key: SecureBytes) throws(ImageError) -> SignedTA {
        guard let encryption, !isPlaintext else { return self }
        guard key.count == Encryption.keySize else { throw ImageError(.badSigningInput, "a TA encryption key is \(Encryption.keySize) bytes") }
        do {
            var clear = self
            clear.elf = try AESGCM.open(elf, key: key, iv: encryption.iv, tag: encryption.tag)
            clear.isPlaintext = true
            return clear
        } catch {
            throw ImageError(.hashMismatch, "the encrypted TA does not decrypt under the TA encryption key (a wrong key, or changed bytes)")
        }
    }

    /// The hash the file's bytes have (what `claimedHash` must be).
    public var computedHash: Digest {
        var hasher = DigestHasher(.sha256)
        hasher.update(signedPrefix)
        hasher.update(elf)
        return hasher.finalize()
    }

    /// Checks the hash against the bytes, then the signature with `keys` (the first RSA key of
    /// the signature's size that verifies it); a bootstrap TA's UUID must be `uuid` (the one
    /// asked for: a TA cannot answer for another's). Returns the key that signed it.
    /// Verification starts from "failed": each check must pass for a key to be returned.
    public func verify(uuid expected: [UInt8], keys: [PublicKey]) throws(ImageError) -> PublicKey {
        guard isPlaintext else {
            throw ImageError(.unsupportedImageType, "an encrypted TA is verified once decrypted (it needs the TA encryption key)")
        }
        if let uuid, uuid != expected {
            throw ImageError(.badManifest, "the TA's header names another UUID than its file")
        }
        let computed = computedHash
        guard let claimed = try? Digest(algorithm: .sha256, bytes: claimedHash), claimed == computed else {
            throw ImageError(.hashMismatch, "the TA's bytes do not have the hash its header claims", offset: Self.headerSize)
        }
        var sizedKey = false
        for key in keys {
            guard case .rsa(let rsa) = key, rsa.byteCount == signature.count else { continue }
            sizedKey = true
            if (try? rsa.verify(signature: signature, for: computed, padding: algorithm.padding)) != nil { return key }
        }
        throw ImageError(sizedKey ? .signatureInvalid : .untrustedKey,
                         sizedKey ? "no TA-signing key verifies the signature" : "no TA-signing key is an RSA key of the signature's \(signature.count * 8) bits")
    }

    /// `struct shdr` for an image of `type` (what its hash then covers follows it).
    static func signedHeader(_ type: ImageType, imageSize: Int, algorithm: Algorithm, signatureSize: Int) -> [UInt8] {
        le32(magic) + le32(type.rawValue) + le32(UInt32(imageSize)) + le32(algorithm.rawValue)
            + [32, 0, UInt8(truncatingIfNeeded: signatureSize), UInt8(truncatingIfNeeded: signatureSize >> 8)]
    }

    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }

    /// Signs `elf` as OP-TEE's `sign_encrypt.py sign-enc` does (a bootstrap TA; PSS by default,
    /// as there): the same bytes for PKCS#1 v1.5, a fresh salt for PSS.
    /// With `encryption`, the ELF is then encrypted as `sign_encrypt.py --enc-key` does
    /// (sign-then-encrypt: the hash covers the plaintext): AES-256-GCM under `key`, no AAD,
    /// `nonce` (12 bytes; default random — a fixed one only for reproducible test files).
    public static func sign(elf: [UInt8], uuid: [UInt8], version: UInt32, key: PrivateKey,
                            algorithm: Algorithm = .rsaPSSSHA256,
                            encryption: (key: SecureBytes, type: Encryption.KeyType, nonce: [UInt8]?)? = nil) throws(ImageError) -> [UInt8] {
        guard case .rsa(let rsa) = key else { throw ImageError(.badSigningInput, "TAs are signed with RSA keys") }
        guard uuid.count == 16 else { throw ImageError(.badSigningInput, "a UUID is 16 octets") }
        guard elf.count <= maxFileSize - 4096, elf.count <= Int(UInt32.max) else {
            throw ImageError(.badSigningInput, "an ELF of \(elf.count) bytes is too large for a TA")
        }
        guard case .rsa(let publicKey) = key.publicKey else { throw ImageError(.badSigningInput, "TAs are signed with RSA keys") }
        let header = signedHeader(encryption == nil ? .bootstrap : .encrypted, imageSize: elf.count, algorithm: algorithm,
                                  signatureSize: publicKey.byteCount)
        let bootstrap = uuid + le32(version)
        var encryptionHeader: [UInt8] = []
        var payload = elf
        if let encryption {
            guard encryption.key.count == Encryption.keySize else {
                throw ImageError(.badSigningInput, "a TA encryption key is \(Encryption.keySize) bytes (AES-256)")
            }
            guard !encryption.key.withUnsafeBytes({ $0.allSatisfy { $0 == 0 } }) else {
                throw ImageError(.badSigningInput, "an all-zero TA encryption key")
            }
            do {
                let nonce = try encryption.nonce ?? RandomGenerator.shared.bytes(count: Encryption.ivSize)
                guard nonce.count == Encryption.ivSize else { throw ImageError(.badSigningInput, "a nonce is \(Encryption.ivSize) bytes") }
                let (ciphertext, tag) = try AESGCM.seal(elf, key: encryption.key, iv: nonce, tagLength: Encryption.tagSize)
                encryptionHeader = Encryption(keyType: encryption.type, iv: nonce, tag: tag).header
                payload = ciphertext
            } catch let error as ImageError {
                throw error
            } catch {
                throw ImageError(.badSigningInput, "AES-GCM failed: \(error)")
            }
        }
        var hasher = DigestHasher(.sha256)
        hasher.update(header)
        hasher.update(bootstrap)
        hasher.update(encryptionHeader)
        hasher.update(elf)
        let digest = hasher.finalize()
        let signature: [UInt8]
        do { signature = try rsa.signature(for: digest, padding: algorithm.padding) } catch {
            throw ImageError(.badSigningInput, "RSA signature failed: \(error)")
        }
        return header + digest.bytes + signature + bootstrap + encryptionHeader + payload
    }
}

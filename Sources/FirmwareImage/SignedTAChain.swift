import TEECrypto

/// A signed TA file that may begin with OP-TEE's subkey chain (xtest 1039): each subkey is a
/// signed header of type 3 whose image is a `struct shdr_subkey` — UUID, name size, version,
/// maximum depth, algorithm and the RSA public key's attributes — followed by a name; the next
/// header (a subkey or the TA) is signed with that subkey's key.
///
/// ```
/// shdr (img_type 3) ‖ hash ‖ signature ‖ subkey (img_size bytes) ‖ name (name_size bytes)
/// subkey   16 UUID octets, u32 name_size, u32 subkey_version, u32 max_depth, u32 algo,
///          u32 attr_count, attr_count × (u32 id, u32 offset from the subkey's start, u32 size)
/// ```
/// A subkey with a name moves the next UUID into its namespace: UUIDv5 over SHA-512 of the
/// subkey's UUID and the name (up to its first NUL); without a name, the next UUID must be the
/// subkey's own. Each subkey's `max_depth` must be below the one before (the first's below
/// 2^32 - 1). Layout facts are OP-TEE's (`signed_hdr.h`, `signed_hdr.c`, `ree_fs_ta.c`); the
/// code is ours. A chain is checked for itself here; the daemon's TA store then checks each
/// subkey's version against the highest it has loaded (`TAVersionDatabase`, OP-TEE's
/// `subkey_ver.db`).
public struct SignedTAChain: Sendable {
    public struct Subkey: Sendable, Equatable {
        public let uuid: [UInt8]
        public let version: UInt32
        public let maxDepth: UInt32
        /// The name field's size (0: an identity subkey) and the name up to its first NUL.
        public let nameSize: UInt32
        public let name: [UInt8]
    }

    public let subkeys: [Subkey]
    /// The TA at the end, verified with the last subkey's key (or the trusted keys).
    public let ta: SignedTA

    /// Attacker: whoever wrote the file. Chains are short (OP-TEE's are one to three).
    public static let maxSubkeys = 8
    static let maxAttributes = 8

    /// Verifies the whole file for TA `uuid` (RFC 4122 octets) against `keys` (the roots):
    /// every subkey's hash and signature, depth and namespace, then the TA's.
    /// An encrypted TA is decrypted with `decryptionKey` first (its hash covers the plaintext);
    /// without one it is refused.
    public static func verify(_ bytes: [UInt8], uuid expected: [UInt8], keys roots: [PublicKey],
                              decryptionKey: SecureBytes? = nil) throws(ImageError) -> SignedTAChain {
        var keys = roots
        var offset = 0
        var maxDepth = UInt32.max
        var nextUUID: [UInt8]?
        var subkeys: [Subkey] = []
        while bytes.count - offset >= SignedTA.headerSize, readLE32(bytes, offset + 4) == SignedTA.ImageType.subkey.rawValue {
            guard subkeys.count < maxSubkeys else { throw ImageError(.badManifest, "more than \(maxSubkeys) subkeys", offset: offset) }
            let (subkey, key, end) = try readSubkey(bytes, at: offset, keys: keys)
            guard subkey.maxDepth < maxDepth else {
                throw ImageError(.badManifest, "a subkey of depth \(subkey.maxDepth) below one of depth \(maxDepth)", offset: offset)
            }
            if let nextUUID, nextUUID != subkey.uuid {
                throw ImageError(.badManifest, "a subkey outside its parent's namespace", offset: offset)
            }
            nextUUID = subkey.nameSize == 0 ? subkey.uuid : uuidV5SHA512(namespace: subkey.uuid, name: subkey.name)
            maxDepth = subkey.maxDepth
            keys = [key]
            subkeys.append(subkey)
            offset = end
        }
        var ta = try SignedTA(bytes: Array(bytes[offset...]))
        if ta.encryption != nil {
            guard let decryptionKey else { throw ImageError(.untrustedKey, "an encrypted TA, and no TA encryption key to decrypt it") }
            ta = try ta.decrypted(with: decryptionKey)
        }
        _ = try ta.verify(uuid: expected, keys: keys)
        if let nextUUID, nextUUID != expected {
            throw ImageError(.badManifest, "the TA's UUID is not in its subkey's namespace")
        }
        return SignedTAChain(subkeys: subkeys, ta: ta)
    }

    /// The subkeys at the start of `bytes`, unverified (the signer appends a TA to them), and
    /// where they end; empty when the file is not a subkey. A chain file (sign-subkey's output)
    /// ends without the last subkey's name: the TA's signer adds it.
    public static func walk(_ bytes: [UInt8]) throws(ImageError) -> (subkeys: [Subkey], end: Int) {
        var offset = 0
        var subkeys: [Subkey] = []
        while bytes.count - offset >= SignedTA.headerSize, readLE32(bytes, offset + 4) == SignedTA.ImageType.subkey.rawValue {
            guard subkeys.count < maxSubkeys else { throw ImageError(.badManifest, "more than \(maxSubkeys) subkeys", offset: offset) }
            let (subkey, _, end) = try readSubkey(bytes, at: offset, keys: nil, nameMayFollowLater: true)
            subkeys.append(subkey)
            offset = end
        }
        return (subkeys, offset)
    }

    /// One subkey at `offset`: its hash and (with `keys`) signature checked, its RSA key read.
    private static func readSubkey(_ b: [UInt8], at offset: Int, keys: [PublicKey]?,
                                   nameMayFollowLater: Bool = false) throws(ImageError) -> (Subkey, PublicKey, Int) {
        func need(_ n: Int, _ at: Int, _ what: String) throws(ImageError) {
            // Attacker-controlled lengths, compared without overflow against what is left.
            guard n >= 0, at <= b.count, n <= b.count - at else { throw ImageError(.truncated, "\(what): needs \(n) bytes", offset: at) }
        }
        try need(SignedTA.headerSize, offset, "subkey header")
        guard readLE32(b, offset) == SignedTA.magic else { throw ImageError(.badMagic, "not an OP-TEE signed header", offset: offset) }
        let imageSize = Int(readLE32(b, offset + 8))
        guard let algorithm = SignedTA.Algorithm(rawValue: readLE32(b, offset + 12)) else {
            throw ImageError(.unknownSignatureType, "subkey signature algorithm", offset: offset + 12)
        }
        let hashSize = Int(b[offset + 16]) | Int(b[offset + 17]) << 8
        let signatureSize = Int(b[offset + 18]) | Int(b[offset + 19]) << 8
        guard hashSize == 32, (1...SignedTA.maxSignatureSize).contains(signatureSize) else {
            throw ImageError(.badLength, "a subkey's hash or signature size", offset: offset + 16)
        }
        let hashAt = offset + SignedTA.headerSize, signatureAt = hashAt + hashSize, imageAt = signatureAt + signatureSize
        try need(imageSize, imageAt, "subkey")
        let image = Array(b[imageAt..<(imageAt + imageSize)])
        var hasher = DigestHasher(.sha256)
        hasher.update(b[offset..<(offset + SignedTA.headerSize)])
        hasher.update(image)
        let hash = hasher.finalize()
        guard hash.bytes == Array(b[hashAt..<signatureAt]) else {
            throw ImageError(.hashMismatch, "the subkey's bytes do not have the hash its header claims", offset: hashAt)
        }
        if let keys {
            let signature = Array(b[signatureAt..<imageAt])
            guard keys.contains(where: { key in
                guard case .rsa(let rsa) = key, rsa.byteCount == signature.count else { return false }
                return (try? rsa.verify(signature: signature, for: hash, padding: algorithm.padding)) != nil
            }) else { throw ImageError(.signatureInvalid, "no key verifies the subkey's signature", offset: signatureAt) }
        }
        // struct shdr_subkey
        guard image.count >= 36 else { throw ImageError(.truncated, "a \(image.count)-byte subkey", offset: imageAt) }
        let uuid = Array(image[0..<16])
        let nameSize = Int(readLE32(image, 16)), version = readLE32(image, 20), maxDepth = readLE32(image, 24)
        let keyAlgorithm = readLE32(image, 28), attributeCount = Int(readLE32(image, 32))
        guard keyAlgorithm & 0xFF == 0x30 else { throw ImageError(.unknownSignatureType, "a subkey that is not an RSA key", offset: imageAt + 28) }
        guard attributeCount <= maxAttributes, 36 + 12 * attributeCount <= image.count else {
            throw ImageError(.badManifest, "\(attributeCount) subkey attributes", offset: imageAt + 32)
        }
        var modulus: [UInt8]?, exponent: [UInt8]?
        for i in 0..<attributeCount {
            let id = readLE32(image, 36 + 12 * i), at = Int(readLE32(image, 40 + 12 * i)), size = Int(readLE32(image, 44 + 12 * i))
            guard at <= image.count, size <= image.count - at else { throw ImageError(.badManifest, "a subkey attribute outside it", offset: imageAt + 36 + 12 * i) }
            if id == 0xD000_0130 { modulus = Array(image[at..<(at + size)]) }
            if id == 0xD000_0230 { exponent = Array(image[at..<(at + size)]) }
        }
        guard let modulus, let exponent, let rsa = try? RSAPublicKey(modulus: modulus, publicExponent: exponent) else {
            throw ImageError(.badManifest, "a subkey without a usable RSA key", offset: imageAt)
        }
        let nameAt = imageAt + imageSize
        if nameMayFollowLater && nameAt == b.count {
            return (Subkey(uuid: uuid, version: version, maxDepth: maxDepth, nameSize: UInt32(nameSize), name: []), .rsa(rsa), nameAt)
        }
        try need(nameSize, nameAt, "subkey name")
        let rawName = b[nameAt..<(nameAt + nameSize)]
        let name = Array(rawName.prefix { $0 != 0 })
        return (Subkey(uuid: uuid, version: version, maxDepth: maxDepth, nameSize: UInt32(nameSize), name: name), .rsa(rsa), nameAt + nameSize)
    }

    /// A subkey signed by `signer` (the root key, or the previous subkey's), as OP-TEE's
    /// `sign_encrypt.py sign-subkey` writes it (without a chain before it and without the name
    /// after it): `key` becomes the subkey, `uuid` its namespace.
    public static func signSubkey(uuid: [UInt8], key: RSAPublicKey, nameSize: UInt32, version: UInt32, maxDepth: UInt32,
                                  signer: PrivateKey, algorithm: SignedTA.Algorithm = .rsaPSSSHA256) throws(ImageError) -> [UInt8] {
        guard uuid.count == 16, case .rsa(let parent) = signer, case .rsa(let parentPublic) = signer.publicKey else {
            throw ImageError(.badSigningInput, "a subkey has a 16-octet UUID and is signed with an RSA key")
        }
        let le32 = SignedTA.le32
        let n = key.modulus, e = key.publicExponent
        let headerSize = UInt32(16 + 5 * 4 + 2 * 12)
        let image = uuid + le32(nameSize) + le32(version) + le32(maxDepth) + le32(algorithm.rawValue) + le32(2)
            + le32(0xD000_0130) + le32(headerSize) + le32(UInt32(n.count))
            + le32(0xD000_0230) + le32(headerSize + UInt32(n.count)) + le32(UInt32(e.count)) + n + e
        let header = SignedTA.signedHeader(.subkey, imageSize: image.count, algorithm: algorithm, signatureSize: parentPublic.byteCount)
        var hasher = DigestHasher(.sha256)
        hasher.update(header)
        hasher.update(image)
        let digest = hasher.finalize()
        let signature: [UInt8]
        do { signature = try parent.signature(for: digest, padding: algorithm.padding) } catch {
            throw ImageError(.badSigningInput, "RSA signature failed: \(error)")
        }
        return header + digest.bytes + signature + image
    }

    /// RFC 4122's name-based UUID (version 5) with SHA-512 in place of SHA-1, as OP-TEE computes
    /// the UUID a subkey's name gives.
    public static func uuidV5SHA512(namespace: [UInt8], name: [UInt8]) -> [UInt8] {
        var u = Array(Digest.hash(.sha512, namespace + name).bytes.prefix(16))
        u[6] = (u[6] & 0x0F) | 0x50
        u[8] = (u[8] & 0x3F) | 0x80
        return u
    }
}

import TEECrypto

/// The keys an image may be signed with: provisioned public keys, hashes of keys that an image
/// may carry itself in PKEYINFO, and a revocation list. Hashes are SHA-256 over the key's DER
/// SubjectPublicKeyInfo (`rproc-tee keygen` prints it).
public struct TrustedKeys: Sendable {
    public var keys: [PublicKey]
    public var keyHashes: [Digest]
    public var revoked: [Digest]

    public init(keys: [PublicKey] = [], keyHashes: [Digest] = [], revoked: [Digest] = []) {
        self.keys = keys
        self.keyHashes = keyHashes
        self.revoked = revoked
    }

    public func isRevoked(_ key: PublicKey) -> Bool { revoked.contains(key.fingerprint) }

    /// The keys to try: provisioned ones that are not revoked, then a PKEYINFO key
    /// if it parses as a public key whose hash is provisioned and not revoked.
    func candidates(keyInfo: [UInt8]?) -> (usable: [PublicKey], revokedMatches: Int) {
        var usable: [PublicKey] = []
        var revokedCount = 0
        for key in keys {
            if isRevoked(key) { revokedCount += 1 } else { usable.append(key) }
        }
        if let info = keyInfo, let key = try? PublicKey(pemOrDER: info), keyHashes.contains(key.fingerprint) {
            if isRevoked(key) { revokedCount += 1 } else { usable.append(key) }
        }
        return (usable, revokedCount)
    }
}

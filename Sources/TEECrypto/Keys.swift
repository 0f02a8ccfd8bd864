/// The kinds of key TEECrypto creates, by the names the CLI and the docs use.
public enum KeyType: String, Sendable, CaseIterable {
    case rsa2048, rsa3072, rsa4096
    case ecdsaP256 = "ecdsa-p256"
    case ecdsaP384 = "ecdsa-p384"
}

/// A public key of any supported kind, parsed from PEM or DER (SubjectPublicKeyInfo, or a
/// PKCS#1 RSAPublicKey).
public enum PublicKey: Sendable {
    case rsa(RSAPublicKey)
    case ec(ECPublicKey)

    /// Parses PEM (detected by its `-----BEGIN` armour) or DER.
    public init(pemOrDER data: some Collection<UInt8>) throws {
        let ctx = try PKContext.parsePublicKey(data)
        if ctx.isRSA {
            try RSAPublicKey.checkSize(ctx)
            self = .rsa(RSAPublicKey(checked: ctx))
        } else if ctx.isEC {
            self = .ec(ECPublicKey(checked: ctx, curve: try ECCurve.of(ctx)))
        } else {
            throw CryptoError(.unsupportedKey, "only RSA and EC public keys are supported")
        }
    }

    public init(pem: String) throws { try self.init(pemOrDER: Array(pem.utf8)) }

    /// DER SubjectPublicKeyInfo: the bytes a key fingerprint is computed over.
    public var derRepresentation: [UInt8] {
        switch self {
        case .rsa(let key): key.derRepresentation
        case .ec(let key): key.derRepresentation
        }
    }

    public var pemRepresentation: String {
        switch self {
        case .rsa(let key): key.pemRepresentation
        case .ec(let key): key.pemRepresentation
        }
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo, the form trusted-key hashes are provisioned in.
    public var fingerprint: Digest { Digest.hash(.sha256, derRepresentation) }

    /// `RSA-2048`, `ECDSA P-256`, …
    public var algorithmDescription: String {
        switch self {
        case .rsa(let key): "RSA-\(key.bitCount)"
        case .ec(let key): "ECDSA \(key.curve.rawValue)"
        }
    }
}

/// A private key of any supported kind.
public enum PrivateKey: Sendable {
    case rsa(RSAPrivateKey)
    case ec(ECPrivateKey)

    /// Parses PEM or DER: PKCS#1, SEC1, PKCS#8, and encrypted forms when `password` is given.
    /// Throws `.passwordRequired` / `.wrongPassword` for encrypted keys.
    public init(pemOrDER data: some Collection<UInt8>, password: SecureBytes? = nil) throws {
        let ctx = try PKContext.parsePrivateKey(data, password: password)
        if ctx.isRSA {
            try RSAPublicKey.checkSize(ctx)
            self = .rsa(RSAPrivateKey(checked: ctx))
        } else if ctx.isEC {
            self = .ec(ECPrivateKey(checked: ctx, curve: try ECCurve.of(ctx)))
        } else {
            throw CryptoError(.unsupportedKey, "only RSA and EC private keys are supported")
        }
    }

    /// Generates a new key.
    public init(generating type: KeyType, random: RandomGenerator = .shared) throws {
        switch type {
        case .rsa2048: self = .rsa(try RSAPrivateKey(generatingBits: 2048, random: random))
        case .rsa3072: self = .rsa(try RSAPrivateKey(generatingBits: 3072, random: random))
        case .rsa4096: self = .rsa(try RSAPrivateKey(generatingBits: 4096, random: random))
        case .ecdsaP256: self = .ec(try ECPrivateKey(generating: .p256, random: random))
        case .ecdsaP384: self = .ec(try ECPrivateKey(generating: .p384, random: random))
        }
    }

    public var publicKey: PublicKey {
        switch self {
        case .rsa(let key): .rsa(key.publicKey)
        case .ec(let key): .ec(key.publicKey)
        }
    }

    /// PEM `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC1), unencrypted.
    public var pemRepresentation: SecureBytes {
        switch self {
        case .rsa(let key): key.pemRepresentation
        case .ec(let key): key.pemRepresentation
        }
    }

    public var derRepresentation: SecureBytes {
        switch self {
        case .rsa(let key): key.derRepresentation
        case .ec(let key): key.derRepresentation
        }
    }
}

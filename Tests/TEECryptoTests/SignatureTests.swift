import Testing
import TEECrypto

@Suite struct SignatureTests {
    static let message = Array("rproc-tee signs firmware".utf8)

    @Test(arguments: [2048, 3072, 4096])
    func pssSalt32RoundTrip(bits: Int) throws {
        let key = try RSAPrivateKey(generatingBits: bits)
        let digest = Digest.hash(.sha256, Self.message)
        let sig = try key.signature(for: digest, padding: .pss)
        #expect(sig.count == bits / 8)
        try key.publicKey.verify(signature: sig, for: digest, padding: .pss(saltLength: .exactly(32)))
        try key.publicKey.verify(signature: sig, for: digest, padding: .pss(saltLength: .any))
        // A different expected salt length refuses the signature.
        #expect(throws: CryptoError(.signatureMismatch, "")) {
            try key.publicKey.verify(signature: sig, for: digest, padding: .pss(saltLength: .exactly(20)))
        }
        // PSS is randomized: two signatures differ, both verify.
        #expect(try key.signature(for: digest, padding: .pss) != sig)
        // A v1.5 verifier does not accept a PSS signature.
        #expect(throws: CryptoError(.signatureMismatch, "")) { try key.publicKey.verify(signature: sig, for: digest, padding: .pkcs1v15) }
    }

    @Test func pssOtherSaltLengthsAndDigests() throws {
        guard case .rsa(let key) = try PrivateKey(pemOrDER: try Fixtures.key("rsa2048-pkcs1.pem")) else {
            Issue.record("the rsa2048-pkcs1.pem fixture is not an RSA key")
            return
        }
        for algorithm in DigestAlgorithm.allCases {
            let digest = Digest.hash(algorithm, Self.message)
            guard algorithm.backends.contains(.mbedTLS) else {
                // RSA signs through mbedTLS, which has no SHA-3: said, never a wrong signature.
                #expect(throws: CryptoError(.unsupportedAlgorithm, "")) { try key.signature(for: digest, padding: .pss(saltLength: .exactly(0))) }
                #expect(throws: CryptoError(.unsupportedAlgorithm, "")) { try key.publicKey.verify(signature: [UInt8](repeating: 1, count: 256), for: digest, padding: .pkcs1v15) }
                continue
            }
            for salt in [0, 20, algorithm.byteCount] {
                let sig = try key.signature(for: digest, padding: .pss(saltLength: .exactly(salt)))
                try key.publicKey.verify(signature: sig, for: digest, padding: .pss(saltLength: .exactly(salt)))
                try key.publicKey.verify(signature: sig, for: digest, padding: .pss(saltLength: .any))
            }
        }
        #expect(throws: CryptoError(.invalidArgument, "")) { try key.signature(for: Digest.hash(.sha256, Self.message), padding: .pss(saltLength: .any)) }
    }

    @Test func rsaRefusals() throws {
        guard case .rsa(let key) = try PrivateKey(pemOrDER: try Fixtures.key("rsa2048-pkcs1.pem")) else { Issue.record("the fixture is not an RSA key"); return }
        let publicKey = key.publicKey
        let digest = Digest.hash(.sha256, Self.message)
        let sig = try key.signature(for: digest, padding: .pkcs1v15)
        try publicKey.verify(signature: sig, for: digest, padding: .pkcs1v15)
        // Exactly the modulus length: one byte short or long is malformed, not merely "false".
        #expect(throws: CryptoError(.malformedSignature, "")) { try publicKey.verify(signature: sig.dropLast(), for: digest, padding: .pkcs1v15) }
        #expect(throws: CryptoError(.malformedSignature, "")) { try publicKey.verify(signature: [0] + sig, for: digest, padding: .pkcs1v15) }
        // A value not below the modulus.
        #expect(throws: CryptoError(.malformedSignature, "")) {
            try publicKey.verify(signature: [UInt8](repeating: 0xFF, count: 256), for: digest, padding: .pkcs1v15)
        }
        // Every single-bit flip of the signature is refused.
        for bit in stride(from: 0, to: sig.count * 8, by: 97) {
            var flipped = sig
            flipped[bit / 8] ^= UInt8(1 << (bit % 8))
            #expect(throws: CryptoError.self) { try publicKey.verify(signature: flipped, for: digest, padding: .pkcs1v15) }
        }
        // Another message, another hash algorithm, another key.
        #expect(throws: CryptoError(.signatureMismatch, "")) { try publicKey.verify(signature: sig, for: Digest.hash(.sha256, [0]), padding: .pkcs1v15) }
        #expect(throws: CryptoError(.signatureMismatch, "")) { try publicKey.verify(signature: sig, for: Digest.hash(.sha384, Self.message), padding: .pkcs1v15) }
        let other = try RSAPrivateKey(generatingBits: 2048)
        #expect(throws: CryptoError(.signatureMismatch, "")) { try other.publicKey.verify(signature: sig, for: digest, padding: .pkcs1v15) }
    }

    @Test func digestLengthIsChecked() {
        #expect(throws: CryptoError(.invalidDigest, "")) { try Digest(algorithm: .sha256, bytes: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: CryptoError(.invalidDigest, "")) { try Digest(algorithm: .sha384, bytes: [UInt8](repeating: 0, count: 32)) }
        #expect((try? Digest(algorithm: .sha512, bytes: [UInt8](repeating: 0, count: 64))) != nil)
    }

    @Test(arguments: ECCurve.allCases)
    func ecdsaRoundTrip(curve: ECCurve) throws {
        let key = try ECPrivateKey(generating: curve)
        let digest = Digest.hash(curve.matchingDigest, Self.message)
        let sig = try key.signature(for: digest)
        #expect(sig.rawRepresentation.count == 2 * curve.byteCount)
        try key.publicKey.verify(signature: sig, for: digest)
        // RFC 6979: deterministic.
        #expect(try key.signature(for: digest) == sig)
        // Raw and DER round trips.
        #expect(try ECDSASignature(rawRepresentation: sig.rawRepresentation, curve: curve) == sig)
        #expect(try ECDSASignature(derRepresentation: sig.derRepresentation, curve: curve) == sig)
        // Flipped bits, other message, other key.
        var raw = sig.rawRepresentation
        raw[3] ^= 0x10
        #expect(throws: CryptoError(.signatureMismatch, "")) { try key.publicKey.verify(signature: try ECDSASignature(rawRepresentation: raw, curve: curve), for: digest) }
        #expect(throws: CryptoError(.signatureMismatch, "")) { try key.publicKey.verify(signature: sig, for: Digest.hash(curve.matchingDigest, [1])) }
        let other = try ECPrivateKey(generating: curve)
        #expect(throws: CryptoError(.signatureMismatch, "")) { try other.publicKey.verify(signature: sig, for: digest) }
        // Raw must be exactly 2n bytes.
        #expect(throws: CryptoError(.malformedSignature, "")) { try ECDSASignature(rawRepresentation: sig.rawRepresentation.dropLast(), curve: curve) }
        #expect(throws: CryptoError(.malformedSignature, "")) { try ECDSASignature(rawRepresentation: sig.rawRepresentation + [0], curve: curve) }
    }

    @Test func ecdsaCurveMismatch() throws {
        let p256 = try ECPrivateKey(generating: .p256)
        let p384 = try ECPrivateKey(generating: .p384)
        let digest = Digest.hash(.sha256, Self.message)
        let sig = try p256.signature(for: digest)
        #expect(throws: CryptoError(.invalidArgument, "")) { try p384.publicKey.verify(signature: sig, for: digest) }
        // r = 0 and r = n are out of range: refused by verification.
        let zero = try ECDSASignature(curve: .p256, r: [0], s: sig.s)
        #expect(throws: CryptoError(.signatureMismatch, "")) { try p256.publicKey.verify(signature: zero, for: digest) }
    }

    /// A DER signature must be the one minimal encoding; each entry damages a valid one.
    @Test func strictDER() throws {
        // r = 0x7F…, s = 0x80… (so s needs a leading zero); both 32 bytes.
        let r = [UInt8](repeating: 0x7F, count: 32), s = [0x80] + [UInt8](repeating: 0x01, count: 31)
        let sig = try ECDSASignature(curve: .p256, r: r, s: s)
        let der = sig.derRepresentation
        #expect(der == [0x30, 0x45, 0x02, 0x20] + r + [0x02, 0x21, 0x00] + s)
        #expect(try ECDSASignature(derRepresentation: der, curve: .p256) == sig)

        let rWithZero = [0x30, 0x46, 0x02, 0x21, 0x00] + r + [0x02, 0x21, 0x00] + s
        let sWithoutZero = [0x30, 0x44, 0x02, 0x20] + r + [0x02, 0x20] + s
        let longFormLength = [0x30, 0x81, 0x45] + Array(der.dropFirst(2))
        let indefinite = [0x30, 0x80] + Array(der.dropFirst(2)) + [0, 0]
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("wrong outer tag", [0x31] + der.dropFirst()),
            ("outer length too long", [0x30, 0x46] + der.dropFirst(2)),
            ("outer length too short", [0x30, 0x44] + der.dropFirst(2)),
            ("trailing byte", der + [0]),
            ("superfluous leading zero in r", rWithZero),
            ("negative s", sWithoutZero),
            ("long-form length under 128", longFormLength),
            ("indefinite length", indefinite),
            ("r not an INTEGER", [0x30, 0x45, 0x04] + der.dropFirst(3)),
            ("r too long for the curve", [0x30, 0x46, 0x02, 0x21, 0x01] + r + [0x02, 0x21, 0x00] + s),
            ("missing s", [0x30, 0x22, 0x02, 0x20] + r),
            ("empty INTEGER", [0x30, 0x25, 0x02, 0x00, 0x02, 0x21, 0x00] + s),
        ]
        for (name, bytes) in cases {
            #expect(throws: CryptoError(.malformedSignature, ""), "\(name)") { try ECDSASignature(derRepresentation: bytes, curve: .p256) }
        }
    }
}

import Testing
import TEECrypto

/// DSA on OpenSSL: NIST CAVP FIPS 186-3 SigVer for GP's four (L, N, hash) sets — every PASS
/// verifies, every FAIL is refused, and each key pair signs its message afresh in a way its
/// public key accepts; generated keys in a domain sign and verify.
@Suite struct DSATests {
    @Test func sigVer() throws {
        var passes = 0, failures = 0
        var p: [UInt8] = [], q: [UInt8] = [], g: [UInt8] = []
        for r in try CAVP.records("DSA_SigVer_186-3.rsp") {
            if r.has("P") { (p, q, g) = (try r.hex("P"), try r.hex("Q"), try r.hex("G")) }
            guard r.has("Result") else { continue }
            let hash: DigestAlgorithm = r.section.hasSuffix("SHA-1]") ? .sha1 : r.section.hasSuffix("SHA-224]") ? .sha224 : .sha256
            let digest = Digest.hash(hash, try r.hex("Msg")).bytes
            let expectPass = r["Result"]!.hasPrefix("P")
            let n = DSAKeyTestSupport.width(q)
            let signature = try DSAKeyTestSupport.pad(r.hex("R"), n) + DSAKeyTestSupport.pad(r.hex("S"), n)
            var verified: Bool
            do {
                try DSAKey(prime: p, subprime: q, base: g, publicValue: try r.hex("Y")).verify(signature: signature, forDigestBytes: digest)
                verified = true
            } catch let error as CryptoError {
                #expect([.signatureMismatch, .invalidKey].contains(error.code), "line \(r.line): \(error)")
                verified = false
            }
            #expect(verified == expectPass, "\(r.section) line \(r.line): \(r["Result"]!)")
            if expectPass {
                passes += 1
                // The pair (X, Y) signs anew; the public key accepts it.
                let pair = try DSAKey(prime: p, subprime: q, base: g, publicValue: try r.hex("Y"), privateValue: SecureBytes(try r.hex("X")))
                let fresh = try pair.signature(forDigestBytes: digest)
                #expect(fresh.count == 2 * n)
                try DSAKey(prime: p, subprime: q, base: g, publicValue: try r.hex("Y")).verify(signature: fresh, forDigestBytes: digest)
            } else {
                failures += 1
            }
        }
        #expect(passes + failures == 60 && passes > 0 && failures > 0)
    }

    @Test func generatedKeysAndRefusals() throws {
        let r = try #require(try CAVP.records("DSA_SigVer_186-3.rsp").first { $0.has("P") })
        let p = try r.hex("P"), q = try r.hex("Q"), g = try r.hex("G")
        let pair = try DSAKey(generatingIn: p, subprime: q, base: g)
        #expect(pair.bitCount == 1024 && pair.privateValue != nil)
        let digest = Digest.hash(.sha1, Array("message".utf8)).bytes
        let signature = try pair.signature(forDigestBytes: digest)
        let publicKey = try DSAKey(prime: p, subprime: q, base: g, publicValue: pair.publicValue)
        try publicKey.verify(signature: signature, forDigestBytes: digest)
        var bad = signature
        bad[3] ^= 1
        #expect(throws: CryptoError(.signatureMismatch, "")) { try publicKey.verify(signature: bad, forDigestBytes: digest) }
        #expect(throws: CryptoError(.malformedSignature, "")) { try publicKey.verify(signature: Array(signature.dropLast()), forDigestBytes: digest) }
        #expect(throws: CryptoError(.invalidKey, "")) { try publicKey.signature(forDigestBytes: digest) }
        #expect(throws: CryptoError(.invalidKey, "")) {
            try DSAKey(prime: p, subprime: q, base: g, publicValue: pair.publicValue, privateValue: SecureBytes([1, 2, 3]))
        }
    }
}

enum DSAKeyTestSupport {
    static func width(_ q: [UInt8]) -> Int { q.drop { $0 == 0 }.count }
    static func pad(_ v: [UInt8], _ n: Int) -> [UInt8] {
        let s = Array(v.drop { $0 == 0 })
        return [UInt8](repeating: 0, count: max(0, n - s.count)) + s
    }
}

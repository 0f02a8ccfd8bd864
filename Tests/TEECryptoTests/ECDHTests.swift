import Testing
import TEECrypto

@Suite struct ECDHTests {
    /// NIST CAVS 11.0 ECC static-unified validity test, ZZ only, initiator side (P-192 … P-521):
    /// 90 records pass (some with a leading zero byte in Z; P-521's values carry extra leading zero
    /// bytes), 60 are broken in one place (a public coordinate off the curve, a private
    /// value that does not match its public point, a changed Z). A record passes here only if
    /// both public points are accepted, d_IUT matches Q_IUT, and both sides' ECDH give Z — so
    /// each broken record must be caught by one of those checks.
    @Test func kasValidity() throws {
        var passed = 0, failed = 0
        for record in try CAVP.records("ECDH_KASValidity_ZZOnly.fax") where record.has("Result") {
            let curves: [Character: ECCurve] = ["A": .p192, "B": .p224, "C": .p256, "D": .p384, "E": .p521]
            let curve = try #require(curves[record.section.dropFirst(2).first ?? "?"])
            let expected = try #require(record["Result"]).hasPrefix("P")
            let z = try record.hex("Z")
            let ok: Bool
            do {
                let cavs = try ECPrivateKey(curve: curve, privateValue: SecureBytes(try record.hex("dsCAVS")),
                                            x: try record.hex("QsCAVSx"), y: try record.hex("QsCAVSy"))
                let cavsPublic = try ECPublicKey(curve: curve, x: try record.hex("QsCAVSx"), y: try record.hex("QsCAVSy"))
                let iut = try ECPrivateKey(curve: curve, privateValue: SecureBytes(try record.hex("dsIUT")),
                                           x: try record.hex("QsIUTx"), y: try record.hex("QsIUTy"))
                let iutPublic = try ECPublicKey(curve: curve, x: try record.hex("QsIUTx"), y: try record.hex("QsIUTy"))
                let a = try iut.sharedSecret(with: cavsPublic).unsafeBytes
                let b = try cavs.sharedSecret(with: iutPublic).unsafeBytes
                #expect(a == b, "line \(record.line): the two sides disagree")
                #expect(a.count == curve.byteCount)
                ok = a == z
            } catch is CryptoError {
                ok = false
            }
            #expect(ok == expected, "line \(record.line): \(record["Result"] ?? "")")
            if expected { passed += 1 } else { failed += 1 }
        }
        #expect(passed == 90 && failed == 60)
    }

    @Test func generatedPairsAgreeAndCurvesMustMatch() throws {
        for curve in ECCurve.allCases {
            let a = try ECPrivateKey(generating: curve), b = try ECPrivateKey(generating: curve)
            let ab = try a.sharedSecret(with: b.publicKey).unsafeBytes
            #expect(ab == (try b.sharedSecret(with: a.publicKey).unsafeBytes))
            #expect(ab != (try a.sharedSecret(with: try ECPrivateKey(generating: curve).publicKey).unsafeBytes))
        }
        let p256 = try ECPrivateKey(generating: .p256), p384 = try ECPrivateKey(generating: .p384)
        #expect(throws: CryptoError(.invalidKey, "")) { try p256.sharedSecret(with: p384.publicKey) }
    }
}

import Testing
import TEECrypto

/// Finite-field DH: RFC 5114 appendix A's groups and exchanges (Tests/Vectors/DH_RFC5114.txt),
/// generated keys agreeing both ways, GP's X_BITS, and the refusals (small-subgroup peer
/// values, a private value outside the group, a base outside (1, p − 1)).
@Suite struct DiffieHellmanTests {
    @Test func rfc5114() throws {
        var checked = 0
        for r in try CAVP.records("DH_RFC5114.txt", mergingFrom: "P") where r.has("Z") {
            let p = try r.hex("P"), q = try r.hex("Q"), g = try r.hex("G")
            let iut = try DiffieHellmanKey(prime: p, base: g, subprime: q, privateValue: SecureBytes(try r.hex("XstatIUT")), publicValue: try r.hex("YstatIUT"))
            let cavs = try DiffieHellmanKey(prime: p, base: g, subprime: q, privateValue: SecureBytes(try r.hex("XstatCAVS")), publicValue: try r.hex("YstatCAVS"))
            let z = Array(try r.hex("Z").drop { $0 == 0 })
            #expect(try iut.sharedSecret(with: try r.hex("YstatCAVS")).unsafeBytes == z, "line \(r.line)")
            #expect(try cavs.sharedSecret(with: try r.hex("YstatIUT")).unsafeBytes == z, "line \(r.line)")
            checked += 1
        }
        #expect(checked == 3)
    }

    @Test func generatedKeysAgreeAndRefusals() throws {
        let r = try #require(try CAVP.records("DH_RFC5114.txt", mergingFrom: "P").first { $0.has("P") })
        let p = try r.hex("P"), g = try r.hex("G"), q = try r.hex("Q")
        let a = try DiffieHellmanKey(generatingIn: p, base: g, privateBits: 160)
        let b = try DiffieHellmanKey(generatingIn: p, base: g, subprime: q)
        #expect(a.bitCount == 1024)
        #expect(a.privateValue.unsafeBytes.drop { $0 == 0 }.count == 20 && a.privateValue.unsafeBytes.first! & 0x80 != 0, "exactly 160 bits")
        #expect(try a.sharedSecret(with: b.publicValue).unsafeBytes == b.sharedSecret(with: a.publicValue).unsafeBytes)
        var pMinusOne = p
        pMinusOne[pMinusOne.count - 1] -= 1
        for peer in [[0], [1], pMinusOne, p] {
            #expect(throws: CryptoError(.invalidKey, "")) { try a.sharedSecret(with: peer) }
        }
        #expect(throws: CryptoError(.invalidKey, "")) { try DiffieHellmanKey(prime: p, base: [1], privateValue: SecureBytes([5]), publicValue: [2]) }
        #expect(throws: CryptoError(.invalidKey, "")) { try DiffieHellmanKey(prime: p, base: g, subprime: q, privateValue: SecureBytes(q), publicValue: [2]) }
        #expect(throws: CryptoError(.invalidKey, "")) { try DiffieHellmanKey(prime: [0xFF, 0xFE], base: [2], privateValue: SecureBytes([5]), publicValue: [2]) }
    }
}

import CMbedTLSBaseline
import TEECrypto

/// SHA-256 over 64 MiB, RSA-2048 PKCS#1 v1.5 and ECDSA P-256 verification: TEECrypto against
/// the same mbedTLS calls made from C. Ratio = our throughput / baseline throughput.
func runCryptoBenchmarks() throws {
    print("crypto: TEECrypto vs direct mbedTLS 2.28 calls (best of several alternating rounds)")

    header("SHA-256, 64 MiB buffer")
    let size = 64 << 20
    let buffer = try RandomGenerator.shared.bytes(count: size)
    var sink: UInt8 = 0
    let sha = compare(rounds: 5, ours: {
        sink ^= buffer.withUnsafeBytes { Digest.hash(.sha256, buffer: $0) }.bytes[0]
    }, baseline: {
        var out = [UInt8](repeating: 0, count: 32)
        let ret = buffer.withUnsafeBufferPointer { baseline_sha256($0.baseAddress, $0.count, &out) }
        precondition(ret == 0)
        sink ^= out[0]
    })
    let mib = Double(size) / Double(1 << 20)
    row("throughput", "MiB/s", ours: mib / sha.ours, baseline: mib / sha.baseline)

    let digest = Digest.hash(.sha256, Array("rproc-tee benchmark message".utf8))

    header("RSA-2048 PKCS#1 v1.5 SHA-256 verify")
    let rsa = try RSAPrivateKey(generatingBits: 2048)
    let rsaSig = try rsa.signature(for: digest, padding: .pkcs1v15)
    let rsaPublic = rsa.publicKey
    let rsaBaseline = try baselineKey(rsaPublic.pemRepresentation)
    defer { baseline_pk_free(rsaBaseline) }
    let rsaCount = 2000
    let rsaTimes = try compare(rounds: 5, ours: {
        for _ in 0..<rsaCount { try rsaPublic.verify(signature: rsaSig, for: digest, padding: .pkcs1v15) }
    }, baseline: {
        for _ in 0..<rsaCount {
            let ret = baseline_rsa_verify(rsaBaseline, digest.bytes, rsaSig, rsaSig.count)
            precondition(ret == 0)
        }
    })
    row("verifications", "per s", ours: Double(rsaCount) / rsaTimes.ours, baseline: Double(rsaCount) / rsaTimes.baseline)

    header("ECDSA P-256 SHA-256 verify (raw r‖s)")
    let ec = try ECPrivateKey(generating: .p256)
    let ecSig = try ec.signature(for: digest)
    let ecPublic = ec.publicKey
    let raw = ecSig.rawRepresentation
    let ecBaseline = try baselineKey(ecPublic.pemRepresentation)
    defer { baseline_pk_free(ecBaseline) }
    let ecCount = 300
    let ecTimes = try compare(rounds: 5, ours: {
        for _ in 0..<ecCount {
            try ecPublic.verify(signature: try ECDSASignature(rawRepresentation: raw, curve: .p256), for: digest)
        }
    }, baseline: {
        for _ in 0..<ecCount {
            let ret = baseline_ecdsa_verify(ecBaseline, digest.bytes, digest.bytes.count, raw, raw.count)
            precondition(ret == 0)
        }
    })
    row("verifications", "per s", ours: Double(ecCount) / ecTimes.ours, baseline: Double(ecCount) / ecTimes.baseline)
    if sink == 0x5A { print("") }  // keeps the digests observable
}

private func baselineKey(_ pem: String) throws -> UnsafeMutableRawPointer {
    let bytes = Array(pem.utf8) + [0]
    guard let pk = baseline_pk_new(bytes, bytes.count) else { throw CryptoError(.malformedKey, "baseline could not parse the key") }
    return pk
}

import CMbedTLSBaseline
import TEECrypto

/// Digests over 64 MiB with both backends, SHA-256 against the fastest C, RSA-2048 PKCS#1 v1.5 and ECDSA P-256 verification: TEECrypto against
/// the same mbedTLS calls made from C. Ratio = our throughput / baseline throughput.
func runCryptoBenchmarks() throws {
    print("crypto: TEECrypto vs direct mbedTLS 2.28 / OpenSSL 3.0 calls (best of several alternating rounds)")

    let size = 64 << 20
    let buffer = try RandomGenerator.shared.bytes(count: size)
    var sink: UInt8 = 0
    let mib = Double(size) / Double(1 << 20)

    // Where both backends implement a digest, both run here; the faster one serves
    // (DigestAlgorithm.servingBackend). Each against the same library called from C.
    print("\ndigests over 64 MiB, both backends (TEECrypto → library; the same library from C)")
    print(pad("", 12) + pad("mbedTLS", 16) + pad("mbedTLS from C", 18) + pad("OpenSSL", 16) + pad("OpenSSL from C", 18) + pad("OpenSSL / mbedTLS", 18) + "serves")
    for algorithm in DigestAlgorithm.allCases {
        let cName = algorithm.rawValue.replacingOccurrences(of: "-", with: "")
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
        defer { out.deallocate() }
        var figures: [CryptoBackend: (ours: Double, c: Double)] = [:]
        for backend in algorithm.backends {
            let cDigest = backend == .openSSL ? baseline_openssl_digest : baseline_mbedtls_digest
            let name = backend == .openSSL ? algorithm.rawValue : cName
            let t = compare(rounds: 3, ours: {
                sink ^= buffer.withUnsafeBytes { Digest.hash(algorithm, buffer: $0, backend: backend) }.bytes[0]
            }, baseline: {
                let ret = buffer.withUnsafeBufferPointer { cDigest(name, $0.baseAddress, $0.count, out) }
                precondition(ret == 0, "\(name) from C")
                sink ^= out[0]
            })
            figures[backend] = (mib / t.ours, mib / t.baseline)
        }
        let m = figures[.mbedTLS], o = figures[.openSSL]!
        print(pad(algorithm.rawValue, 12)
              + pad(m.map { format($0.ours) + " MiB/s" } ?? "—", 16) + pad(m.map { format($0.c) + " MiB/s" } ?? "—", 18)
              + pad(format(o.ours) + " MiB/s", 16) + pad(format(o.c) + " MiB/s", 18)
              + pad(m.map { format(o.ours / $0.ours, digits: 2) + "×" } ?? "(only OpenSSL)", 18) + algorithm.servingBackend.rawValue)
    }

    // MACs and AEAD where both backends implement them (16 MiB).
    let mac16 = Array(buffer.prefix(16 << 20))
    let mib16 = 16.0
    let key32 = SecureBytes(Array(buffer.prefix(32)))
    print("\nMACs and AES-GCM over 16 MiB, both backends (TEECrypto; the serving one first)")
    print(pad("", 22) + pad("OpenSSL", 16) + pad("mbedTLS", 16) + "OpenSSL / mbedTLS")
    for (name, algorithm) in [("HMAC-SHA-256", MACAlgorithm.hmac(.sha256)), ("HMAC-SHA-512", .hmac(.sha512)), ("AES-256-CMAC", .cmac(.aes))] {
        let t = try compare(rounds: 3, ours: {
            let m = try MACComputation(algorithm, key: key32, backend: .openSSL)
            m.update(mac16)
            sink ^= try m.finalize()[0]
        }, baseline: {
            let m = try MACComputation(algorithm, key: key32, backend: .mbedTLS)
            m.update(mac16)
            sink ^= try m.finalize()[0]
        })
        print(pad(name, 22) + pad(format(mib16 / t.ours) + " MiB/s", 16) + pad(format(mib16 / t.baseline) + " MiB/s", 16) + format(t.baseline / t.ours, digits: 2) + "×")
    }
    let iv = Array(buffer.prefix(12))
    let gcm = try compare(rounds: 3, ours: {
        let e = try AEComputation(.gcm, direction: .encrypt, key: key32, nonce: iv, tagLength: 16)
        sink ^= try e.finalizeEncryption(mac16).tag[0]
    }, baseline: {
        sink ^= try AESGCM.seal(mac16, key: key32, iv: iv).tag[0]
    })
    print(pad("AES-256-GCM encrypt", 22) + pad(format(mib16 / gcm.ours) + " MiB/s", 16) + pad(format(mib16 / gcm.baseline) + " MiB/s", 16) + format(gcm.baseline / gcm.ours, digits: 2) + "×")

    header("SHA-256, 64 MiB buffer: TEECrypto (serving backend) vs the fastest C", baseline: "OpenSSL from C")
    let sha = compare(rounds: 5, ours: {
        sink ^= buffer.withUnsafeBytes { Digest.hash(.sha256, buffer: $0) }.bytes[0]
    }, baseline: {
        var out = [UInt8](repeating: 0, count: 32)
        let ret = buffer.withUnsafeBufferPointer { baseline_openssl_digest("SHA256", $0.baseAddress, $0.count, &out) }
        precondition(ret == 0)
        sink ^= out[0]
    })
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

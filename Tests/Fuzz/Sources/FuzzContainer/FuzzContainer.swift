import FirmwareImage
import TEECrypto

/// The harness trusts Keys/dev-ecdsa-p256.pub.pem. The verifier runs every check after the signature check even
/// when the signature fails (it reports all failures), so mutated images reach the hash-table,
/// ELF, placement, resource-table and manifest code; inputs signed by this key (the committed
/// seeds are) pass the signature too and exercise the success path.
private let harnessTrust: TrustedKeys = {
    let pem = Array("""
    -----BEGIN PUBLIC KEY-----
    MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEH9SuUZ3h2ueQnlyJijTsxyxGZzdE
    GXQELGrVcDSxkZak6pkAvH7Uwlj24OR34pDfKiuzcZGcjqyYwRTaFtKNMw==
    -----END PUBLIC KEY-----

    """.utf8)
    return TrustedKeys(keys: [try! PublicKey(pemOrDER: pem)])
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContainer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? ImageVerifier.report(bytes, trustedKeys: harnessTrust, policy: .firmwareAnd64)
    return 0
}

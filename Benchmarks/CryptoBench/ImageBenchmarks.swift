import CMbedTLSBaseline
import FirmwareImage
import TEECrypto

/// Verifying a 32 MiB signed image (signature + every segment hash) against one SHA-256 pass
/// over the same bytes in C. Ratio = baseline time / our time (1.0 = no overhead); target ≥ 0.9.
func runImageBenchmarks() throws {
    print("image: full verification of a 32 MiB signed image vs one SHA-256 pass in C (OpenSSL, the fastest)")
    let payload = 32 << 20
    let elf = try syntheticELF(payloadSize: payload)
    let key = try PrivateKey(generating: .ecdsaP256)
    let signed = try ImageSigner(images: [elf], key: key).sign()
    let trust = TrustedKeys(keys: [key.publicKey])
    var segments = 0
    let times = try compare(rounds: 5, ours: {
        let verified = try ImageVerifier.verify(signed, trustedKeys: trust)
        segments = verified.metadata.hashTable.count
    }, baseline: {
        var out = [UInt8](repeating: 0, count: 32)
        let ret = signed.withUnsafeBufferPointer { baseline_openssl_digest("SHA256", $0.baseAddress, $0.count, &out) }
        precondition(ret == 0)
    })
    let mib = Double(signed.count) / Double(1 << 20)
    header("verify \(format(mib)) MiB, \(segments) hash-table entries, vs one SHA-256 pass (OpenSSL) in C", baseline: "OpenSSL from C")
    row("throughput", "MiB/s", ours: mib / times.ours, baseline: mib / times.baseline, target: 0.9)
    print("  (ours: \(format(times.ours * 1000)) ms per verification; baseline: \(format(times.baseline * 1000)) ms per SHA-256 pass)")
}

/// An ELF32 Arm executable: a 64-byte code segment holding the entry point, then one data
/// segment of `payloadSize` random bytes.
func syntheticELF(payloadSize: Int) throws -> [UInt8] {
    var out: [UInt8] = []
    func u16(_ v: UInt16) { out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8)) }
    func u32(_ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    let codeOffset: UInt32 = 52 + 2 * 32, codeSize: UInt32 = 64
    let dataOffset = codeOffset + codeSize
    out += [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1] + [UInt8](repeating: 0, count: 9)
    u16(2); u16(40); u32(1); u32(0x1); u32(52); u32(0); u32(0x0500_0000)
    u16(52); u16(32); u16(2); u16(40); u16(0); u16(0)
    for (offset, address, size, flags) in [(codeOffset, UInt32(0), codeSize, UInt32(5)), (dataOffset, UInt32(0x1000_0000), UInt32(payloadSize), UInt32(6))] {
        u32(1); u32(offset); u32(address); u32(address); u32(size); u32(size); u32(flags); u32(8)
    }
    out += [UInt8](repeating: 0xBF, count: Int(codeSize))
    out += try RandomGenerator.shared.bytes(count: payloadSize)
    return out
}

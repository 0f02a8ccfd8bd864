import FirmwareImage
import TEECrypto

/// OP-TEE's signed TA file: the layout reader (the encrypted TA's header too, and its
/// decryption), then the hash and signature checks with the
/// key the seeds are signed with, then the native-TA ELF reader on the payload (whether the
/// signature held or not: the fuzzer cannot forge one, and the reader must hold on any bytes).
/// The key:
/// key the seeds are signed with — Tests/Fixtures/optee-sign/vector-rsa2048.pub.pem, a
/// throwaway key made for the test vectors — so the fuzzer starts from files that verify.
private let key = try! PublicKey(pemOrDER: Array(#"""
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzic5rG4iiaF6UT0fQI4k
Npg2RMso14tvDfOZiiXwMUkh9eckPo4Z0tXBAvGaYPcfPLUNMj/WjoG5CfEREMaO
eLLlAOo/JxPjQDpG1jWkyTJfX8lboi6sQ54YWBLHoKOkLEYwCxcztR0o1UefU5Et
uSSWmufAHmzpf3osuL5Y3rYQvQoujqvVLMinaY8yiAwmDZyoS2ymZjnZhzY5flij
yR9EDkx52BuKCCDOdO25wDvRLtFeUR+NrxNmTp3uk9EQScW9V95Zaq5mc/NBkx0T
aZ0YS8UL3Mj7tQcvmbnKLsG58sF1KlnkBvSAXjebomCz8kvOCipx2gFU79rInxzz
tQIDAQAB
-----END PUBLIC KEY-----
"""#.utf8))

/// The TA encryption key the encrypted seed (`encrypted.ta`) is encrypted with: 32 × 0x42.
private let encryptionKey = SecureBytes([UInt8](repeating: 0x42, count: 32))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSignedTA(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if var ta = try? SignedTA(bytes: bytes) {
        // An encrypted TA: decrypted (the tag fails for any change), then as any other.
        if ta.encryption != nil {
            guard let clear = try? ta.decrypted(with: encryptionKey) else { return 0 }
            ta = clear
        }
        _ = try? ta.verify(uuid: ta.uuid ?? [UInt8](repeating: 0, count: 16), keys: [key])
        _ = try? NativeTAELF(bytes: ta.elf, requireHead: true)
        _ = try? NativeTAELF(bytes: ta.elf, requireHead: false)
    }
    return 0
}
